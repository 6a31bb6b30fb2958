/** Valid forms of schedules, booleans, sizes, argv and numbers, from the file and the environment. */
import { describe, expect, test } from "bun:test";
import { loadEffectiveConfig } from "../../../src/config/effective.ts";
import { isSchedule, parseSize } from "../../../src/config/load.ts";
import { load, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

describe("valid forms", () => {
  test.each(["1s", "1.5s", "30s", "5m", "1h", "1h30m", "*/5 * * * *", "*/10 * * * * *"])(
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
