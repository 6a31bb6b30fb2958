/**
 * Bugs the property suite found, kept as properties so they stay fixed: config keys named like
 * Object.prototype members, durations that overflow to Infinity, and echoed input in duration errors.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import { envName, SETTING_KEYS, SETTINGS } from "../../src/config/settings.ts";
import { requireDuration } from "../../src/duration.ts";
import { GtdError } from "../../src/errors.ts";
import { emptyState, readState, serializeState, writeState } from "../../src/state.ts";
import { townPaths } from "../../src/town.ts";
import { anyString, propertyTempDir, RUNS } from "./arbitraries.ts";

const root = propertyTempDir("gtd-prop-pending-");
const paths = townPaths(root);
mkdirSync(paths.daemonDir, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("found by the properties", () => {
  test("config.json keys named like Object.prototype members are unknown keys (CONFIG error), not a TypeError", () => {
    fc.assert(
      fc.property(fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"), fc.jsonValue({ maxDepth: 1 }), (key, value) => {
        writeFileSync(paths.configFile, `{${JSON.stringify(key)}: ${JSON.stringify(value)}}`);
        let caught: unknown = null;
        try {
          loadConfig({ configFile: paths.configFile, env: {} });
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(GtdError);
        expect((caught as GtdError).message).toBe(`${paths.configFile}: unknown key ${JSON.stringify(key)}`);
      }),
      { numRuns: 1000 },
    );
  });

  test("a duration too large to represent is refused, never loaded as Infinity ms", () => {
    const durationKeys = SETTING_KEYS.filter((k) => SETTINGS[k].kind === "duration");
    rmSync(paths.configFile, { force: true });
    fc.assert(
      fc.property(fc.constantFrom(...durationKeys), fc.integer({ min: 302, max: 400 }), fc.constantFrom("ms", "s", "m", "h", "d"), (key, digits, unit) => {
        const text = `${"9".repeat(digits)}${unit}`;
        let ms: number[] = [];
        try {
          const c = loadConfig({ configFile: paths.configFile, env: { [envName(key)]: text } }).config;
          ms = [c.backoff.baseMs, c.backoff.maxMs, c.slotMaxAgeMs, c.freshness.freshMs, c.freshness.veryStaleMs, c.freshness.futureSkewMs, c.requests.maxAgeMs];
        } catch (err) {
          expect(err).toBeInstanceOf(GtdError);
          return;
        }
        for (const x of ms) expect(Number.isFinite(x)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  test("requireDuration's error is one line with the text cut short (echoed input)", () => {
    fc.assert(
      fc.property(anyString, (text) => {
        try {
          requireDuration(text, "--timeout");
        } catch (err) {
          expect((err as GtdError).message).not.toMatch(/[\u0000-\u001f]/);
          expect((err as GtdError).message.length).toBeLessThanOrEqual(200);
        }
      }),
      { numRuns: RUNS.pure },
    );
  });
});

describe("found by the properties: state.json", () => {
  const dir = join(root, "state");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "state.json");

  test("top-level extra keys `__proto__`, `constructor`, `prototype` survive writeState → readState", () => {
    fc.assert(
      fc.property(fc.constantFrom("__proto__", "constructor", "prototype"), fc.jsonValue({ maxDepth: 1 }), (key, value) => {
        const s = emptyState();
        Object.defineProperty(s.extra, key, { value, enumerable: true, writable: true, configurable: true });
        writeState(path, s);
        const back = readState(path, 0).state.extra;
        expect(Object.hasOwn(back, key)).toBe(true);
        expect(JSON.stringify(back[key])).toBe(JSON.stringify(value));
      }),
      { numRuns: 1000 },
    );
  });

  test("the original five keys come first in state.json, whatever the extra keys (even index-like ones such as \"0\")", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat().map(String), fc.string()), { maxLength: 4 }), (keys) => {
        const s = emptyState();
        for (const k of keys) Object.defineProperty(s.extra, k, { value: 1, enumerable: true, writable: true, configurable: true });
        // Keys in the order of the text (JSON.parse would put index-like keys first again).
        const text = serializeState(s);
        const order = [...text.matchAll(/^ {2}("(?:[^"\\]|\\.)*"): /gm)].map((m) => JSON.parse(m[1]!) as string);
        expect(order.slice(0, 5)).toEqual(["running", "pid", "started_at", "last_heartbeat", "heartbeat_count"]);
      }),
      { numRuns: 1000 },
    );
  });
});
