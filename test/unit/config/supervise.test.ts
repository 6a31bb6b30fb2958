/**
 * supervise.*: the supervised agents (identities checked one by one, canonical, no duplicates; from the
 * environment a JSON array or a comma/space list), the supervision durations and counts with their
 * bounds, restart.base ≤ restart.max, and the layers.
 */
import { describe, expect, test } from "bun:test";
import { envName, SETTING_KEYS, SETTINGS, type Setting } from "../../../src/config/settings.ts";
import { configError, load, MIN, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

const AGENT_FORM = 'an agent is "deacon", "mayor", "<rig>-witness", "<rig>-refinery" or "<rig>-crew-<name>"';
const LIST_HINT = `expected a list of agent identities such as ["mayor", "gastown-witness"]; ${AGENT_FORM}`;

describe("supervise.agents: valid lists", () => {
  test("identities in any accepted form are kept in order, in canonical dash form", () => {
    writeConfig({ supervise: { agents: ["gastown/witness", "Mayor", "gastown-refinery", "Gas_Town/crew/Joe", "deacon", "x-crew-y-z"] } });
    const { config, layers } = load();
    expect(config.supervise.agents).toEqual(["gastown-witness", "mayor", "gastown-refinery", "Gas_Town-crew-Joe", "deacon", "x-crew-y-z"]);
    expect(layers.values["supervise.agents"]).toEqual(config.supervise.agents);
    expect(layers.sources["supervise.agents"]).toBe("config.json");
  });

  test("the word deacon in any case is the Deacon", () => {
    writeConfig({ supervise: { agents: ["DEACON"] } });
    expect(load().config.supervise.agents).toEqual(["deacon"]);
  });

  test.each([
    ['["mayor","gastown-witness"]', ["mayor", "gastown-witness"]],
    [' [ "mayor" ] ', ["mayor"]],
    ["[]", []],
    ["mayor,gastown-witness", ["mayor", "gastown-witness"]],
    ["mayor gastown-witness", ["mayor", "gastown-witness"]],
    [" mayor ,\tgastown/witness,, ", ["mayor", "gastown-witness"]],
    ["mayor", ["mayor"]],
    ["", []],
    ["  ", []],
  ])("GTD_SUPERVISE_AGENTS=%j", (text, agents) => {
    const { config, layers } = load({ GTD_SUPERVISE_AGENTS: text });
    expect(config.supervise.agents).toEqual(agents);
    expect(layers.sources["supervise.agents"]).toBe("env GTD_SUPERVISE_AGENTS");
  });

  test("an empty GTD_SUPERVISE_AGENTS turns off the file's list; a flag reads the same forms", () => {
    writeConfig({ supervise: { agents: ["mayor"] } });
    expect(load({ GTD_SUPERVISE_AGENTS: "" }).config.supervise.agents).toEqual([]);
    const { config, layers } = load({ GTD_SUPERVISE_AGENTS: "" }, { "supervise.agents": "gastown-witness,mayor" });
    expect(config.supervise.agents).toEqual(["gastown-witness", "mayor"]);
    expect(layers.sources["supervise.agents"]).toBe("flag --supervise.agents");
  });

  test("the Config's list is a copy: changing it does not change the layered value", () => {
    writeConfig({ supervise: { agents: ["mayor"] } });
    const { config, layers } = load();
    config.supervise.agents.push("x-witness");
    expect(layers.values["supervise.agents"]).toEqual(["mayor"]);
  });
});

describe("supervise.agents: a bad list or entry names where and the entry", () => {
  test.each([["mayor"], [5], [null], [{ a: 1 }], [["mayor", 5]]])("not a list of strings: %j", (agents) => {
    writeConfig({ supervise: { agents } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: supervise.agents = ${JSON.stringify(agents)} is not valid`);
    expect(err.hint).toBe(LIST_HINT);
  });

  test.each([
    ["bogus", "unknown agent identity: bogus"],
    ["witness", "unknown agent identity: witness"],
    ["-witness", "unknown agent identity: -witness"],
    ["gastown-crew-", "unknown agent identity: gastown-crew-"],
    ["", 'invalid agent identity: "" (empty)'],
    ["a b", 'invalid agent identity: "a b" (only letters, digits, _ and - are allowed)'],
    ["../x-witness", 'invalid agent identity: "../x-witness" (only letters, digits, _ and - are allowed)'],
    ["$(reboot)-witness", 'invalid agent identity: "$(reboot)-witness" (only letters, digits, _ and - are allowed)'],
    ["a/crew/b-witness", 'invalid agent identity: "a/crew/b-witness" (ambiguous: its dash form a-crew-b-witness names a different agent)'],
    [`${"r".repeat(60)}-witness`, `invalid agent identity: "${"r".repeat(60)}-witness" (longer than 64 characters)`],
  ])("entry %j in the file", (entry, why) => {
    writeConfig({ supervise: { agents: ["mayor", entry] } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: supervise.agents entry ${JSON.stringify(entry)} is not valid`);
    expect(err.hint).toBe(`${why}; ${AGENT_FORM}`);
  });

  test("a bad entry from the environment or a flag names the variable or the flag", () => {
    expect(configError(() => load({ GTD_SUPERVISE_AGENTS: "mayor,bogus" })).message).toBe(
      'environment GTD_SUPERVISE_AGENTS: supervise.agents entry "bogus" is not valid',
    );
    expect(configError(() => load({ GTD_SUPERVISE_AGENTS: '["mayor", "a;b"]' })).message).toBe(
      'environment GTD_SUPERVISE_AGENTS: supervise.agents entry "a;b" is not valid',
    );
    expect(configError(() => load({}, { "supervise.agents": "x" })).message).toBe('flag --supervise.agents: supervise.agents entry "x" is not valid');
  });

  test("GTD_SUPERVISE_AGENTS that starts as JSON but is not, or is JSON but not a list of strings", () => {
    const bad = configError(() => load({ GTD_SUPERVISE_AGENTS: '["mayor"' }));
    expect(bad.message).toBe('GTD_SUPERVISE_AGENTS: "[\\"mayor\\"" is not valid');
    expect(bad.hint).toBe(`expected a JSON array or names separated by commas or spaces; ${AGENT_FORM}`);
    const notList = configError(() => load({ GTD_SUPERVISE_AGENTS: "[1]" }));
    expect(notList.message).toBe("environment GTD_SUPERVISE_AGENTS: supervise.agents = [1] is not valid");
    expect(notList.hint).toBe(LIST_HINT);
  });

  test.each([
    [["mayor", "mayor"], '"mayor" names mayor again'],
    [["mayor", "MAYOR"], '"MAYOR" names mayor again (as "mayor" does)'],
    [["gastown-witness", "gastown/witness"], '"gastown/witness" names gastown-witness again (as "gastown-witness" does)'],
    [["deacon", "Deacon"], '"Deacon" names deacon again (as "deacon" does)'],
    [["g/crew/joe", "g-refinery", "g-crew-joe"], '"g-crew-joe" names g-crew-joe again (as "g/crew/joe" does)'],
  ])("duplicates are refused: %j", (agents, what) => {
    writeConfig({ supervise: { agents } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: supervise.agents entry ${what}`);
    expect(err.hint).toBe("list each agent once");
  });

  test("a duplicate from the environment names the variable", () => {
    expect(configError(() => load({ GTD_SUPERVISE_AGENTS: "mayor mayor" })).message).toBe(
      'environment GTD_SUPERVISE_AGENTS: supervise.agents entry "mayor" names mayor again',
    );
  });

  test("a rig that differs only in case is another agent, as in lifecycle", () => {
    writeConfig({ supervise: { agents: ["gastown-witness", "GasTown-witness"] } });
    expect(load().config.supervise.agents).toEqual(["gastown-witness", "GasTown-witness"]);
  });

  test("a hostile entry is quoted and cut short in the one-line error", () => {
    const entry = `${"x".repeat(500)}\nrm -rf /`;
    writeConfig({ supervise: { agents: [entry] } });
    const err = configError(() => load());
    expect(err.message).not.toContain("\n");
    expect(err.message).toContain("(509 chars)");
    expect(err.message.length).toBeLessThan(300);
  });
});

describe("supervise durations and counts", () => {
  test("every supervise.* key from the file, converted", () => {
    writeConfig({
      supervise: {
        grace: "2m",
        hung: { unansweredPokes: 1, after: "10m" },
        restart: { base: "1s", max: "1s", resetAfter: "1h" },
        crashLoop: { restarts: 2, within: "5m", hold: "2h" },
        humanActive: "250ms",
      },
    });
    expect(load().config.supervise).toEqual({
      agents: [],
      graceMs: 2 * MIN,
      hung: { unansweredPokes: 1, afterMs: 10 * MIN },
      restart: { baseMs: 1000, maxMs: 1000, resetAfterMs: 60 * MIN },
      crashLoop: { restarts: 2, withinMs: 5 * MIN, holdMs: 120 * MIN },
      humanActiveMs: 250,
    });
  });

  test("env names follow the rule (camelCase words split) and each is read", () => {
    const env = {
      GTD_SUPERVISE_GRACE: "1m",
      GTD_SUPERVISE_HUNG_UNANSWERED_POKES: "4",
      GTD_SUPERVISE_HUNG_AFTER: "45m",
      GTD_SUPERVISE_RESTART_BASE: "10s",
      GTD_SUPERVISE_RESTART_MAX: "20m",
      GTD_SUPERVISE_RESTART_RESET_AFTER: "40m",
      GTD_SUPERVISE_CRASH_LOOP_RESTARTS: "7",
      GTD_SUPERVISE_CRASH_LOOP_WITHIN: "20m",
      GTD_SUPERVISE_CRASH_LOOP_HOLD: "3h",
      GTD_SUPERVISE_HUMAN_ACTIVE: "2m",
    };
    const supervised = SETTING_KEYS.filter((k) => k.startsWith("supervise.") && k !== "supervise.agents");
    expect(supervised.map(envName).sort()).toEqual(Object.keys(env).sort());
    const { config, layers } = load(env);
    expect(config.supervise).toEqual({
      agents: [],
      graceMs: MIN,
      hung: { unansweredPokes: 4, afterMs: 45 * MIN },
      restart: { baseMs: 10_000, maxMs: 20 * MIN, resetAfterMs: 40 * MIN },
      crashLoop: { restarts: 7, withinMs: 20 * MIN, holdMs: 180 * MIN },
      humanActiveMs: 2 * MIN,
    });
    for (const key of supervised) expect(layers.sources[key]).toBe(`env ${envName(key)}`);
    expect(envName("supervise.agents")).toBe("GTD_SUPERVISE_AGENTS");
  });

  test("every supervise duration is bounded; each setting says why", () => {
    for (const key of SETTING_KEYS.filter((k) => k.startsWith("supervise."))) {
      const s: Setting = SETTINGS[key];
      if (s.kind === "duration") expect(s.range).toBeDefined();
      expect(s.why.length).toBeGreaterThan(30);
    }
  });

  test.each([
    ["hung", "unansweredPokes", 0, "a whole number ≥ 1"],
    ["hung", "unansweredPokes", 2.5, "a whole number ≥ 1"],
    ["hung", "unansweredPokes", "3", "a whole number ≥ 1"],
    ["crashLoop", "restarts", 1, "a whole number ≥ 2"],
    ["crashLoop", "restarts", 0, "a whole number ≥ 2"],
    ["crashLoop", "restarts", 4.5, "a whole number ≥ 2"],
  ])("supervise.%s.%s = %j is refused (expected %s)", (section, leaf, value, form) => {
    writeConfig({ supervise: { [section]: { [leaf]: value } } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: supervise.${section}.${leaf} = ${JSON.stringify(value)} is not valid`);
    expect(err.hint).toBe(`expected ${form}`);
  });

  test("crashLoop.restarts of 1 from the environment names the variable", () => {
    const err = configError(() => load({ GTD_SUPERVISE_CRASH_LOOP_RESTARTS: "1" }));
    expect(err.message).toBe("environment GTD_SUPERVISE_CRASH_LOOP_RESTARTS: supervise.crashLoop.restarts = 1 is not valid");
    expect(err.hint).toBe("expected a whole number ≥ 2");
  });

  test.each([
    ["supervise.restart.base", "999ms", "1s"],
    ["supervise.restart.base", "0s", "1s"],
    ["supervise.restart.max", "500ms", "1s"],
    ["supervise.restart.max", "25d", "1s"],
    ["supervise.grace", "0s", "100ms"],
    ["supervise.grace", "25d", "100ms"],
    ["supervise.hung.after", "99ms", "100ms"],
    ["supervise.restart.resetAfter", "30d", "100ms"],
    ["supervise.crashLoop.within", "0ms", "100ms"],
    ["supervise.crashLoop.hold", "25d", "100ms"],
    ["supervise.humanActive", "50ms", "100ms"],
  ] as const)("%s = %j is outside its bounds (from %s to 24d)", (key, value, lo) => {
    const err = configError(() => load({}, { [key]: value }));
    expect(err.message).toBe(`flag --${key}: ${key} = ${JSON.stringify(value)} is not valid`);
    expect(err.hint).toBe(`expected a duration from ${lo} to 24d, such as "250ms", "30s", "5m", "1h"`);
  });

  test("a duration that is not one names the key", () => {
    writeConfig({ supervise: { humanActive: "a minute" } });
    expect(configError(() => load()).message).toBe(`${paths.configFile}: supervise.humanActive = "a minute" is not valid`);
  });

  test("restart.base above restart.max names both keys, values and layers; equal is accepted", () => {
    writeConfig({ supervise: { restart: { base: "20m" } } });
    const err = configError(() => load());
    expect(err.message).toBe(`supervise.restart.base = "20m" (from ${paths.configFile}) is greater than supervise.restart.max = "10m" (from the default)`);
    expect(err.hint).toBe("expected supervise.restart.base ≤ supervise.restart.max; change one of them");
    expect(configError(() => load({ GTD_SUPERVISE_RESTART_MAX: "10s" })).message).toBe(
      `supervise.restart.base = "20m" (from ${paths.configFile}) is greater than supervise.restart.max = "10s" (from environment GTD_SUPERVISE_RESTART_MAX)`,
    );
    expect(load({ GTD_SUPERVISE_RESTART_MAX: "20m" }).config.supervise.restart).toMatchObject({ baseMs: 20 * MIN, maxMs: 20 * MIN });
  });

  test("restart.max below the default base is refused unless base comes down too", () => {
    expect(configError(() => load({}, { "supervise.restart.max": "10s" })).message).toBe(
      'supervise.restart.base = "30s" (from the default) is greater than supervise.restart.max = "10s" (from flag --supervise.restart.max)',
    );
    expect(load({ GTD_SUPERVISE_RESTART_BASE: "5s" }, { "supervise.restart.max": "10s" }).config.supervise.restart).toMatchObject({ baseMs: 5000, maxMs: 10_000 });
  });
});

describe("the supervise section in config.json", () => {
  test("unknown keys under supervise are refused, naming the full key", () => {
    for (const [content, key] of [
      [{ supervise: { agent: ["mayor"] } }, "supervise.agent"],
      [{ supervise: { hung: { pokes: 3 } } }, "supervise.hung.pokes"],
      [{ supervise: { crashloop: { hold: "1h" } } }, "supervise.crashloop"],
    ] as const) {
      writeConfig(content);
      const err = configError(() => load());
      expect(err.message).toBe(`${paths.configFile}: unknown key ${JSON.stringify(key)}`);
      expect(err.hint).toContain("supervise.crashLoop.restarts");
    }
  });

  test("a subsection that is not an object lists its keys", () => {
    writeConfig({ supervise: { hung: 3 } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: supervise.hung = 3 is not valid`);
    expect(err.hint).toBe("expected an object with keys unansweredPokes, after");
    writeConfig({ supervise: ["mayor"] });
    expect(configError(() => load()).hint).toContain("agents, grace, hung.unansweredPokes");
  });

  test("layers: file < env < flag, each value naming its source", () => {
    writeConfig({ supervise: { grace: "1m", agents: ["mayor"], crashLoop: { restarts: 3 } } });
    const { config, layers } = load({ GTD_SUPERVISE_GRACE: "2m", GTD_SUPERVISE_AGENTS: "gastown-witness" }, { "supervise.grace": "3m" });
    expect(config.supervise.graceMs).toBe(3 * MIN);
    expect(layers.sources["supervise.grace"]).toBe("flag --supervise.grace");
    expect(config.supervise.agents).toEqual(["gastown-witness"]);
    expect(layers.sources["supervise.agents"]).toBe("env GTD_SUPERVISE_AGENTS");
    expect(config.supervise.crashLoop.restarts).toBe(3);
    expect(layers.sources["supervise.crashLoop.restarts"]).toBe("config.json");
    expect(layers.sources["supervise.humanActive"]).toBe("default");
  });
});
