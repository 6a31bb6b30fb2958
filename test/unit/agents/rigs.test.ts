import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverRigs } from "../../../src/agents/rigs.ts";

let town: string;
beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-rigs-"));
  mkdirSync(join(town, "mayor"));
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

const dir = (...p: string[]) => mkdirSync(join(town, ...p), { recursive: true });
const file = (content: string, ...p: string[]) => writeFileSync(join(town, ...p), content);
const rigsJson = (value: unknown) => file(typeof value === "string" ? value : JSON.stringify(value), "mayor", "rigs.json");

/** A town where the scan would find `scanned` and rigs.json (when written) lists others. */
function scannable() {
  dir("scanned", ".beads");
}

describe("rigs.json", () => {
  test("lists rigs that exist as directories, sorted", () => {
    scannable();
    dir("zeta");
    dir("alpha");
    rigsJson({ version: 1, rigs: { zeta: { git_url: "x" }, alpha: {}, ghost: {} } });
    expect(discoverRigs(town)).toEqual({ rigs: ["alpha", "zeta"], source: "rigs.json" });
  });

  test("a missing version is accepted; extra keys are ignored", () => {
    dir("a");
    rigsJson({ rigs: { a: {} }, owner: "me" });
    expect(discoverRigs(town)).toEqual({ rigs: ["a"], source: "rigs.json" });
  });

  test("rigs: null or absent → none (no fallback)", () => {
    scannable();
    rigsJson({ version: 1, rigs: null });
    expect(discoverRigs(town)).toEqual({ rigs: [], source: "rigs.json" });
    rigsJson({ version: 1 });
    expect(discoverRigs(town)).toEqual({ rigs: [], source: "rigs.json" });
  });

  test("invalid names are ignored with a warning, never turned into paths", () => {
    dir("x");
    dir("ok_rig-2");
    dir("my.rig");
    dir("-x");
    rigsJson({ version: 1, rigs: { "../x": {}, "ok_rig-2": {}, "my.rig": {}, "": {}, "a/b": {}, "-x": {}, ["r".repeat(65)]: {} } });
    const r = discoverRigs(town);
    expect(r.rigs).toEqual(["ok_rig-2"]);
    expect(r.source).toBe("rigs.json");
    expect(r.warning).toContain('"../x"');
    expect(r.warning).toContain('"my.rig"');
  });

  test("a file named like a rig is not a rig", () => {
    file("", "notadir");
    rigsJson({ version: 1, rigs: { notadir: {} } });
    expect(discoverRigs(town).rigs).toEqual([]);
  });
});

describe("fallback scan", () => {
  test("used when rigs.json is missing: subdirs with .beads or config.json, minus mayor/daemon/dot-dirs", () => {
    dir("beadsrig", ".beads");
    dir("configrig");
    file("{}", "configrig", "config.json");
    dir("plain");
    dir("nested", "sub");
    file("{}", "nested", "sub", "config.json"); // only <rig>/config.json counts
    dir("daemon", ".beads");
    file("{}", "mayor", "config.json");
    dir(".hidden", ".beads");
    dir(".git", ".beads");
    file("{}", "config.json");
    const r = discoverRigs(town);
    expect(r).toEqual({ rigs: ["beadsrig", "configrig"], source: "scan" });
  });

  test("a rig directory symlinked inside the town counts", () => {
    mkdirSync(join(town, "store", "real", ".beads"), { recursive: true });
    symlinkSync(join(town, "store", "real"), join(town, "linked"));
    expect(discoverRigs(town).rigs).toEqual(["linked"]);
  });

  test("a rig directory symlinked outside the town is ignored, with a warning naming it (scan and rigs.json)", () => {
    const outside = mkdtempSync(join(tmpdir(), "gtd-rigs-out-"));
    try {
      mkdirSync(join(outside, ".beads"));
      symlinkSync(outside, join(town, "linked"));
      const scanned = discoverRigs(town);
      expect(scanned.rigs).toEqual([]);
      expect(scanned.warning).toBe('ignored rig whose directory resolves outside the town: "linked"');
      rigsJson(JSON.stringify({ version: 1, rigs: { linked: {} } }));
      const listed = discoverRigs(town);
      expect(listed).toEqual({ rigs: [], source: "rigs.json", warning: 'ignored rig whose directory resolves outside the town: "linked"' });
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test("malformed rigs.json → warning naming the file, then scan", () => {
    scannable();
    rigsJson("{not json");
    const r = discoverRigs(town);
    expect(r.rigs).toEqual(["scanned"]);
    expect(r.source).toBe("scan");
    expect(r.warning).toContain(join(town, "mayor", "rigs.json"));
  });

  test("wrong shape in rigs.json → warning, then scan", () => {
    scannable();
    rigsJson({ version: 1, rigs: ["a"] });
    const r = discoverRigs(town);
    expect(r).toMatchObject({ rigs: ["scanned"], source: "scan" });
    expect(r.warning).toContain("rigs.json");
  });

  test("version 2 → warning, then scan", () => {
    scannable();
    dir("listed");
    rigsJson({ version: 2, rigs: { listed: {} } });
    const r = discoverRigs(town);
    expect(r).toMatchObject({ rigs: ["scanned"], source: "scan" });
    expect(r.warning).toContain("unsupported version 2");
  });

  test("invalid directory names found by the scan are skipped with a warning", () => {
    scannable();
    dir("bad.name", ".beads");
    const r = discoverRigs(town);
    expect(r.rigs).toEqual(["scanned"]);
    expect(r.warning).toContain('"bad.name"');
  });

  test("a missing town never throws", () => {
    const r = discoverRigs(join(town, "nope"));
    expect(r.rigs).toEqual([]);
    expect(r.source).toBe("scan");
    expect(r.warning).toContain("cannot read town directory");
  });
});
