import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { outsideTown, parseJsonText, quarantine, readJson, readText, removeStaleTemps, safeUnlink, tempPathFor, tempWrites, writeFileAtomic, writeJsonAtomic } from "../../src/store.ts";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-store-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const expectedMode = 0o644 & ~process.umask();

describe("writeFileAtomic", () => {
  test("writes the exact content, mode 0644, and leaves no temp file behind", () => {
    const path = join(dir, "state.json");
    const content = '{\n  "a": "ünïcødé µs"\n}';
    writeFileAtomic(path, content);
    expect(readFileSync(path, "utf8")).toBe(content);
    expect(statSync(path).mode & 0o777).toBe(expectedMode);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  test("creates the directory (and its parents)", () => {
    const path = join(dir, "daemon", "notifications", "slot-x.json");
    writeFileAtomic(path, "x");
    expect(readFileSync(path, "utf8")).toBe("x");
    expect(statSync(join(dir, "daemon")).isDirectory()).toBe(true);
    expect(readdirSync(join(dir, "daemon", "notifications"))).toEqual(["slot-x.json"]);
  });

  test("an existing file is replaced whole, not overwritten in place", () => {
    const path = join(dir, "f.json");
    writeFileSync(path, "a much longer original content that must vanish entirely");
    const inodeBefore = statSync(path).ino;
    writeFileAtomic(path, "short");
    expect(readFileSync(path, "utf8")).toBe("short");
    // A new file was renamed over the old one: a reader holding the old one never saw a mix.
    expect(statSync(path).ino).not.toBe(inodeBefore);
    expect(readdirSync(dir)).toEqual(["f.json"]);
  });

  test("a file that was 0600 comes back 0644", () => {
    const path = join(dir, "f.json");
    writeFileSync(path, "old");
    chmodSync(path, 0o600);
    writeFileAtomic(path, "new");
    expect(statSync(path).mode & 0o777).toBe(expectedMode);
  });

  test("an empty string writes an empty file", () => {
    const path = join(dir, "empty");
    writeFileAtomic(path, "");
    expect(readFileSync(path, "utf8")).toBe("");
  });

  test("a failed rename throws and removes its temp file", () => {
    const target = join(dir, "taken");
    mkdirSync(join(target, "inner"), { recursive: true });
    expect(() => writeFileAtomic(target, "x")).toThrow();
    expect(readdirSync(dir)).toEqual(["taken"]);
  });

  test("many writes in a row leave only the target", () => {
    const path = join(dir, "n.json");
    for (let i = 0; i < 20; i++) writeFileAtomic(path, String(i));
    expect(readFileSync(path, "utf8")).toBe("19");
    expect(readdirSync(dir)).toEqual(["n.json"]);
  });
});

describe("removeStaleTemps", () => {
  const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
  const HOUR = 3_600_000;
  /** A file in `dir` last modified `ageMs` before NOW. */
  function fileAged(name: string, ageMs: number, content = "partial"): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    const t = (NOW - ageMs) / 1000;
    utimesSync(path, t, t);
    return path;
  }

  test("removes our own temp files older than the bound, and only those", () => {
    const old1 = fileAged(".state.json.4242.1.tmp", 2 * HOUR);
    const old2 = fileAged(".slot-gt-deacon-heartbeat.json.17.305.tmp", 25 * HOUR);
    fileAged(`.state.json.${process.pid}.9.tmp`, 30 * 60_000); // recent: a write may be in flight
    fileAged(".state.json.4242.2.tmp", HOUR); // exactly the bound: not older than it
    fileAged("state.json", 48 * HOUR);
    fileAged(".state.json.tmp", 48 * HOUR); // not our pattern
    fileAged(".state.json.abc.1.tmp", 48 * HOUR);
    fileAged("state.json.4242.1.tmp", 48 * HOUR); // no leading dot
    fileAged(".state.json.4242.1.tmp.bak", 48 * HOUR);
    const removed = removeStaleTemps(dir, NOW, HOUR);
    expect(removed.sort()).toEqual([old1, old2].sort());
    expect(readdirSync(dir).sort()).toEqual(
      [`.state.json.${process.pid}.9.tmp`, ".state.json.4242.2.tmp", "state.json", ".state.json.tmp", ".state.json.abc.1.tmp", "state.json.4242.1.tmp", ".state.json.4242.1.tmp.bak"].sort(),
    );
  });

  test("what a crash between writing and renaming leaves is found (the name writeFileAtomic uses)", () => {
    // writeFileAtomic removes its temp file on failure; name one exactly as it does, from this process.
    const leftover = fileAged(`.state.json.${process.pid}.1.tmp`, 2 * HOUR);
    expect(removeStaleTemps(dir, NOW, HOUR)).toEqual([leftover]);
  });

  test("a directory or a symlink named like a temp file is left alone", () => {
    mkdirSync(join(dir, ".x.json.1.1.tmp"));
    const target = fileAged("target", 48 * HOUR);
    symlinkSync(target, join(dir, ".y.json.1.1.tmp"));
    expect(removeStaleTemps(dir, Date.now() + 48 * HOUR, HOUR)).toEqual([]);
    expect(existsSync(join(dir, ".x.json.1.1.tmp"))).toBe(true);
    expect(existsSync(target)).toBe(true);
  });

  test("never throws: a missing directory, or a path that is a file, gives []", () => {
    expect(removeStaleTemps(join(dir, "nope"), NOW, HOUR)).toEqual([]);
    const file = fileAged("plain", 0);
    expect(removeStaleTemps(file, NOW, HOUR)).toEqual([]);
  });
});

describe("writeJsonAtomic", () => {
  test("2-space indent by default, no trailing newline", () => {
    const path = join(dir, "a.json");
    writeJsonAtomic(path, { b: 1, a: [true, null] });
    expect(readFileSync(path, "utf8")).toBe('{\n  "b": 1,\n  "a": [\n    true,\n    null\n  ]\n}');
    expect(readdirSync(dir)).toEqual(["a.json"]);
  });

  test("compact with indent 0", () => {
    const path = join(dir, "slot.json");
    writeJsonAtomic(path, { slot: "heartbeat", consumed: false }, { indent: 0 });
    expect(readFileSync(path, "utf8")).toBe('{"slot":"heartbeat","consumed":false}');
  });

  test("the indent is named in an options object; an absent or undefined indent is 2", () => {
    const path = join(dir, "o.json");
    writeJsonAtomic(path, { a: 1 }, { indent: 4 });
    expect(readFileSync(path, "utf8")).toBe('{\n    "a": 1\n}');
    writeJsonAtomic(path, { a: 1 }, {});
    expect(readFileSync(path, "utf8")).toBe('{\n  "a": 1\n}');
    writeJsonAtomic(path, { a: 1 }, { indent: undefined });
    expect(readFileSync(path, "utf8")).toBe('{\n  "a": 1\n}');
  });
});

const Schema = v.object({ name: v.string(), nested: v.object({ count: v.number() }) });

describe("readJson", () => {
  test("missing file → missing", () => {
    expect(readJson(join(dir, "nope.json"), Schema)).toEqual({ kind: "missing" });
  });

  test("good file → ok with the parsed value", () => {
    const path = join(dir, "ok.json");
    writeFileSync(path, '{"name":"x","nested":{"count":3}}');
    expect(readJson(path, Schema)).toEqual({ kind: "ok", value: { name: "x", nested: { count: 3 } } });
  });

  test("invalid JSON → corrupt, saying so", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, '{"name": "x"');
    const res = readJson(path, Schema);
    expect(res.kind).toBe("corrupt");
    if (res.kind === "corrupt") expect(res.reason).toStartWith("invalid JSON: ");
  });

  test("an empty file is corrupt, not missing", () => {
    const path = join(dir, "empty.json");
    writeFileSync(path, "");
    expect(readJson(path, Schema).kind).toBe("corrupt");
  });

  test("wrong shape → corrupt with a reason naming the field", () => {
    const path = join(dir, "shape.json");
    writeFileSync(path, '{"name":"x","nested":{"count":"three"}}');
    const res = readJson(path, Schema);
    expect(res.kind).toBe("corrupt");
    if (res.kind === "corrupt") expect(res.reason).toStartWith("nested.count: ");

    writeFileSync(path, '{"nested":{"count":1}}');
    const res2 = readJson(path, Schema);
    if (res2.kind !== "corrupt") throw new Error("expected corrupt");
    expect(res2.reason).toStartWith("name: ");
  });

  test("a top-level value of the wrong type gives a reason without a path", () => {
    const res = parseJsonText("[1,2]", Schema);
    expect(res.kind).toBe("corrupt");
    if (res.kind === "corrupt") expect(res.reason.length).toBeGreaterThan(0);
  });

  test("a directory in place of the file is corrupt, not a throw", () => {
    const path = join(dir, "isdir.json");
    mkdirSync(path);
    expect(readJson(path, Schema).kind).toBe("corrupt");
  });
});

describe("readText", () => {
  test("missing → null, present → text", () => {
    expect(readText(join(dir, "none"))).toBeNull();
    writeFileSync(join(dir, "t"), "hello");
    expect(readText(join(dir, "t"))).toBe("hello");
  });
});

describe("quarantine", () => {
  test("moves a corrupt file aside as <name>.corrupt-<stamp>", () => {
    const path = join(dir, "state.json");
    writeFileSync(path, "{garbage");
    const now = Date.UTC(2026, 10, 25, 12, 9, 13, 883);
    const aside = quarantine(path, now);
    expect(aside).toBe(`${path}.corrupt-2026-11-25T12-09-13-883Z`);
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(aside!, "utf8")).toBe("{garbage");
    expect(readdirSync(dir)).toEqual(["state.json.corrupt-2026-11-25T12-09-13-883Z"]);
  });

  test("a missing file gives null", () => {
    expect(quarantine(join(dir, "none.json"), Date.now())).toBeNull();
  });
});

describe("safeUnlink", () => {
  test("true when removed, false when there was nothing", () => {
    const p = join(dir, "x");
    writeFileSync(p, "");
    expect(safeUnlink(p)).toBe(true);
    expect(existsSync(p)).toBe(false);
    expect(safeUnlink(p)).toBe(false);
  });
});

describe("readText: only regular files, within a cap, without blocking", () => {
  test("a FIFO is refused at once (no writer: a blocking open would freeze the loop)", () => {
    const fifo = join(dir, "heartbeat.json");
    const mk = Bun.spawnSync(["mkfifo", fifo]);
    expect(mk.exitCode).toBe(0);
    expect(() => readText(fifo)).toThrow(`${fifo} is a FIFO, not a regular file`);
    expect(readJson(fifo, v.unknown())).toEqual({ kind: "corrupt", reason: `${fifo} is a FIFO, not a regular file` });
  });

  test("/dev/zero is refused, not read until memory runs out", () => {
    expect(() => readText("/dev/zero", { follow: true })).toThrow("/dev/zero is a character device, not a regular file");
    const link = join(dir, "state.json");
    symlinkSync("/dev/zero", link);
    expect(() => readText(link, { follow: true })).toThrow("is a character device");
  });

  test("a directory is refused", () => {
    mkdirSync(join(dir, "d"));
    expect(() => readText(join(dir, "d"))).toThrow("is a directory, not a regular file");
  });

  test("a file over the cap is refused; one at the cap is read whole", () => {
    const path = join(dir, "big.json");
    writeFileSync(path, "a".repeat(1000));
    expect(readText(path, { maxBytes: 1000 })).toBe("a".repeat(1000));
    expect(() => readText(path, { maxBytes: 999 })).toThrow(`${path} is larger than 999 bytes`);
  });

  test("a symlink is refused unless the caller follows links; a missing file is null", () => {
    const target = join(dir, "outside.json");
    writeFileSync(target, '{"ok":true}');
    const link = join(dir, "link.json");
    symlinkSync(target, link);
    expect(() => readText(link)).toThrow(`${link} is a symbolic link, not read`);
    expect(readText(link, { follow: true })).toBe('{"ok":true}');
    expect(readText(join(dir, "absent.json"))).toBeNull();
  });

  test("multi-byte text and a file larger than one read chunk come back whole", () => {
    const path = join(dir, "u.json");
    const text = "µ€😀".repeat(50_000);
    writeFileSync(path, text);
    expect(readText(path)).toBe(text);
  });
});

describe("writeFileAtomic never follows a planted temp name", () => {
  test("a symlink where the temp file goes makes the write fail; the target is untouched", () => {
    const target = join(dir, "victim");
    writeFileSync(target, "precious");
    const path = join(dir, "f.json");
    symlinkSync(target, tempPathFor(path, tempWrites() + 1));
    expect(() => writeFileAtomic(path, "new")).toThrow("EEXIST");
    expect(readFileSync(target, "utf8")).toBe("precious");
    expect(existsSync(path)).toBe(false);
  });
});

describe("outsideTown", () => {
  test("paths under the root are inside, existing or not; a symlinked directory leading out is not", () => {
    const root = join(dir, "town");
    const outside = join(dir, "elsewhere");
    mkdirSync(join(root, "daemon"), { recursive: true });
    mkdirSync(outside);
    expect(outsideTown(root, join(root, "daemon", "notifications", "slot-x.json"))).toBeNull();
    expect(outsideTown(root, root)).toBeNull();
    symlinkSync(outside, join(root, "daemon", "notifications"));
    const why = outsideTown(root, join(root, "daemon", "notifications", "slot-x.json"));
    expect(why).toContain(`resolves to ${realpathSync(outside)}, outside the town`);
    // A link that stays inside the town is fine.
    mkdirSync(join(root, "real-rig"));
    symlinkSync(join(root, "real-rig"), join(root, "rig"));
    expect(outsideTown(root, join(root, "rig", "witness", "state.json"))).toBeNull();
    // A sibling whose name starts with the root's name is not inside it.
    mkdirSync(`${root}2`);
    expect(outsideTown(root, join(`${root}2`, "x"))).toContain("outside the town");
  });
});
