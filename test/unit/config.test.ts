import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEffectiveConfig } from "../../src/config/effective.ts";
import { buildConfig, defaultConfig, loadConfig, type Config } from "../../src/config/index.ts";
import { isSchedule, loadLayers, parseSize } from "../../src/config/load.ts";
import { envName, SETTING_KEYS, SETTINGS, type SettingKey } from "../../src/config/settings.ts";
import { GtdError } from "../../src/errors.ts";
import { townPaths, type TownPaths } from "../../src/town.ts";

let root: string;
let paths: TownPaths;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gtd-config-"));
  paths = townPaths(root);
  mkdirSync(paths.daemonDir, { recursive: true });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeConfig(content: unknown): void {
  writeFileSync(paths.configFile, typeof content === "string" ? content : JSON.stringify(content));
}

function load(env: Record<string, string | undefined> = {}, flags: Partial<Record<SettingKey, string>> = {}) {
  return loadConfig({ configFile: paths.configFile, env, flags });
}

/** The GtdError a call throws; fails the test when it throws something else or nothing. */
function configError(fn: () => unknown): GtdError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GtdError);
  const err = caught as GtdError;
  expect(err.code).toBe("CONFIG");
  expect(err.exitCode).toBe(1);
  return err;
}

async function asyncConfigError(fn: () => Promise<unknown>): Promise<GtdError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GtdError);
  const err = caught as GtdError;
  expect(err.code).toBe("CONFIG");
  return err;
}

const MIN = 60_000;

const EXPECTED_DEFAULTS: Config = {
  heartbeat: "5m",
  backoff: { strategy: "geometric", baseMs: 5 * MIN, maxMs: 30 * MIN, factor: 1.5 },
  slotMaxAgeMs: 5 * MIN,
  freshness: { freshMs: 2 * MIN, veryStaleMs: 5 * MIN, futureSkewMs: MIN },
  deacon: { session: "gt-deacon", command: ["claude", "--dangerously-skip-permissions"] },
  agent: { command: ["claude", "--dangerously-skip-permissions"], prime: null },
  poke: { mayor: false, witnesses: false },
  mailbox: {
    inbox: ["bd", "mail", "inbox", "--identity", "deacon/", "--json"],
    close: ["bd", "close", "{id}"],
    send: ["bd", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
    sync: ["bd", "sync"],
  },
  requests: { maxAttempts: 3, maxAgeMs: 6 * 60 * MIN },
  timeouts: { tmuxMs: 5000, mailboxMs: 30_000, gitMs: 2 * MIN, stopMs: 10_000 },
  log: { maxBytes: 10_000_000, files: 3 },
  tmux: { socket: null },
};

describe("defaults", () => {
  test("every key has its documented default and source 'default'", () => {
    const { values, sources } = loadLayers({ configFile: paths.configFile, env: {} });
    expect(Object.keys(values).sort()).toEqual([...SETTING_KEYS].sort());
    expect(values).toEqual({
      heartbeat: "5m",
      "backoff.strategy": "geometric",
      "backoff.base": "5m",
      "backoff.max": "30m",
      "backoff.factor": 1.5,
      "slots.maxAge": "5m",
      "freshness.fresh": "2m",
      "freshness.veryStale": "5m",
      "freshness.futureSkew": "1m",
      "deacon.session": "gt-deacon",
      "deacon.command": ["claude", "--dangerously-skip-permissions"],
      "agent.command": ["claude", "--dangerously-skip-permissions"],
      "agent.prime": null,
      "poke.mayor": false,
      "poke.witnesses": false,
      "mailbox.inbox": ["bd", "mail", "inbox", "--identity", "deacon/", "--json"],
      "mailbox.close": ["bd", "close", "{id}"],
      "mailbox.send": ["bd", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
      "mailbox.sync": ["bd", "sync"],
      "requests.maxAttempts": 3,
      "requests.maxAge": "6h",
      "timeouts.tmux": "5s",
      "timeouts.mailbox": "30s",
      "timeouts.git": "2m",
      "timeouts.stop": "10s",
      "log.maxSize": "10MB",
      "log.files": 3,
      "tmux.socket": null,
    });
    for (const key of SETTING_KEYS) expect(sources[key]).toBe("default");
  });

  test("buildConfig converts durations and sizes (backoff.baseMs 300000, ...)", () => {
    const { config } = load();
    expect(config).toEqual(EXPECTED_DEFAULTS);
    expect(config.backoff.baseMs).toBe(300_000);
    expect(defaultConfig()).toEqual(EXPECTED_DEFAULTS);
  });

  test("every default passes its own validation (written out in full, the file loads unchanged)", () => {
    const nested: Record<string, Record<string, unknown>> = {};
    const top: Record<string, unknown> = {};
    for (const key of SETTING_KEYS) {
      const [a, b] = key.split(".") as [string, string | undefined];
      if (b === undefined) top[a] = SETTINGS[key].default;
      else (nested[a] ??= {})[b] = SETTINGS[key].default;
    }
    writeConfig({ ...top, ...nested });
    const { config, layers } = load();
    expect(config).toEqual(EXPECTED_DEFAULTS);
    for (const key of SETTING_KEYS) expect(layers.sources[key]).toBe("config.json");
  });

  test("every setting says why", () => {
    for (const key of SETTING_KEYS) expect(SETTINGS[key].why.length).toBeGreaterThan(10);
  });
});

describe("layering: file < GTD_* env < flags", () => {
  test("each layer overrides the one below and the source names where the value came from", () => {
    writeConfig({ heartbeat: "1m", backoff: { base: "2m", max: "20m" }, log: { files: 5 } });
    const { config, layers } = load(
      { GTD_HEARTBEAT: "30s", GTD_BACKOFF_BASE: "90s", PATH: "/usr/bin", HOME: "/root" },
      { heartbeat: "10s" },
    );
    expect(config.heartbeat).toBe("10s");
    expect(layers.sources.heartbeat).toBe("flag --heartbeat");
    expect(config.backoff.baseMs).toBe(90_000);
    expect(layers.sources["backoff.base"]).toBe("env GTD_BACKOFF_BASE");
    expect(config.backoff.maxMs).toBe(20 * MIN);
    expect(layers.sources["backoff.max"]).toBe("config.json");
    expect(config.log.files).toBe(5);
    expect(layers.sources["log.files"]).toBe("config.json");
    expect(config.backoff.factor).toBe(1.5);
    expect(layers.sources["backoff.factor"]).toBe("default");
  });

  test("an env var whose value is undefined is ignored", () => {
    const { layers } = load({ GTD_HEARTBEAT: undefined });
    expect(layers.sources.heartbeat).toBe("default");
  });

  test("a flag given as undefined does not override", () => {
    const { config, layers } = load({ GTD_HEARTBEAT: "30s" }, { heartbeat: undefined });
    expect(config.heartbeat).toBe("30s");
    expect(layers.sources.heartbeat).toBe("env GTD_HEARTBEAT");
  });

  test("loadEffectiveConfig reads <town>/daemon/config.json and the env given", async () => {
    writeConfig({ backoff: { strategy: "fixed" } });
    const { config, layers } = await loadEffectiveConfig(paths, { GTD_POKE_MAYOR: "true" }, { heartbeat: "30s" });
    expect(config.backoff.strategy).toBe("fixed");
    expect(config.poke.mayor).toBe(true);
    expect(config.heartbeat).toBe("30s");
    expect(layers.sources["poke.mayor"]).toBe("env GTD_POKE_MAYOR");
    expect(layers.sources.heartbeat).toBe("flag --heartbeat");
  });
});

describe("bad forms are refused, naming where, what and the expected form", () => {
  test("unknown top-level key", () => {
    writeConfig({ heartbeet: "5m" });
    const err = configError(() => load());
    expect(err.message).toContain(paths.configFile);
    expect(err.message).toContain('"heartbeet"');
    expect(err.hint).toContain("heartbeat");
    expect(err.hint).toContain("backoff.base");
  });

  test("unknown nested key backoff.foo", () => {
    writeConfig({ backoff: { foo: 1 } });
    const err = configError(() => load());
    expect(err.message).toContain(paths.configFile);
    expect(err.message).toContain('"backoff.foo"');
    expect(err.hint).toContain("backoff.factor");
  });

  test("a nested object under a leaf key is a bad value, not flattened", () => {
    writeConfig({ heartbeat: { every: "5m" } });
    const err = configError(() => load());
    expect(err.message).toContain("heartbeat");
    expect(err.message).toContain('{"every":"5m"}');
  });

  test("a section that is not an object", () => {
    for (const bad of [5, "5m", ["5m"], null]) {
      writeConfig({ backoff: bad });
      const err = configError(() => load());
      expect(err.message).toContain(paths.configFile);
      expect(err.message).toContain("backoff");
      expect(err.message).toContain(JSON.stringify(bad));
      expect(err.hint).toContain("object");
      expect(err.hint).toContain("base");
    }
  });

  test("invalid JSON", () => {
    writeConfig("{ heartbeat: 5m");
    const err = configError(() => load());
    expect(err.message).toContain(paths.configFile);
    expect(err.message).toContain("invalid JSON");
    expect(err.hint).toBeTruthy();
  });

  test("JSON that is not an object", () => {
    for (const text of ["[]", "5", '"5m"', "null"]) {
      writeConfig(text);
      const err = configError(() => load());
      expect(err.message).toContain(paths.configFile);
      expect(err.message).toContain("JSON object");
    }
  });

  test.each([
    ["backoff.base", { backoff: { base: "5x" } }, '"5x"'],
    ["backoff.base", { backoff: { base: 5 } }, "5"],
    ["backoff.base", { backoff: { base: "-1s" } }, '"-1s"'],
    ["requests.maxAge", { requests: { maxAge: "" } }, '""'],
  ])("bad duration %s = %j", (key, content, shown) => {
    writeConfig(content);
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: ${key} = ${shown} is not valid`);
    expect(err.hint).toContain("duration");
    expect(err.hint).toContain('"30s"');
  });

  test.each(["* * *", "0s", "five minutes", "* * * * * * *"])("bad schedule %j", (spec) => {
    writeConfig({ heartbeat: spec });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: heartbeat = ${JSON.stringify(spec)} is not valid`);
    expect(err.hint).toContain("cron pattern");
  });

  test("a cron pattern croner refuses (minute 61) is refused by loadEffectiveConfig, naming the file", async () => {
    writeConfig({ heartbeat: "61 * * * *" });
    const err = await asyncConfigError(() => loadEffectiveConfig(paths, {}));
    expect(err.message).toBe(`${paths.configFile}: heartbeat = "61 * * * *" is not valid`);
    expect(err.hint).toContain("5/6-field cron pattern");
  });

  test("a bad cron pattern from the environment names the variable", async () => {
    const err = await asyncConfigError(() => loadEffectiveConfig(paths, { GTD_HEARTBEAT: "61 * * * *" }));
    expect(err.message).toContain("GTD_HEARTBEAT");
    expect(err.message).toContain('"61 * * * *"');
  });

  test("a bad cron pattern from a flag names the flag", async () => {
    const err = await asyncConfigError(() => loadEffectiveConfig(paths, {}, { heartbeat: "0 25 * * *" }));
    expect(err.message).toContain("--heartbeat");
    expect(err.message).toContain('"0 25 * * *"');
  });

  test("bad strategy", () => {
    writeConfig({ backoff: { strategy: "linear" } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: backoff.strategy = "linear" is not valid`);
    expect(err.hint).toContain('"fixed", "geometric" or "exponential"');
  });

  test("factor < 1", () => {
    for (const f of [0.5, 0, -2, "1.5"]) {
      writeConfig({ backoff: { factor: f } });
      const err = configError(() => load());
      expect(err.message).toBe(`${paths.configFile}: backoff.factor = ${JSON.stringify(f)} is not valid`);
      expect(err.hint).toContain("number");
    }
  });

  test.each([0, 1.5, -1, "3"])("int %j refused", (n) => {
    writeConfig({ requests: { maxAttempts: n } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: requests.maxAttempts = ${JSON.stringify(n)} is not valid`);
    expect(err.hint).toContain("whole number");
  });

  test("bool 'yes' in the file", () => {
    writeConfig({ poke: { mayor: "yes" } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: poke.mayor = "yes" is not valid`);
    expect(err.hint).toBe("expected true or false");
  });

  test.each([[[]], [[""]], ["bd"], [[1, 2]], [null]])("argv %j refused", (argv) => {
    writeConfig({ mailbox: { inbox: argv } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: mailbox.inbox = ${JSON.stringify(argv)} is not valid`);
    expect(err.hint).toContain("array of strings");
  });

  test("optional argv accepts null and refuses []", () => {
    writeConfig({ mailbox: { sync: null } });
    expect(load().config.mailbox.sync).toBeNull();
    writeConfig({ mailbox: { sync: [] } });
    const err = configError(() => load());
    expect(err.message).toContain("mailbox.sync = []");
  });

  test("deacon.session must be a plain name", () => {
    writeConfig({ deacon: { session: "gt deacon" } });
    const err = configError(() => load());
    expect(err.message).toContain('deacon.session = "gt deacon"');
  });

  test("bad size", () => {
    for (const size of ["10 parsecs", 0, "0KB", -5]) {
      writeConfig({ log: { maxSize: size } });
      const err = configError(() => load());
      expect(err.message).toContain(`log.maxSize = ${JSON.stringify(size)}`);
      expect(err.hint).toContain("size");
    }
  });

  test("unknown GTD_ environment variable", () => {
    const err = configError(() => load({ GTD_HEARTBEET: "5m" }));
    expect(err.message).toContain("GTD_HEARTBEET");
    expect(err.hint).toContain("GTD_HEARTBEAT");
  });

  test("variables not starting with GTD_ are not ours", () => {
    expect(() => load({ GT_TOWN_ROOT: "/x", GTDX: "1", gtd_heartbeat: "1" })).not.toThrow();
  });

  test("GTD_MAILBOX_INBOX that is not JSON", () => {
    const err = configError(() => load({ GTD_MAILBOX_INBOX: "bd mail inbox" }));
    expect(err.message).toContain("GTD_MAILBOX_INBOX");
    expect(err.message).toContain('"bd mail inbox"');
    expect(err.hint).toContain("array of strings");
    expect(err.hint).toContain("JSON");
  });

  test("GTD_MAILBOX_INBOX that is JSON but not an argv", () => {
    const err = configError(() => load({ GTD_MAILBOX_INBOX: '"bd"' }));
    expect(err.message).toBe('environment GTD_MAILBOX_INBOX: mailbox.inbox = "bd" is not valid');
  });

  test("GTD_POKE_MAYOR=maybe", () => {
    const err = configError(() => load({ GTD_POKE_MAYOR: "maybe" }));
    expect(err.message).toBe('environment GTD_POKE_MAYOR: poke.mayor = "maybe" is not valid');
    expect(err.hint).toBe("expected true or false");
  });

  test("a bad env value for a duration and an int", () => {
    expect(configError(() => load({ GTD_BACKOFF_MAX: "forever" })).message).toBe(
      'environment GTD_BACKOFF_MAX: backoff.max = "forever" is not valid',
    );
    expect(configError(() => load({ GTD_LOG_FILES: "three" })).message).toBe(
      'environment GTD_LOG_FILES: log.files = "three" is not valid',
    );
    expect(configError(() => load({ GTD_LOG_FILES: "0" })).message).toBe("environment GTD_LOG_FILES: log.files = 0 is not valid");
  });

  test("a bad flag names the flag", () => {
    const err = configError(() => load({}, { heartbeat: "soon" }));
    expect(err.message).toBe('flag --heartbeat: heartbeat = "soon" is not valid');
  });

  test("the first bad layer is reported even when a higher layer would override it", () => {
    writeConfig({ heartbeat: "soon" });
    expect(() => load({ GTD_HEARTBEAT: "30s" })).toThrow(GtdError);
  });
});

describe("values that are well-formed but cannot work are refused", () => {
  test.each(["gt.deacon", "-deacon", "a:b", "gt/deacon", "x".repeat(65), ""])("deacon.session %j (tmux would rewrite or refuse it)", (name) => {
    writeConfig({ deacon: { session: name } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: deacon.session = ${JSON.stringify(name)} is not valid`);
    expect(err.hint).toContain("not starting with '-'");
  });

  test("deacon.session from the environment and a flag names where", () => {
    expect(configError(() => load({ GTD_DEACON_SESSION: "gt.deacon" })).message).toBe(
      'environment GTD_DEACON_SESSION: deacon.session = "gt.deacon" is not valid',
    );
    expect(configError(() => load({}, { "deacon.session": "-x" })).message).toBe('flag --deacon.session: deacon.session = "-x" is not valid');
  });

  test.each(["gt_deacon", "_x", "9", "x".repeat(64), "gt-deacon-2"])("deacon.session %j is accepted", (name) => {
    writeConfig({ deacon: { session: name } });
    expect(load().config.deacon.session).toBe(name);
  });

  test.each(["a/b", "/tmp/sock", "-L", ".", "..", "", "a b", "x".repeat(65)])("tmux.socket %j refused", (name) => {
    writeConfig({ tmux: { socket: name } });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: tmux.socket = ${JSON.stringify(name)} is not valid`);
    expect(err.hint).toContain("no '/'");
  });

  test("tmux.socket from the environment: a bad name names the variable; '' and 'null' are none", () => {
    expect(configError(() => load({ GTD_TMUX_SOCKET: "../x" })).message).toBe('environment GTD_TMUX_SOCKET: tmux.socket = "../x" is not valid');
    expect(load({ GTD_TMUX_SOCKET: "" }).config.tmux.socket).toBeNull();
    expect(load({ GTD_TMUX_SOCKET: "null" }).config.tmux.socket).toBeNull();
    expect(load({ GTD_TMUX_SOCKET: "gt.town_1-a" }).config.tmux.socket).toBe("gt.town_1-a");
  });

  test.each(["timeouts.tmux", "timeouts.mailbox", "timeouts.git", "timeouts.stop"] as const)("%s below 100ms (0 is no timeout in zx) is refused", (key) => {
    const [section, leaf] = key.split(".") as [string, string];
    for (const bad of ["0s", "0ms", "99ms", "25d"]) {
      writeConfig({ [section]: { [leaf]: bad } });
      const err = configError(() => load());
      expect(err.message).toBe(`${paths.configFile}: ${key} = ${JSON.stringify(bad)} is not valid`);
      expect(err.hint).toContain("from 100ms to 24d");
    }
    writeConfig({ [section]: { [leaf]: "100ms" } });
    expect(load().layers.values[key]).toBe("100ms");
    writeConfig({ [section]: { [leaf]: "24d" } });
    expect(load().layers.values[key]).toBe("24d");
  });

  test("a zero timeout from the environment names the variable", () => {
    expect(configError(() => load({ GTD_TIMEOUTS_TMUX: "0s" })).message).toBe('environment GTD_TIMEOUTS_TMUX: timeouts.tmux = "0s" is not valid');
  });

  test.each(["50ms", "99ms", "24d1ms", "25d", "30d"])("heartbeat %j is outside 100ms..24d (setTimeout overflows at 2^31 ms)", (spec) => {
    writeConfig({ heartbeat: spec });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: heartbeat = ${JSON.stringify(spec)} is not valid`);
    expect(err.hint).toContain("from 100ms to 24d");
    expect(err.hint).toContain("cron pattern");
  });

  test("heartbeat bounds themselves are accepted, and a flag below them names the flag", () => {
    writeConfig({ heartbeat: "100ms" });
    expect(load().config.heartbeat).toBe("100ms");
    writeConfig({ heartbeat: "24d" });
    expect(load().config.heartbeat).toBe("24d");
    expect(configError(() => load({}, { heartbeat: "10ms" })).message).toBe('flag --heartbeat: heartbeat = "10ms" is not valid');
  });

  test("backoff.base above backoff.max names both keys, values and layers", () => {
    writeConfig({ backoff: { base: "1h" } });
    const err = configError(() => load());
    expect(err.message).toBe(`backoff.base = "1h" (from ${paths.configFile}) is greater than backoff.max = "30m" (from the default)`);
    expect(err.hint).toContain("backoff.base ≤ backoff.max");
    const env = configError(() => load({ GTD_BACKOFF_MAX: "2m" }, { "backoff.base": "3m" }));
    expect(env.message).toBe('backoff.base = "3m" (from flag --backoff.base) is greater than backoff.max = "2m" (from environment GTD_BACKOFF_MAX)');
  });

  test("backoff.base equal to backoff.max is a fixed interval, accepted", () => {
    writeConfig({ backoff: { base: "10m", max: "10m" } });
    expect(load().config.backoff).toMatchObject({ baseMs: 600_000, maxMs: 600_000 });
  });

  test("freshness.fresh not below freshness.veryStale names both", () => {
    for (const fresh of ["5m", "10m"]) {
      const err = configError(() => load({ GTD_FRESHNESS_FRESH: fresh }));
      expect(err.message).toBe(
        `freshness.fresh = ${JSON.stringify(fresh)} (from environment GTD_FRESHNESS_FRESH) is not less than freshness.veryStale = "5m" (from the default)`,
      );
      expect(err.hint).toContain("freshness.fresh < freshness.veryStale");
    }
    expect(load({ GTD_FRESHNESS_FRESH: "4m59s" }).config.freshness.freshMs).toBe(299_000);
  });

  test("the combination is checked after layering: a higher layer can repair a lower one", () => {
    writeConfig({ backoff: { base: "1h" }, freshness: { fresh: "10m" } });
    const { config } = load({ GTD_BACKOFF_MAX: "2h", GTD_FRESHNESS_VERY_STALE: "15m" });
    expect(config.backoff.maxMs).toBe(2 * 60 * MIN);
    expect(config.freshness.veryStaleMs).toBe(15 * MIN);
  });
});

describe("valid forms", () => {
  test.each(["250ms", "30s", "5m", "1h", "1h30m", "*/5 * * * *", "*/10 * * * * *"])(
    "heartbeat %j loads (croner-checked)",
    async (spec) => {
      writeConfig({ heartbeat: spec });
      const { config, layers } = await loadEffectiveConfig(paths, {});
      expect(config.heartbeat).toBe(spec);
      expect(layers.sources.heartbeat).toBe("config.json");
      expect(isSchedule(spec)).toBe(true);
    },
  );

  test("GTD_POKE_MAYOR=true / 1 / false / 0", () => {
    expect(load({ GTD_POKE_MAYOR: "true" }).config.poke.mayor).toBe(true);
    expect(load({ GTD_POKE_MAYOR: "1" }).config.poke.mayor).toBe(true);
    writeConfig({ poke: { mayor: true } });
    expect(load().config.poke.mayor).toBe(true);
    expect(load({ GTD_POKE_MAYOR: "false" }).config.poke.mayor).toBe(false);
    expect(load({ GTD_POKE_MAYOR: "0" }).config.poke.mayor).toBe(false);
  });

  test("GTD_LOG_MAX_SIZE=1048576 is a byte count", () => {
    const { config, layers } = load({ GTD_LOG_MAX_SIZE: "1048576" });
    expect(config.log.maxBytes).toBe(1_048_576);
    expect(layers.sources["log.maxSize"]).toBe("env GTD_LOG_MAX_SIZE");
  });

  test('log.maxSize "512KB", "1MiB" and a number in the file', () => {
    writeConfig({ log: { maxSize: "512KB" } });
    expect(load().config.log.maxBytes).toBe(512_000);
    writeConfig({ log: { maxSize: "1MiB" } });
    expect(load().config.log.maxBytes).toBe(1_048_576);
    writeConfig({ log: { maxSize: 4096 } });
    expect(load().config.log.maxBytes).toBe(4096);
  });

  test("parseSize", () => {
    expect(parseSize("10MB")).toBe(10_000_000);
    expect(parseSize("2 kib")).toBe(2048);
    expect(parseSize("100")).toBe(100);
    expect(parseSize("0")).toBeNull();
    expect(parseSize("1.5GB")).toBe(1_500_000_000);
    expect(parseSize("MB")).toBeNull();
  });

  test("argv from the environment as a JSON array; prime from env, and 'null' for none", () => {
    const { config } = load({
      GTD_MAILBOX_INBOX: '["gt","mail","inbox","--json"]',
      GTD_AGENT_PRIME: "gt prime",
      GTD_MAILBOX_SYNC: "null",
    });
    expect(config.mailbox.inbox).toEqual(["gt", "mail", "inbox", "--json"]);
    expect(config.agent.prime).toBe("gt prime");
    expect(config.mailbox.sync).toBeNull();
    expect(load({ GTD_AGENT_PRIME: "null" }).config.agent.prime).toBeNull();
  });

  test("factor 2 and strategy exponential from the file, durations converted", () => {
    writeConfig({ backoff: { strategy: "exponential", factor: 2, base: "30s", max: "1h" }, slots: { maxAge: "250ms" } });
    const { config } = load();
    expect(config.backoff).toEqual({ strategy: "exponential", baseMs: 30_000, maxMs: 3_600_000, factor: 2 });
    expect(config.slotMaxAgeMs).toBe(250);
  });

  test("GTD_BACKOFF_FACTOR=2.5 is a number", () => {
    expect(load({ GTD_BACKOFF_FACTOR: "2.5" }).config.backoff.factor).toBe(2.5);
  });
});

describe("envName", () => {
  test("dotted camelCase keys map to GTD_ upper snake case", () => {
    expect(envName("requests.maxAttempts")).toBe("GTD_REQUESTS_MAX_ATTEMPTS");
    expect(envName("heartbeat")).toBe("GTD_HEARTBEAT");
    expect(envName("freshness.veryStale")).toBe("GTD_FRESHNESS_VERY_STALE");
    expect(envName("log.maxSize")).toBe("GTD_LOG_MAX_SIZE");
    expect(envName("tmux.socket")).toBe("GTD_TMUX_SOCKET");
  });

  test("names are unique, and every one is accepted from the environment", () => {
    const names = SETTING_KEYS.map(envName);
    expect(new Set(names).size).toBe(names.length);
    const { layers } = load({ GTD_REQUESTS_MAX_ATTEMPTS: "7" });
    expect(layers.values["requests.maxAttempts"]).toBe(7);
    expect(layers.sources["requests.maxAttempts"]).toBe("env GTD_REQUESTS_MAX_ATTEMPTS");
  });
});

test("buildConfig takes raw layered values", () => {
  const { values } = loadLayers({ configFile: paths.configFile, env: { GTD_TIMEOUTS_GIT: "1h30m" } });
  expect(buildConfig(values).timeouts.gitMs).toBe(90 * MIN);
});
