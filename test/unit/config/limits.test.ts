/** Well-formed values that cannot work (tmux names, timeout and heartbeat bounds, base ≤ max, fresh < veryStale): refused. */
import { describe, expect, test } from "bun:test";
import { configError, load, MIN, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

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

  test.each(["timeouts.tmux", "timeouts.mailbox", "timeouts.git", "timeouts.stop"] as const)("%s below 100ms (0 would be no timeout at all) is refused", (key) => {
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

  test.each(["50ms", "250ms", "999ms", "0.5s", "24d1ms", "25d", "30d"])("heartbeat %j is outside 1s..24d (more than one heartbeat a second is load, not supervision)", (spec) => {
    writeConfig({ heartbeat: spec });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: heartbeat = ${JSON.stringify(spec)} is not valid`);
    expect(err.hint).toBe('expected a duration from 1s to 24d ("30s", "5m") or a 5/6-field cron pattern');
  });

  test("heartbeat bounds themselves are accepted, and a sub-second heartbeat from the environment or a flag names where", () => {
    writeConfig({ heartbeat: "1s" });
    expect(load().config.heartbeat).toBe("1s");
    writeConfig({ heartbeat: "1000ms" });
    expect(load().config.heartbeat).toBe("1000ms");
    writeConfig({ heartbeat: "24d" });
    expect(load().config.heartbeat).toBe("24d");
    expect(configError(() => load({ GTD_HEARTBEAT: "250ms" })).message).toBe('environment GTD_HEARTBEAT: heartbeat = "250ms" is not valid');
    expect(configError(() => load({}, { heartbeat: "100ms" })).message).toBe('flag --heartbeat: heartbeat = "100ms" is not valid');
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
