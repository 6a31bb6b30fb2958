/** Badly formed config values, from the file, the environment or a flag: refused, naming where, what and the expected form. */
import { describe, expect, test } from "bun:test";
import { loadEffectiveConfig } from "../../../src/config/effective.ts";
import { GtdError } from "../../../src/errors.ts";
import { asyncConfigError, configError, load, paths, useConfigTown, writeConfig } from "./helpers.ts";

useConfigTown();

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

  test.each(["61 * * * *", "0 0 30 2 *"])("%j (croner refuses it, or it never runs) is refused by every loader, not only the daemon's", (spec) => {
    writeConfig({ heartbeat: spec });
    const err = configError(() => load());
    expect(err.message).toBe(`${paths.configFile}: heartbeat = ${JSON.stringify(spec)} is not valid`);
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
