/**
 * Properties of durations and the heartbeat spec (src/duration.ts, the heartbeat setting checked by
 * src/schedule.ts with croner): format → parse round-trips, sums of terms parse to their sum,
 * nothing throws, and every cron pattern of croner's grammar is accepted.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, rmSync } from "node:fs";
import { loadEffectiveConfig } from "../../src/config/effective.ts";
import { Cron } from "croner";
import { HEARTBEAT_RANGE } from "../../src/config/settings.ts";
import { formatGoDuration, parseDuration, requireDuration } from "../../src/duration.ts";
import { GtdError } from "../../src/errors.ts";
import { townPaths } from "../../src/town.ts";
import { anyString, propertyTempDir, RUNS } from "./arbitraries.ts";
import { cronPattern, durationText, expectConfigError, expectWellFormed, unit, UNITS } from "./config-arbitraries.ts";

const root = propertyTempDir("gtd-prop-duration-");
const paths = townPaths(root);
mkdirSync(paths.daemonDir, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("durations", () => {
  test("format → parse round-trips every whole number of milliseconds", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 2 ** 47 })), (ms) => {
        expect(parseDuration(formatGoDuration(ms))).toBe(ms);
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("a sequence of number+unit terms (whitespace around) parses to their sum", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000 }), unit), { minLength: 1, maxLength: 5 }), fc.constantFrom("", " ", "\t"), (terms, pad) => {
        const text = pad + terms.map(([n, u]) => `${n}${u}`).join("") + pad;
        expect(parseDuration(text)).toBe(terms.reduce((sum, [n, u]) => sum + n * UNITS[u], 0));
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("parseDuration never throws: null or a whole number ≥ 0; requireDuration agrees, refusing with a CONFIG error naming the field", () => {
    fc.assert(
      fc.property(fc.oneof(anyString, durationText, durationText.map((d) => `${d}x`), durationText.map((d) => `-${d}`)), (text) => {
        const ms = parseDuration(text);
        if (ms !== null) {
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(requireDuration(text, "some.field")).toBe(ms);
          return;
        }
        let caught: unknown = null;
        try {
          requireDuration(text, "some.field");
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(GtdError);
        expect((caught as GtdError).code).toBe("CONFIG");
        expect((caught as GtdError).message).toStartWith("some.field: ");
      }),
      { numRuns: RUNS.pure },
    );
  });
});

/** croner itself, as the oracle: it takes the pattern as 5 or 6 fields and finds a next run. */
function croner(pattern: string): boolean {
  try {
    return new Cron(pattern, { paused: true, mode: "5-or-6-parts" }).nextRun() !== null;
  } catch {
    return false;
  }
}

describe("heartbeat spec", () => {
  test("every cron pattern of the documented grammar that ever runs is accepted, as is every duration within bounds", async () => {
    rmSync(paths.configFile, { force: true });
    await fc.assert(
      fc.asyncProperty(fc.oneof(cronPattern, fc.integer({ min: HEARTBEAT_RANGE.minMs, max: HEARTBEAT_RANGE.maxMs }).map(formatGoDuration)), async (spec) => {
        // A pattern with no next run (30 February) is refused: the daemon would heartbeat once, ever.
        fc.pre(parseDuration(spec) !== null || croner(spec));
        const loaded = await loadEffectiveConfig(paths, {}, { heartbeat: spec });
        expect(loaded.config.heartbeat).toBe(spec);
        expect(loaded.layers.sources.heartbeat).toBe("flag --heartbeat");
      }),
      { numRuns: RUNS.io },
    );
  });

  test("any heartbeat text: accepted as a bounded duration or a 5/6-field pattern croner takes and that runs, or refused naming heartbeat", async () => {
    rmSync(paths.configFile, { force: true });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyString, durationText, cronPattern, cronPattern.map((p) => `${p} *`), cronPattern.map((p) => p.replace(/\d+/, "99"))), async (spec) => {
        let loaded: Awaited<ReturnType<typeof loadEffectiveConfig>>;
        try {
          loaded = await loadEffectiveConfig(paths, { GTD_HEARTBEAT: spec });
        } catch (err) {
          expect(expectConfigError(err).message).toContain("heartbeat");
          return;
        }
        const every = parseDuration(spec);
        if (every === null) expect(croner(spec)).toBe(true);
        else expect(every >= HEARTBEAT_RANGE.minMs && every <= HEARTBEAT_RANGE.maxMs).toBe(true);
        expectWellFormed(loaded.config);
      }),
      { numRuns: RUNS.io },
    );
  });
});
