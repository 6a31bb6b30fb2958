/**
 * LockGuard against real files and flock: a lost lock file is re-taken (directory re-created, owner
 * written, PID file and state rewritten by the callback, one line), or, when another process holds the
 * new one, the guard steps down once and stays down. With watch(), a deletion is noticed without a pass.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LockGuard } from "../../../src/daemon/lock-guard.ts";
import { lockHolder, lockOwner, tryLock } from "../../../src/daemon/lock.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";
import { waitFor } from "../../helpers/wait.ts";
import { childHoldingLock, type LockChild } from "./lock-child.ts";

let dir: string;
let paths: TownPaths;
let guard: LockGuard | null;
const children: LockChild[] = [];

interface Seen {
  lines: string[];
  retaken: number;
  stepDown: number[];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-guard-"));
  paths = townPaths(join(dir, "town"));
  mkdirSync(paths.root);
  guard = null;
});
afterEach(async () => {
  guard?.release();
  for (const c of children.splice(0)) {
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function start(): { g: LockGuard; seen: Seen } {
  const lock = tryLock(paths.lockFile)!;
  lock.writeOwner(String(process.pid));
  const seen: Seen = { lines: [], retaken: 0, stepDown: [] };
  const g = new LockGuard(lock, {
    paths,
    log: (m) => void seen.lines.push(m),
    onRetaken: () => {
      seen.retaken += 1;
      return null;
    },
    onStepDown: (code) => void seen.stepDown.push(code),
  });
  guard = g;
  return { g, seen };
}

describe("exclusive()", () => {
  test("while the lock file is intact: true, and nothing said", () => {
    const { g, seen } = start();
    for (let i = 0; i < 3; i++) expect(g.exclusive()).toBe(true);
    expect(seen).toEqual({ lines: [], retaken: 0, stepDown: [] });
  });

  test("lock file deleted: re-taken at the path, owner written, callback run, one line", () => {
    const { g, seen } = start();
    rmSync(paths.lockFile);
    expect(g.exclusive()).toBe(true);
    expect(lockHolder(paths.lockFile)).toBe(process.pid);
    expect(lockOwner(paths.lockFile)).toBe(String(process.pid));
    expect(seen.retaken).toBe(1);
    expect(seen.lines).toEqual([`Lock file ${paths.lockFile} was deleted; re-took the lock and rewrote daemon.pid and state.json`]);
    // Settled: the next checks find our new file.
    expect(g.exclusive()).toBe(true);
    expect(seen.lines.length).toBe(1);
  });

  test("daemon/ deleted: the directory is made again and the lock re-taken", () => {
    const { g, seen } = start();
    rmSync(paths.daemonDir, { recursive: true });
    expect(g.exclusive()).toBe(true);
    expect(lockHolder(paths.lockFile)).toBe(process.pid);
    expect(seen.lines).toEqual([`Lock file ${paths.lockFile} was deleted with ${paths.daemonDir}; re-took the lock and rewrote daemon.pid and state.json`]);
  });

  test("a re-take whose PID file and state cannot be rewritten says so in its one line", () => {
    const lock = tryLock(paths.lockFile)!;
    const lines: string[] = [];
    guard = new LockGuard(lock, { paths, log: (m) => void lines.push(m), onRetaken: () => "but could not rewrite daemon.pid and state.json: EROFS", onStepDown: () => {} });
    rmSync(paths.lockFile);
    expect(guard.exclusive()).toBe(true);
    expect(lines).toEqual([`Lock file ${paths.lockFile} was deleted; re-took the lock (but could not rewrite daemon.pid and state.json: EROFS)`]);
  });

  test("another process holds the new lock file: step down once (exit 0), never re-take, stay down", async () => {
    const { g, seen } = start();
    rmSync(paths.lockFile);
    const other = await childHoldingLock(dir, paths.lockFile);
    children.push(other);
    expect(g.exclusive()).toBe(false);
    expect(seen.stepDown).toEqual([0]);
    expect(seen.retaken).toBe(0);
    expect(seen.lines).toEqual([
      `Lock file ${paths.lockFile} was replaced by another file and PID ${other.pid} now holds the new one; stepping down, leaving its PID file and state alone`,
    ]);
    // The other holder keeps its lock and its owner line.
    expect(lockHolder(paths.lockFile)).toBe(other.pid);
    expect(lockOwner(paths.lockFile)).toBe(String(other.pid));
    // Down is down: even once the other lets go, this guard never acts again.
    other.proc.kill("SIGKILL");
    await other.proc.exited;
    await waitFor(() => lockHolder(paths.lockFile) === null, { what: "the child's lock released" });
    expect(g.exclusive()).toBe(false);
    expect(seen.stepDown).toEqual([0]);
    expect(seen.lines.length).toBe(1);
  });

  test("a symlink planted where the lock was: not followed, step down (exit 1); its target unchanged", () => {
    const { g, seen } = start();
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, "outside\n");
    rmSync(paths.lockFile);
    symlinkSync(outside, paths.lockFile);
    expect(g.exclusive()).toBe(false);
    expect(seen.stepDown).toEqual([1]);
    expect(seen.lines).toEqual([
      `Lock file ${paths.lockFile} was replaced by a symbolic link and cannot be re-taken safely (refusing lock file ${paths.lockFile}: it is a symbolic link); stepping down`,
    ]);
    expect(readFileSync(outside, "utf8")).toBe("outside\n");
  });

  test("daemon/ replaced by a link out of the town: step down (exit 1), nothing created outside", () => {
    const { g, seen } = start();
    const outside = join(dir, "elsewhere");
    mkdirSync(outside);
    rmSync(paths.daemonDir, { recursive: true });
    symlinkSync(outside, paths.daemonDir);
    expect(g.exclusive()).toBe(false);
    expect(seen.stepDown).toEqual([1]);
    expect(seen.lines[0]).toMatch(/cannot be re-taken safely \(refusing .*daemon: .* resolves to .*elsewhere, outside the town/);
    expect(Bun.spawnSync(["ls", "-A", outside]).stdout.toString()).toBe("");
  });
});

describe("watch()", () => {
  test("a deleted lock file is re-taken with no pass and no call: the inotify watch notices", async () => {
    const { g, seen } = start();
    g.watch();
    const t0 = performance.now();
    rmSync(paths.lockFile);
    await waitFor(() => seen.retaken === 1, { what: "the watch to re-take the lock" });
    const noticedMs = performance.now() - t0;
    console.log(`[figure] lock file deletion noticed and re-taken after ${noticedMs.toFixed(0)} ms (settle ${200} ms)`);
    expect(lockHolder(paths.lockFile)).toBe(process.pid);
    // And the new directory is watched too: a second deletion (of daemon/ this time) is also noticed.
    rmSync(paths.daemonDir, { recursive: true });
    await waitFor(() => seen.retaken === 2, { what: "the second re-take" });
    expect(lockHolder(paths.lockFile)).toBe(process.pid);
    expect(seen.stepDown).toEqual([]);
  });

  test("other files changing in daemon/ (state, log) say nothing and re-take nothing", async () => {
    const { g, seen } = start();
    g.watch();
    for (let i = 0; i < 20; i++) writeFileSync(join(paths.daemonDir, "state.json"), String(i));
    rmSync(paths.lockFile); // a marker: once this is re-taken, the earlier events were all handled
    await waitFor(() => seen.retaken === 1, { what: "the re-take after the writes" });
    expect(seen.lines.length).toBe(1);
  });
});
