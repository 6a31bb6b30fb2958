/** Generators and checks shared by the config and duration properties. */
import { expect } from "bun:test";
import fc from "fast-check";
import type { Config } from "../../src/config/index.ts";
import { TIMER_RANGE } from "../../src/config/settings.ts";
import { formatGoDuration, parseDuration } from "../../src/duration.ts";
import { GtdError } from "../../src/errors.ts";
import { nearIdentity } from "./arbitraries.ts";

export const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const unit = fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>));
export const DAY = 86_400_000;

/** Duration text as people write it (`5m`, `1h30m`, `1.5s`) or as gtd prints it (`7m30s`). */
export const durationText = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 100_000 }), unit).map(([n, u]) => `${n}${u}`),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 999 }), unit), { minLength: 1, maxLength: 4 }).map((ps) => ps.map(([n, u]) => `${n}${u}`).join("")),
  fc.tuple(fc.double({ min: 0, max: 1000, noNaN: true }), unit).map(([n, u]) => `${n.toFixed(3)}${u}`),
  fc.integer({ min: 0, max: 40 * DAY }).map(formatGoDuration),
);

// A 5/6-field cron pattern from the grammar croner documents: *, */n, a, a-b, a-b/n, and lists of them.
export function cronField(min: number, max: number, maxStep = max) {
  const n = fc.integer({ min, max });
  // croner: a step may not exceed the field's largest value (7 for the weekday, where 7 is Sunday too).
  const step = fc.integer({ min: 1, max: maxStep });
  const item = fc.oneof(
    fc.constant("*"),
    step.map((s) => `*/${s}`),
    n.map(String),
    fc.tuple(n, n).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.tuple(n, n, step).map(([a, b, s]) => `${Math.min(a, b)}-${Math.max(a, b)}/${s}`),
  );
  return fc.array(item, { minLength: 1, maxLength: 3 }).map((xs) => xs.join(","));
}
export const cronPattern = fc
  .tuple(fc.option(cronField(0, 59), { nil: undefined }), cronField(0, 59), cronField(0, 23), cronField(1, 31), cronField(1, 12), cronField(0, 6, 7))
  .map(([sec, ...five]) => [...(sec === undefined ? [] : [sec]), ...five].join(" "));

/** Any value a setting might be given: well-formed for some kind, wrong for others, or any JSON at all. */
export const settingValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  durationText,
  cronPattern,
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("fixed", "geometric", "exponential", "10MB", "512KiB", "0B", "1.5", "true", "0"),
  nearIdentity,
  fc.array(fc.oneof(fc.string(), fc.constantFrom("bd", "{id}", "")), { maxLength: 4 }),
);
/** `{a.b: v}` entries as the nested object config.json holds (later entries win, as in JSON). */
export function nest(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    const parts = key.split(".");
    let node = out;
    for (const p of parts.slice(0, -1)) {
      const next = Object.hasOwn(node, p) ? node[p] : undefined;
      if (typeof next !== "object" || next === null || Array.isArray(next)) Object.defineProperty(node, p, { value: {}, enumerable: true, writable: true, configurable: true });
      node = node[p] as Record<string, unknown>;
    }
    Object.defineProperty(node, parts.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The one error config loading may raise: CONFIG, one line, bounded, naming a file, a key or a variable. */
export function expectConfigError(err: unknown): GtdError {
  if (!(err instanceof GtdError)) throw new Error(`expected a GtdError, got ${String(err)}`, { cause: err });
  expect(err.code).toBe("CONFIG");
  expect(err.message).not.toMatch(/[\n\r]/);
  expect(err.message.length).toBeLessThanOrEqual(600);
  return err;
}

/** The contract of a loaded Config, checked independently of the loader. */
export function expectWellFormed(c: Config): void {
  const ms = [c.backoff.baseMs, c.backoff.maxMs, c.slotMaxAgeMs, c.freshness.freshMs, c.freshness.veryStaleMs, c.freshness.futureSkewMs, c.requests.maxAgeMs];
  const timers = [c.timeouts.tmuxMs, c.timeouts.mailboxMs, c.timeouts.gitMs, c.timeouts.stopMs];
  for (const x of [...ms, ...timers]) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThanOrEqual(0);
  }
  for (const x of timers) {
    expect(x).toBeGreaterThanOrEqual(TIMER_RANGE.minMs);
    expect(x).toBeLessThanOrEqual(TIMER_RANGE.maxMs);
  }
  const every = parseDuration(c.heartbeat);
  if (every !== null) {
    expect(every).toBeGreaterThanOrEqual(TIMER_RANGE.minMs);
    expect(every).toBeLessThanOrEqual(TIMER_RANGE.maxMs);
  } else expect([5, 6]).toContain(c.heartbeat.trim().split(/\s+/).length);
  expect(c.backoff.baseMs).toBeLessThanOrEqual(c.backoff.maxMs);
  expect(c.freshness.freshMs).toBeLessThan(c.freshness.veryStaleMs);
  expect(c.backoff.factor).toBeGreaterThanOrEqual(1);
  for (const n of [c.requests.maxAttempts, c.log.files, c.log.maxBytes]) {
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
  }
  expect(c.deacon.session).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/);
  for (const argv of [c.deacon.command, c.agent.command, c.mailbox.inbox, c.mailbox.close, c.mailbox.send, ...(c.mailbox.sync ? [c.mailbox.sync] : [])]) {
    expect(argv.length).toBeGreaterThanOrEqual(1);
    expect(argv[0]).not.toBe("");
    for (const a of argv) expect(typeof a).toBe("string");
  }
}
