/** Every setting's default: its raw value, its converted Config, and that it passes its own validation. */
import { describe, expect, test } from "bun:test";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import { loadLayers } from "../../../src/config/load.ts";
import { SETTING_KEYS, SETTINGS } from "../../../src/config/settings.ts";
import { load, MIN, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

const EXPECTED_DEFAULTS: Config = {
  heartbeat: "5m",
  backoff: { strategy: "geometric", baseMs: 5 * MIN, maxMs: 30 * MIN, factor: 1.5 },
  slotMaxAgeMs: 5 * MIN,
  freshness: { freshMs: 2 * MIN, veryStaleMs: 5 * MIN, futureSkewMs: MIN },
  deacon: { session: "gt-deacon", command: ["claude", "--dangerously-skip-permissions"] },
  agent: { command: ["claude", "--dangerously-skip-permissions"], prime: null },
  poke: { mayor: false, witnesses: false },
  mailbox: {
    preset: "bd",
    inbox: ["bd", "mail", "inbox", "--identity", "deacon/", "--json"],
    close: ["bd", "close", "{id}"],
    send: ["bd", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
    sync: ["bd", "sync"],
  },
  requests: { maxAttempts: 3, maxAgeMs: 6 * 60 * MIN },
  timeouts: { tmuxMs: 5000, mailboxMs: 30_000, gitMs: 2 * MIN, stopMs: 10_000 },
  log: { maxBytes: 10_000_000, files: 3, format: "text" },
  tmux: { socket: null },
  metrics: { file: null },
  supervise: {
    agents: [],
    graceMs: 5 * MIN,
    hung: { unansweredPokes: 3, afterMs: 30 * MIN },
    restart: { baseMs: 30_000, maxMs: 10 * MIN, resetAfterMs: 30 * MIN },
    crashLoop: { restarts: 5, withinMs: 15 * MIN, holdMs: 60 * MIN },
    humanActiveMs: 60_000,
  },
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
      "mailbox.preset": "bd",
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
      "log.format": "text",
      "log.files": 3,
      "metrics.file": null,
      "tmux.socket": null,
      "supervise.agents": [],
      "supervise.grace": "5m",
      "supervise.hung.unansweredPokes": 3,
      "supervise.hung.after": "30m",
      "supervise.restart.base": "30s",
      "supervise.restart.max": "10m",
      "supervise.restart.resetAfter": "30m",
      "supervise.crashLoop.restarts": 5,
      "supervise.crashLoop.within": "15m",
      "supervise.crashLoop.hold": "1h",
      "supervise.humanActive": "60s",
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
    // Keys nest as deep as their dots (supervise.hung.after is {"supervise": {"hung": {"after": ...}}}).
    const file: Record<string, unknown> = {};
    for (const key of SETTING_KEYS) {
      const parts = key.split(".");
      let node = file;
      for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
      node[parts.at(-1)!] = SETTINGS[key].default;
    }
    writeConfig(file);
    const { config, layers } = load();
    expect(config).toEqual(EXPECTED_DEFAULTS);
    for (const key of SETTING_KEYS) expect(layers.sources[key]).toBe("config.json");
  });

  test("every setting says why", () => {
    for (const key of SETTING_KEYS) expect(SETTINGS[key].why.length).toBeGreaterThan(10);
  });
});
