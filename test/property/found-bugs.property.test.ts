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

