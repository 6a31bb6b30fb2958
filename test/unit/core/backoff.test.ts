import { describe, expect, test } from "bun:test";
import {
  fromJson,
  initialBackoff,
  pokeDueAtMs,
  recordActivity,
  recordMiss,
  recordPoke,
  shouldPoke,
  toJson,
  type BackoffState,
} from "../../../src/core/backoff.ts";
import type { BackoffConfig } from "../../../src/config/index.ts";
import { formatGoDuration } from "../../../src/duration.ts";
import { formatGoTime } from "../../../src/gotime.ts";

const MIN = 60_000;
const defaults: BackoffConfig = { strategy: "geometric", baseMs: 5 * MIN, maxMs: 30 * MIN, factor: 1.5 };

function intervals(cfg: BackoffConfig, misses: number): number[] {
  let s = initialBackoff(cfg);
  const out = [s.intervalMs];
  for (let i = 0; i < misses; i++) {
    s = recordMiss(s, cfg);
    out.push(s.intervalMs);
  }
  return out;
}

describe("recordMiss", () => {
  test("geometric default sequence matches the original's log lines", () => {
    expect(intervals(defaults, 7).map(formatGoDuration)).toEqual([
      "5m0s", "7m30s", "11m15s", "16m52.5s", "25m18.75s", "30m0s", "30m0s", "30m0s",
    ]);
  });

  test("geometric in the reference tests' units: 100 → 150 → 225 → 337.5ms", () => {
    const cfg: BackoffConfig = { strategy: "geometric", baseMs: 100, maxMs: 1000, factor: 1.5 };
    expect(intervals(cfg, 3)).toEqual([100, 150, 225, 337.5]);
  });

  test("geometric truncates to whole nanoseconds, as Go's Duration conversion", () => {
    const cfg: BackoffConfig = { strategy: "geometric", baseMs: 0.000001, maxMs: 1000, factor: 1.5 };
    // 1ns × 1.5 = 1.5ns → 1ns; the interval never grows (Go behaves the same).
    expect(intervals(cfg, 3).map((ms) => Math.round(ms * 1e6))).toEqual([1, 1, 1, 1]);
    const cfg2: BackoffConfig = { strategy: "geometric", baseMs: 0.000003, maxMs: 1000, factor: 1.5 };
    expect(intervals(cfg2, 3).map((ms) => Math.round(ms * 1e6))).toEqual([3, 4, 6, 9]);
  });

  test("exponential doubles and ignores the factor", () => {
    const cfg: BackoffConfig = { strategy: "exponential", baseMs: 100, maxMs: 1000, factor: 3 };
    expect(intervals(cfg, 4)).toEqual([100, 200, 400, 800, 1000]);
  });

  test("exponential with a 500ms max: ten misses give exactly 500ms", () => {
    const cfg: BackoffConfig = { strategy: "exponential", baseMs: 100, maxMs: 500, factor: 1.5 };
    expect(intervals(cfg, 10).at(-1)).toBe(500);
  });

  test("fixed never grows, but counts misses", () => {
    const cfg: BackoffConfig = { strategy: "fixed", baseMs: 100, maxMs: 1000, factor: 1.5 };
    let s = initialBackoff(cfg);
    for (let i = 0; i < 3; i++) s = recordMiss(s, cfg);
    expect(s.intervalMs).toBe(100);
    expect(s.misses).toBe(3);
  });

  test("the cap applies even when base exceeds max", () => {
    const cfg: BackoffConfig = { strategy: "fixed", baseMs: 2000, maxMs: 1000, factor: 1.5 };
    expect(recordMiss(initialBackoff(cfg), cfg).intervalMs).toBe(1000);
  });

  test("is immutable", () => {
    const s = initialBackoff(defaults);
    const t = recordMiss(s, defaults);
    expect(s.intervalMs).toBe(5 * MIN);
    expect(s.misses).toBe(0);
    expect(t).not.toBe(s);
  });
});

describe("recordActivity", () => {
  test("resets interval to base and misses to 0, keeps lastPoke", () => {
    let s = recordPoke(initialBackoff(defaults), 1000);
    for (let i = 0; i < 4; i++) s = recordMiss(s, defaults);
    expect(s.misses).toBe(4);
    const r = recordActivity(s, 5000, defaults);
    expect(r).toEqual({ intervalMs: 5 * MIN, lastPokeMs: 1000, misses: 0, lastActivityMs: 5000 });
    expect(s.misses).toBe(4);
  });
});

describe("shouldPoke", () => {
  test("never poked → due", () => {
    expect(shouldPoke(initialBackoff(defaults), 0)).toBe(true);
    expect(pokeDueAtMs(initialBackoff(defaults))).toBeNull();
  });

  test("due exactly when the interval has elapsed (>=), not a millisecond before", () => {
    const t0 = 1_700_000_000_000;
    const s = recordPoke(initialBackoff(defaults), t0);
    expect(shouldPoke(s, t0)).toBe(false);
    expect(shouldPoke(s, t0 + 5 * MIN - 1)).toBe(false);
    expect(shouldPoke(s, t0 + 5 * MIN)).toBe(true);
    expect(pokeDueAtMs(s)).toBe(t0 + 5 * MIN);
  });

  test("stamped before sending, the next tick is not skipped (defect 18)", () => {
    // Tick at t0: the clock is read, then ~150ms of sends. The next tick fires at t0 + 5m + 10ms.
    const t0 = 1_700_000_000_000;
    const s = recordPoke(initialBackoff(defaults), t0);
    expect(shouldPoke(s, t0 + 5 * MIN + 10)).toBe(true);
  });

  test("a last poke far in the future (clock stepped back) does not silence pokes", () => {
    const t0 = 1_700_000_000_000;
    const s = recordPoke(initialBackoff(defaults), t0 + 6 * MIN);
    expect(shouldPoke(s, t0)).toBe(true);
    const near = recordPoke(initialBackoff(defaults), t0 + 1000);
    expect(shouldPoke(near, t0)).toBe(false);
  });
});

describe("persistence", () => {
  test("round trip through JSON text", () => {
    const t0 = Date.UTC(2025, 11, 20, 10, 0, 0, 123);
    let deacon = recordPoke(initialBackoff(defaults), t0);
    for (let i = 0; i < 3; i++) deacon = recordMiss(deacon, defaults);
    const mayor: BackoffState = { intervalMs: 337.5, lastPokeMs: null, misses: 1, lastActivityMs: t0 - 1000 };
    const states = new Map([["deacon", deacon], ["mayor", mayor]]);
    const json = toJson(states);
    expect(json.deacon).toEqual({ interval_ms: 1_012_500, last_poke: formatGoTime(t0), misses: 3, last_activity: null });
    expect(json.mayor!.last_poke).toBeNull();
    const back = fromJson(JSON.parse(JSON.stringify({ backoff: json })).backoff);
    expect(back.invalid).toEqual([]);
    expect(back.states).toEqual(states);
  });

  test("agent ids named like Object's own properties (__proto__, constructor, ...) survive JSON text", () => {
    const ids = ["__proto__", "constructor", "hasOwnProperty", "toString"];
    const states = new Map(ids.map((id, i) => [id, { ...initialBackoff(defaults), misses: i }] as const));
    const text = JSON.stringify(toJson(states));
    expect(Object.keys(JSON.parse(text))).toEqual([...ids].sort());
    const back = fromJson(JSON.parse(text));
    expect(back.invalid).toEqual([]);
    expect(back.states).toEqual(states);
  });

  test("trims float noise from nanosecond arithmetic", () => {
    const s: BackoffState = { intervalMs: 0.1 + 0.2, lastPokeMs: null, misses: 0, lastActivityMs: null };
    expect(toJson(new Map([["a", s]])).a!.interval_ms).toBe(0.3);
  });

  test("invalid entries are dropped and reported, valid ones kept", () => {
    const good = { interval_ms: 300000, last_poke: "2025-12-20T10:00:00.5+05:30", misses: 0, last_activity: null, extra: 1 };
    const r = fromJson({
      deacon: good,
      a: { interval_ms: -1, last_poke: null, misses: 0 },
      b: { interval_ms: 1000, last_poke: "yesterday", misses: 0 },
      c: { interval_ms: 1000, last_poke: null, misses: 1.5 },
      d: "nope",
      e: { last_poke: null, misses: 0 },
    });
    expect([...r.states.keys()]).toEqual(["deacon"]);
    expect(r.states.get("deacon")!.lastPokeMs).toBe(Date.UTC(2025, 11, 20, 4, 30, 0, 500));
    expect(r.invalid).toHaveLength(5);
    expect(r.invalid.find((l) => l.startsWith("backoff.b.last_poke"))).toBeDefined();
  });

  test("zero time and missing time fields read as null", () => {
    const r = fromJson({ x: { interval_ms: 1000, last_poke: "0001-01-01T00:00:00Z", misses: 2 } });
    expect(r.states.get("x")).toEqual({ intervalMs: 1000, lastPokeMs: null, misses: 2, lastActivityMs: null });
  });

  test("a non-object value is reported; absent is empty", () => {
    expect(fromJson(undefined)).toEqual({ states: new Map(), invalid: [] });
    expect(fromJson(null)).toEqual({ states: new Map(), invalid: [] });
    expect(fromJson([1]).invalid).toHaveLength(1);
    expect(fromJson("x").invalid).toHaveLength(1);
  });

  test("with a config, stored intervals are clamped into [base, max]", () => {
    const r = fromJson(
      { a: { interval_ms: 10, last_poke: null, misses: 0 }, b: { interval_ms: 99 * MIN, last_poke: null, misses: 9 } },
      defaults,
    );
    expect(r.states.get("a")!.intervalMs).toBe(5 * MIN);
    expect(r.states.get("b")!.intervalMs).toBe(30 * MIN);
  });
});
