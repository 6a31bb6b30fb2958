/** Layering (file < GTD_* env < flags), where each value came from, and the GTD_* names of the settings. */
import { describe, expect, test } from "bun:test";
import { loadEffectiveConfig } from "../../../src/config/effective.ts";
import { buildConfig } from "../../../src/config/index.ts";
import { loadLayers } from "../../../src/config/load.ts";
import { envName, SETTING_KEYS } from "../../../src/config/settings.ts";
import { load, MIN, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

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
