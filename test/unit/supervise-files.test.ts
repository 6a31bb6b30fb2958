/**
 * daemon/supervise/ on a real temp town: paused.json through its schema (missing, corrupt, bad entries),
 * hold and request markers created O_EXCL (an existing one is fine, a planted link is replaced, never
 * followed), the loop's exit file read bounded, identities checked before they become names, and a
 * directory that leads outside the town refused for writes and read as nothing.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GtdError } from "../../src/errors.ts";
import { fileIdentityProblem, superviseFiles, type SuperviseFiles } from "../../src/supervise-files.ts";
import { townStore } from "../../src/tick/town-store.ts";
import { townPaths, type TownPaths } from "../../src/town.ts";

let base: string;
let town: string;
let paths: TownPaths;
let files: SuperviseFiles;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "gtd-supervise-")));
  town = join(base, "town");
  mkdirSync(join(town, "mayor"), { recursive: true });
  paths = townPaths(town);
  files = superviseFiles(paths);
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
};

describe("identities", () => {
  test("deacon and canonical agent identities name files; anything else is refused before it becomes a name", () => {
    for (const ok of ["deacon", "mayor", "gastown-witness", "gastown-refinery", "gastown-crew-joe"]) expect(fileIdentityProblem(ok, town)).toBeNull();
    for (const bad of ["", "../x", "a/b/c/d", "gastown/witness", "Mayor", "-witness", "x y", "paused", "requests", "deacon.hold"]) {
      expect(fileIdentityProblem(bad, town)).not.toBeNull();
    }
    const err = thrown(() => files.setHold("../../etc/passwd", true));
    expect(err).toBeInstanceOf(GtdError);
    expect(err.message).toContain("refusing supervision file");
    expect(existsSync(files.dir)).toBe(false);
    expect(() => files.putRequest("gastown/witness", "restart")).toThrow("not in canonical form (gastown-witness)");
    expect(() => files.writePaused(["mayor", "bad id"])).toThrow("invalid agent identity");
  });
});

describe("paused.json", () => {
  test("missing: nothing paused, no problem", () => {
    expect(files.readPaused()).toEqual({ paused: [], problem: null });
  });

  test("written atomically, sorted and unique, in a 0700 directory; read back", () => {
    files.writePaused(["mayor", "deacon", "mayor"]);
    expect(JSON.parse(readFileSync(files.pausedFile, "utf8"))).toEqual({ paused: ["deacon", "mayor"] });
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(statSync(files.requestsDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(files.dir).sort()).toEqual(["paused.json", "requests"]);
    expect(files.readPaused()).toEqual({ paused: ["deacon", "mayor"], problem: null });
    files.writePaused([]);
    expect(files.readPaused()).toEqual({ paused: [], problem: null });
  });

  test("corrupt (bad JSON, wrong shape, not a file): nothing paused, and the reason names the file", () => {
    mkdirSync(files.dir, { recursive: true });
    for (const text of ["{ nope", '{"paused": "mayor"}', "[]", '{"paused": [1]}']) {
      writeFileSync(files.pausedFile, text);
      const r = files.readPaused();
      expect(r.paused).toEqual([]);
      expect(r.problem).toContain(files.pausedFile);
    }
    rmSync(files.pausedFile);
    mkdirSync(files.pausedFile);
    expect(files.readPaused().problem).toContain("is a directory");
  });

  test("an entry that is not an identity is dropped with a problem; the rest stay paused", () => {
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.pausedFile, JSON.stringify({ paused: ["mayor", "../x", "deacon"] }));
    const r = files.readPaused();
    expect(r.paused).toEqual(["deacon", "mayor"]);
    expect(r.problem).toBe(`${files.pausedFile}: ignoring "../x" (not an agent identity)`);
  });

  test("a symlinked paused.json is not followed", () => {
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(join(base, "elsewhere.json"), JSON.stringify({ paused: ["mayor"] }));
    symlinkSync(join(base, "elsewhere.json"), files.pausedFile);
    const r = files.readPaused();
    expect(r.paused).toEqual([]);
    expect(r.problem).toContain("symbolic link");
  });
});

describe("hold files", () => {
  test("on creates an empty file once (false the second time); off removes it (false when gone)", () => {
    expect(files.setHold("mayor", true)).toBe(true);
    expect(lstatSync(files.holdFile("mayor")).isFile()).toBe(true);
    expect(readFileSync(files.holdFile("mayor"), "utf8")).toBe("");
    expect(files.holdExists("mayor")).toBe(true);
    expect(files.setHold("mayor", true)).toBe(false);
    expect(files.setHold("mayor", false)).toBe(true);
    expect(files.holdExists("mayor")).toBe(false);
    expect(files.setHold("mayor", false)).toBe(false);
  });

  test("a link planted at the hold's name is replaced by a file, and its target is untouched", () => {
    mkdirSync(files.dir, { recursive: true });
    const target = join(base, "victim");
    writeFileSync(target, "keep me");
    symlinkSync(target, files.holdFile("deacon"));
    expect(files.setHold("deacon", true)).toBe(true);
    expect(lstatSync(files.holdFile("deacon")).isFile()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe("keep me");
  });

  test("a directory at the hold's name is refused with a line naming it", () => {
    mkdirSync(files.holdFile("deacon"), { recursive: true });
    expect(() => files.setHold("deacon", true)).toThrow(`${files.holdFile("deacon")} is a directory`);
    expect(() => files.setHold("deacon", false)).toThrow(`${files.holdFile("deacon")} is a directory`);
  });
});

describe("exit files", () => {
  test("the loop's `<runs> <status>` is read; anything else is null", () => {
    mkdirSync(files.dir, { recursive: true });
    expect(files.readExit("deacon")).toBeNull();
    writeFileSync(files.exitFile("deacon"), "3 137\n");
    expect(files.readExit("deacon")).toEqual({ runs: 3, status: 137 });
    for (const text of ["", "137\n", "3 256\n", "x 1\n", "3 1 2\n", "-1 0\n", `1 ${"0".repeat(100)}\n`]) {
      writeFileSync(files.exitFile("deacon"), text);
      expect({ text, exit: files.readExit("deacon") }).toEqual({ text, exit: null });
    }
  });

  test("bounded and never blocking: a large file, a FIFO, a directory or a link is null", () => {
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.exitFile("deacon"), `1 0\n${" ".repeat(1 << 20)}`);
    expect(files.readExit("deacon")).toBeNull();
    rmSync(files.exitFile("deacon"));
    writeFileSync(join(base, "exit"), "1 0\n");
    symlinkSync(join(base, "exit"), files.exitFile("deacon"));
    expect(files.readExit("deacon")).toBeNull();
    mkdirSync(files.exitFile("mayor"));
    expect(files.readExit("mayor")).toBeNull();
    // A FIFO with no writer: a blocking read would hang the pass.
    expect(Bun.spawnSync(["mkfifo", files.exitFile("gastown-witness")]).exitCode).toBe(0);
    expect(files.readExit("gastown-witness")).toBeNull();
  });
});

describe("requests", () => {
  test("put creates requests/<identity>.<kind> once; list names the valid ones; take removes them", () => {
    expect(files.listRequests()).toEqual([]);
    expect(files.putRequest("mayor", "restart")).toBe(true);
    expect(files.putRequest("mayor", "restart")).toBe(false);
    expect(files.putRequest("deacon", "reset")).toBe(true);
    expect(readdirSync(files.requestsDir).sort()).toEqual(["deacon.reset", "mayor.restart"]);
    // Names that are not ours are ignored, not acted on.
    for (const stray of ["mayor.cycle", "bad id.restart", ".restart", "mayor", ".mayor.restart.1.2.tmp"]) writeFileSync(join(files.requestsDir, stray), "");
    mkdirSync(join(files.requestsDir, "gastown-witness.reset"));
    expect(files.listRequests()).toEqual([
      { identity: "deacon", kind: "reset" },
      { identity: "mayor", kind: "restart" },
    ]);
    expect(files.takeRequest("mayor", "restart")).toBe(true);
    expect(files.takeRequest("mayor", "restart")).toBe(false);
    expect(files.listRequests()).toEqual([{ identity: "deacon", kind: "reset" }]);
  });
});

describe("a directory that leads outside the town", () => {
  test("daemon/ linked out of the town: writes refused naming the path, nothing made outside; reads give nothing", () => {
    const outside = join(base, "outside");
    mkdirSync(outside);
    symlinkSync(outside, paths.daemonDir);
    for (const write of [() => files.setHold("mayor", true), () => files.putRequest("mayor", "reset"), () => files.writePaused(["mayor"])]) {
      const err = thrown(write);
      expect(err).toBeInstanceOf(GtdError);
      expect(err.message).toContain(`refusing ${files.dir}`);
      expect(err.message).toContain("outside the town");
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(files.readPaused().problem).toContain("outside the town");
    expect(files.listRequests()).toEqual([]);
  });

  test("daemon/supervise linked out of the town: the same; a link that stays inside is fine", () => {
    mkdirSync(paths.daemonDir);
    const outside = join(base, "outside");
    mkdirSync(join(outside, "requests"), { recursive: true });
    writeFileSync(join(outside, "mayor.exit"), "1 0\n");
    writeFileSync(join(outside, "requests", "mayor.restart"), "");
    symlinkSync(outside, files.dir);
    expect(() => files.setHold("mayor", true)).toThrow("outside the town");
    expect(() => files.takeRequest("mayor", "restart")).toThrow("outside the town");
    expect(files.readExit("mayor")).toBeNull();
    expect(files.listRequests()).toEqual([]);
    expect(readdirSync(outside).sort()).toEqual(["mayor.exit", "requests"]);

    rmSync(files.dir);
    mkdirSync(join(town, "elsewhere-in-town"));
    symlinkSync(join(town, "elsewhere-in-town"), files.dir);
    expect(files.setHold("mayor", true)).toBe(true);
    expect(existsSync(join(town, "elsewhere-in-town", "mayor.hold"))).toBe(true);
  });
});

describe("the store port", () => {
  test("supervisionFiles reads paused, holds and exits for the identities asked, every valid request, and problems as lines", () => {
    const store = townStore(paths);
    expect(store.supervisionFiles(["deacon"])).toEqual({ paused: new Set(), holds: new Set(), runs: new Map(), requests: [], problems: [] });
    files.writePaused(["mayor"]);
    files.setHold("mayor", true);
    files.setHold("gastown-witness", true);
    writeFileSync(files.exitFile("mayor"), "2 1\n");
    files.putRequest("deacon", "restart");
    const got = store.supervisionFiles(["deacon", "mayor"]);
    expect(got).toEqual({
      paused: new Set(["mayor"]),
      holds: new Set(["mayor"]),
      runs: new Map([["mayor", { runs: 2, status: 1 }]]),
      requests: [{ identity: "deacon", kind: "restart" }],
      problems: [],
    });
    expect(store.setHold("deacon", true)).toBe(true);
    expect(store.takeRequest("deacon", "restart")).toBe(true);
    expect(store.supervisionFiles(["deacon"])).toMatchObject({ holds: new Set(["deacon"]), requests: [] });
    writeFileSync(files.pausedFile, "{ nope");
    expect(store.supervisionFiles(["deacon"]).problems).toEqual([expect.stringContaining(files.pausedFile)]);
  });

  test("supervisionFiles never throws: a directory outside the town is one problem and nothing else", () => {
    const outside = join(base, "outside");
    mkdirSync(outside);
    symlinkSync(outside, paths.daemonDir);
    const got = townStore(paths).supervisionFiles(["deacon"]);
    expect(got.paused.size + got.holds.size + got.runs.size + got.requests.length).toBe(0);
    expect(got.problems).toEqual([expect.stringContaining("outside the town")]);
  });
});
