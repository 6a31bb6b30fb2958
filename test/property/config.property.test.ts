/**
 * Properties of config loading (src/config): any config.json, any GTD_* environment and any flag text
 * either loads into a well-formed Config or is refused with the project's CONFIG GtdError naming where;
 * bounds are enforced by key; and the layers keep their precedence (defaults < file < env < flags).
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadConfig, type Config } from "../../src/config/index.ts";
import { envName, HEARTBEAT_RANGE, SETTING_KEYS, SETTINGS, TIMER_RANGE, type Setting, type SettingKey } from "../../src/config/settings.ts";
import { formatGoDuration } from "../../src/duration.ts";
import { townPaths } from "../../src/town.ts";
import { anyString, component, propertyTempDir, RUNS } from "./arbitraries.ts";
import { DAY, expectConfigError, expectWellFormed, nest, settingValue } from "./config-arbitraries.ts";

const root = propertyTempDir("gtd-prop-config-");
const paths = townPaths(root);
mkdirSync(paths.daemonDir, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const knownKey = fc.constantFrom(...SETTING_KEYS);

/** Known keys the file does not have: typos, sections, and names that are not settings at all. */
const unknownKey = fc.oneof(
  fc.constantFrom("heartbeats", "backoff.bas", "deacon.sessions", "log.max_size", "timeouts", "x", ""),
  // Inside a section these are unknown keys like any other. At the top level (`{"constructor": 1}`) they
  // crash the loader today with a TypeError (reported under issue 7, class 5); they join with the fix.
  fc.constantFrom("backoff.__proto__", "backoff.constructor", "backoff.toString"),
  anyString.filter((k) => !(k in Object.prototype)),
);

const configObject = fc
  .tuple(fc.array(fc.tuple(knownKey, settingValue), { maxLength: 5 }), fc.array(fc.tuple(unknownKey, settingValue), { maxLength: 1 }))
  .map(([known, unknown]) => nest([...known, ...unknown]));

/** What config.json holds: absent, a config-shaped object, any JSON value, or text that is not JSON. */
const fileContent = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 6, arbitrary: configObject.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: anyString },
);

const envValueText = fc.oneof(settingValue.map((v) => (typeof v === "string" ? v : JSON.stringify(v))), anyString);
const envName_ = fc.oneof(
  { weight: 4, arbitrary: knownKey.map(envName) },
  { weight: 1, arbitrary: fc.constantFrom("GTD_", "GTD_HEARTBEATS", "GTD_BACKOFF", "PATH", "HOME", "gtd_heartbeat") },
);
const envAssignments = fc.dictionary(envName_, envValueText, { maxKeys: 3 });
const flagAssignments = fc.dictionary(knownKey, envValueText, { maxKeys: 2 });

function writeFile(content: string | null): void {
  if (content === null) rmSync(paths.configFile, { force: true });
  else writeFileSync(paths.configFile, content);
}

/** For a ranged key that a combination check pairs with another: that other key's env at the bound that frees it. */
const PARTNER_AT_BOUND: Partial<Record<SettingKey, Record<string, string>>> = {
  "supervise.restart.base": { [envName("supervise.restart.max")]: formatGoDuration(TIMER_RANGE.maxMs) },
  "supervise.restart.max": { [envName("supervise.restart.base")]: "1s" },
};

describe("config loading on any input", () => {
  test("any file, environment and flags: a well-formed Config, or a CONFIG GtdError naming where", () => {
    fc.assert(
      fc.property(fileContent, envAssignments, flagAssignments, (file, env, flags) => {
        writeFile(file);
        let loaded: Config;
        try {
          loaded = loadConfig({ configFile: paths.configFile, env, flags }).config;
        } catch (err) {
          const e = expectConfigError(err);
          const named = [paths.configFile, ...Object.keys(env), ...Object.keys(flags).map((k) => `--${k}`), ...SETTING_KEYS];
          expect(named.some((n) => e.message.includes(n)) || /unknown environment variable/.test(e.message)).toBe(true);
          return;
        }
        expectWellFormed(loaded);
      }),
      { numRuns: RUNS.io },
    );
  });

  test("a refused value names its key and where it came from (file, variable or flag)", () => {
    fc.assert(
      fc.property(knownKey, settingValue, fc.constantFrom("file", "env", "flag"), (key, value, where) => {
        const text = typeof value === "string" ? value : JSON.stringify(value);
        writeFile(where === "file" ? JSON.stringify(nest([[key, value]])) : null);
        const env = where === "env" ? { [envName(key)]: text } : {};
        const flags = where === "flag" ? { [key]: text } : {};
        try {
          loadConfig({ configFile: paths.configFile, env, flags });
        } catch (err) {
          const e = expectConfigError(err);
          const source = where === "file" ? paths.configFile : where === "env" ? envName(key) : `--${key}`;
          expect(e.message).toContain(source);
          // The variable's name is the key spelled for the environment; a value that is not even JSON
          // (an argv setting) is refused naming the variable alone.
          if (where !== "env" || !e.message.startsWith(`${envName(key)}: `)) expect(e.message).toContain(key);
        }
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("durations outside a timer's bounds are refused naming the key; inside them, accepted", () => {
    const ranged = SETTING_KEYS.filter((k) => "range" in SETTINGS[k]);
    expect(ranged).toContain("heartbeat");
    const outside = fc.oneof(fc.integer({ min: 0, max: TIMER_RANGE.minMs - 1 }), fc.integer({ min: TIMER_RANGE.maxMs + 1, max: 1000 * DAY }));
    const inside = fc.integer({ min: TIMER_RANGE.minMs, max: TIMER_RANGE.maxMs });
    fc.assert(
      fc.property(fc.constantFrom(...ranged), fc.boolean(), fc.oneof(outside, inside), fc.boolean(), (key, asMs, ms, viaEnv) => {
        writeFile(null);
        const text = asMs ? `${ms}ms` : formatGoDuration(ms);
        // A key checked against a partner (base ≤ max) gets the partner at its far bound, so only its own range decides.
        const partner = PARTNER_AT_BOUND[key] ?? {};
        const input = viaEnv ? { env: { [envName(key)]: text, ...partner } } : { env: partner, flags: { [key]: text } };
        // Each key's own bounds: the heartbeat starts at 1s, the timeouts at 100ms.
        const { minMs, maxMs } = (SETTINGS[key] as Setting).range!;
        const ok = ms >= minMs && ms <= maxMs;
        if (ok) {
          expect(loadConfig({ configFile: paths.configFile, ...input }).layers.values[key]).toBe(text);
          return;
        }
        let caught: unknown = null;
        try {
          loadConfig({ configFile: paths.configFile, ...input });
        } catch (err) {
          caught = err;
        }
        expect(expectConfigError(caught).message).toContain(`${key} = "${text}" is not valid`);
      }),
      { numRuns: RUNS.pure },
    );
  });
});

/** Settings whose values do not constrain each other, each with a generator of valid values in all three spellings. */
type Layerable = { file: unknown; text: string; value: unknown };
const LAYERABLE: Partial<Record<SettingKey, fc.Arbitrary<Layerable>>> = {
  heartbeat: fc.integer({ min: HEARTBEAT_RANGE.minMs, max: HEARTBEAT_RANGE.maxMs }).map((ms) => {
    const t = formatGoDuration(ms);
    return { file: t, text: t, value: t };
  }),
  "timeouts.git": fc.integer({ min: 100, max: DAY }).map((ms) => ({ file: `${ms}ms`, text: `${ms}ms`, value: `${ms}ms` })),
  "poke.mayor": fc.tuple(fc.boolean(), fc.boolean()).map(([b, digit]) => ({ file: b, text: digit ? (b ? "1" : "0") : String(b), value: b })),
  "log.files": fc.integer({ min: 1, max: 1000 }).map((n) => ({ file: n, text: String(n), value: n })),
  "backoff.factor": fc.integer({ min: 100, max: 1000 }).map((n) => ({ file: n / 100, text: (n / 100).toString(), value: n / 100 })),
  "backoff.strategy": fc.constantFrom("fixed", "geometric", "exponential").map((s) => ({ file: s, text: s, value: s })),
  "deacon.session": component(64).map((s) => ({ file: s, text: s, value: s })),
  "mailbox.inbox": fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 }).map((a) => ({ file: a, text: JSON.stringify(a), value: a })),
};
const layerableKeys = Object.keys(LAYERABLE) as SettingKey[];
const assignment = fc.constantFrom(...layerableKeys).chain((key) =>
  fc.record({
    key: fc.constant(key),
    file: fc.option(LAYERABLE[key]!, { nil: undefined }),
    env: fc.option(LAYERABLE[key]!, { nil: undefined }),
    flag: fc.option(LAYERABLE[key]!, { nil: undefined }),
  }),
);

describe("layering", () => {
  test("for random assignments to file, environment and flags, the highest layer wins and is named as the source", () => {
    fc.assert(
      fc.property(fc.uniqueArray(assignment, { selector: (a) => a.key, maxLength: layerableKeys.length }), (assignments) => {
        const fileEntries: Array<[string, unknown]> = [];
        const env: Record<string, string> = {};
        const flags: Partial<Record<SettingKey, string>> = {};
        for (const a of assignments) {
          if (a.file) fileEntries.push([a.key, a.file.file]);
          if (a.env) env[envName(a.key)] = a.env.text;
          if (a.flag) flags[a.key] = a.flag.text;
        }
        writeFile(fileEntries.length ? JSON.stringify(nest(fileEntries)) : null);
        const { values, sources } = loadConfig({ configFile: paths.configFile, env, flags }).layers;
        const assigned = new Map(assignments.map((a) => [a.key, a]));
        for (const key of SETTING_KEYS) {
          const a = assigned.get(key);
          const [value, source] = a?.flag
            ? [a.flag.value, `flag --${key}`]
            : a?.env
              ? [a.env.value, `env ${envName(key)}`]
              : a?.file
                ? [a.file.value, "config.json"]
                : [SETTINGS[key].default, "default"];
          expect(values[key]).toEqual(value);
          expect(sources[key] as string).toBe(source);
        }
      }),
      { numRuns: RUNS.io },
    );
  });
});
