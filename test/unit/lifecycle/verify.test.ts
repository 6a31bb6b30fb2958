import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GtdError } from "../../../src/errors.ts";
import { clearRequestFlag, goValue, rfc3339Seconds, setRequestFlag, verifyRequestFlag } from "../../../src/lifecycle/verify.ts";

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-verify-"));
  file = join(dir, "witness", "state.json");
  mkdirSync(join(dir, "witness"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const put = (text: string) => writeFileSync(file, text);
const reason = (r: ReturnType<typeof verifyRequestFlag>) => (r.ok ? "ok" : r.reason);

describe("verifyRequestFlag: the original's reasons, verbatim", () => {
  test("true passes", () => {
    put('{"requesting_cycle": true}');
    expect(verifyRequestFlag(file, "cycle")).toEqual({ ok: true });
  });

  test("file not found", () => {
    expect(reason(verifyRequestFlag(file, "restart"))).toBe(
      `agent state file not found: ${file} (agent must set requesting_restart=true before lifecycle request)`,
    );
  });

  test("bad JSON", () => {
    put("{not json");
    expect(reason(verifyRequestFlag(file, "cycle"))).toMatch(/^parsing agent state: .+/);
  });

  test.each(["[]", '["requesting_cycle"]', "42", '"x"', "null", "true"])("not an object: %p", (text) => {
    put(text);
    expect(reason(verifyRequestFlag(file, "cycle"))).toMatch(/^parsing agent state: .+/);
  });

  test("unreadable (a directory)", () => {
    mkdirSync(join(dir, "dir.json"));
    expect(reason(verifyRequestFlag(join(dir, "dir.json"), "cycle"))).toMatch(/^reading agent state: .+/);
  });

  test("missing field", () => {
    put('{"requesting_cycle": true}');
    expect(reason(verifyRequestFlag(file, "shutdown"))).toBe(
      "agent state missing requesting_shutdown field (agent must set this before lifecycle request)",
    );
  });

  test.each([
    ['"true"', "true"],
    ["null", "<nil>"],
    ["false", "false"],
    ["1", "1"],
    ["0", "0"],
    ["1.5", "1.5"],
    ["1000000", "1e+06"],
    ["123456", "123456"],
    ["0.00001", "1e-05"],
    ['"yes"', "yes"],
    ["[true, 1]", "[true 1]"],
    ['{"b": 1, "a": "x"}', "map[a:x b:1]"],
  ])("not true: %s prints as %p (Go %%v)", (json, printed) => {
    put(`{"requesting_cycle": ${json}}`);
    expect(reason(verifyRequestFlag(file, "cycle"))).toBe(`agent state requesting_cycle is not true (got: ${printed})`);
  });
});

describe("goValue", () => {
  test("scalars", () => {
    expect(goValue(-0)).toBe("-0");
    expect(goValue(-2.5e-7)).toBe("-2.5e-07");
    expect(goValue(1e21)).toBe("1e+21");
    expect(goValue(0.0001)).toBe("0.0001");
  });
});

describe("clearRequestFlag", () => {
  test("removes the flag, keeps every other key in order, 2-space indent", () => {
    put('{"zeta":1,"requesting_cycle":true,"alpha":{"n":[1,2]},"requesting_time":"2025-01-01T00:00:00Z","requesting_restart":true}');
    expect(clearRequestFlag(file, "cycle")).toBe(true);
    const text = readFileSync(file, "utf8");
    expect(text).toBe(
      JSON.stringify({ zeta: 1, alpha: { n: [1, 2] }, requesting_time: "2025-01-01T00:00:00Z", requesting_restart: true }, null, 2),
    );
    expect(Object.keys(JSON.parse(text))).toEqual(["zeta", "alpha", "requesting_time", "requesting_restart"]);
    // After clearing, a duplicate request fails verification.
    expect(reason(verifyRequestFlag(file, "cycle"))).toMatch(/missing requesting_cycle field/);
  });

  test("keeps a trailing newline the agent wrote", () => {
    put('{\n  "requesting_cycle": true,\n  "x": 1\n}\n');
    clearRequestFlag(file, "cycle");
    expect(readFileSync(file, "utf8")).toBe('{\n  "x": 1\n}\n');
  });

  test("nothing to clear: missing file or missing key leaves things alone", () => {
    expect(clearRequestFlag(file, "cycle")).toBe(false);
    expect(existsSync(file)).toBe(false);
    put('{"a": 1}');
    expect(clearRequestFlag(file, "cycle")).toBe(false);
    expect(readFileSync(file, "utf8")).toBe('{"a": 1}');
  });

  test("a false flag is removed too", () => {
    put('{"requesting_cycle": false}');
    expect(clearRequestFlag(file, "cycle")).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("{}");
  });

  test("a corrupt file is a STORE error and is left as it was", () => {
    put("{corrupt");
    expect(() => clearRequestFlag(file, "cycle")).toThrow(GtdError);
    expect(readFileSync(file, "utf8")).toBe("{corrupt");
  });

  test("atomic: no temp files left behind", () => {
    put('{"requesting_cycle": true}');
    clearRequestFlag(file, "cycle");
    expect(readdirSync(join(dir, "witness"))).toEqual(["state.json"]);
  });
});

describe("setRequestFlag", () => {
  const now = Date.UTC(2025, 11, 20, 18, 23, 45, 678);

  test("creates the file and its directory", () => {
    const deep = join(dir, "gastown", "crew", "joe", "state.json");
    setRequestFlag(deep, "restart", now);
    expect(JSON.parse(readFileSync(deep, "utf8"))).toEqual({ requesting_restart: true, requesting_time: "2025-12-20T18:23:45Z" });
    expect(verifyRequestFlag(deep, "restart")).toEqual({ ok: true });
  });

  test("merges into the existing object, keeping keys and order", () => {
    put('{"role":"witness","requesting_time":"old","requesting_cycle":false,"n":2}');
    setRequestFlag(file, "cycle", now);
    const text = readFileSync(file, "utf8");
    expect(Object.keys(JSON.parse(text))).toEqual(["role", "requesting_time", "requesting_cycle", "n"]);
    expect(JSON.parse(text)).toEqual({ role: "witness", requesting_time: "2025-12-20T18:23:45Z", requesting_cycle: true, n: 2 });
    expect(text).toContain('\n  "role": "witness"');
  });

  test("set, verify, clear round trip", () => {
    setRequestFlag(file, "shutdown", now);
    expect(verifyRequestFlag(file, "shutdown")).toEqual({ ok: true });
    expect(clearRequestFlag(file, "shutdown")).toBe(true);
    expect(verifyRequestFlag(file, "shutdown").ok).toBe(false);
  });

  test.each(["{corrupt", "[1,2]", "7"])("a corrupt existing file (%p) is refused, naming the file, not overwritten", (text) => {
    put(text);
    let caught: unknown;
    try {
      setRequestFlag(file, "cycle", now);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GtdError);
    expect((caught as GtdError).code).toBe("STORE");
    expect((caught as GtdError).message).toContain(file);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  test("an unwritable directory is an error, not a silent success", () => {
    if (process.getuid?.() === 0) return; // root writes anywhere
    chmodSync(join(dir, "witness"), 0o500);
    try {
      expect(() => setRequestFlag(file, "cycle", now)).toThrow();
    } finally {
      chmodSync(join(dir, "witness"), 0o755);
    }
  });

  test("requesting_time is RFC3339 UTC with whole seconds", () => {
    expect(rfc3339Seconds(now)).toBe("2025-12-20T18:23:45Z");
    expect(rfc3339Seconds(Date.UTC(2026, 0, 1))).toBe("2026-01-01T00:00:00Z");
  });
});
