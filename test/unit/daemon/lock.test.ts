import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { closeSync, existsSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeDaemon, processGone, processState, readPidFile } from "../../../src/daemon/liveness.ts";
import { acquireLock, isLockHeld, lockHolder, lockLostBecause, lockOwner, tryLock, type LockHandle } from "../../../src/daemon/lock.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";
import { waitFor } from "../../helpers/wait.ts";
import { childHoldingLock as spawnLockChild, type LockChild } from "./lock-child.ts";

let dir: string;
let paths: TownPaths;
const handles: LockHandle[] = [];
const children: Array<ReturnType<typeof Bun.spawn>> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-lock-"));
  paths = townPaths(dir);
});
afterEach(async () => {
  for (const h of handles.splice(0)) h.release();
  for (const c of children.splice(0)) {
    c.kill("SIGKILL");
    await c.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function lock(path = paths.lockFile): LockHandle | null {
  const h = tryLock(path);
  if (h) handles.push(h);
  return h;
}

async function childHoldingLock(lockPath: string): Promise<LockChild> {
  const child = await spawnLockChild(dir, lockPath);
  children.push(child.proc);
  return child;
}

describe("tryLock", () => {
  test("a second tryLock in the same process is refused (flock is per open file description)", () => {
    const first = lock();
    expect(first).not.toBeNull();
    expect(lock()).toBeNull();
    expect(existsSync(paths.lockFile)).toBe(true);
  });

  test("release, then the lock can be taken again", () => {
    const first = lock()!;
    first.release();
    const again = lock();
    expect(again).not.toBeNull();
    expect(lock()).toBeNull();
  });

  test("release twice is harmless", () => {
    const h = lock()!;
    h.release();
    expect(() => h.release()).not.toThrow();
  });

  test("creates the daemon directory", () => {
    const path = join(dir, "deep", "daemon", "daemon.lock");
    expect(lock(path)).not.toBeNull();
    expect(existsSync(path)).toBe(true);
  });

  test("writePid records the PID with no newline, replacing what was there", () => {
    const h = lock()!;
    h.writeOwner(String(1234567));
    h.writeOwner(String(42));
    expect(readFileSync(paths.lockFile, "utf8")).toBe("42");
  });

  test("acquireLock gives up after its retry window when the lock stays held", async () => {
    lock();
    expect(await acquireLock(paths.lockFile, 60)).toBeNull();
  });

  test("acquireLock takes a free lock at once", async () => {
    const h = await acquireLock(paths.lockFile, 0);
    expect(h).not.toBeNull();
    handles.push(h!);
  });
});

describe("the lock's identity: does the path still name the file we locked?", () => {
  test("a lock just taken is ours; a second name (hard link made later) does not change that", () => {
    const h = lock()!;
    expect(h.lostBecause()).toBeNull();
    linkSync(paths.lockFile, join(dir, "other-name"));
    expect(h.lostBecause()).toBeNull();
    expect(lockLostBecause(h.fd, paths.lockFile)).toBeNull();
  });

  test("rm daemon/daemon.lock: deleted", () => {
    const h = lock()!;
    rmSync(paths.lockFile);
    expect(h.lostBecause()).toBe("deleted");
  });

  test("rm -r daemon/: deleted with the directory", () => {
    const h = lock()!;
    rmSync(paths.daemonDir, { recursive: true });
    expect(h.lostBecause()).toBe(`deleted with ${paths.daemonDir}`);
  });

  test("deleted and created again (what a second `gtd start` does): another file, though the name is back", () => {
    const h = lock()!;
    rmSync(paths.lockFile);
    writeFileSync(paths.lockFile, "");
    expect(h.lostBecause()).toBe("replaced by another file");
    // ...and that file's lock is free: exactly the second daemon this check exists to stop.
    expect(isLockHeld(paths.lockFile)).toBe(false);
  });

  test("another file renamed over it: replaced", () => {
    const h = lock()!;
    writeFileSync(join(dir, "new"), "x");
    renameSync(join(dir, "new"), paths.lockFile);
    expect(h.lostBecause()).toBe("replaced by another file");
  });

  test("renamed away: deleted, even though the file (and our lock on it) lives on under another name", () => {
    const h = lock()!;
    renameSync(paths.lockFile, join(dir, "moved.lock"));
    expect(h.lostBecause()).toBe("deleted");
  });

  test("a symlink to our own file in its place is not our file: lstat, never followed", () => {
    const h = lock()!;
    renameSync(paths.lockFile, join(dir, "moved.lock"));
    symlinkSync(join(dir, "moved.lock"), paths.lockFile);
    expect(h.lostBecause()).toBe("replaced by a symbolic link");
  });

  test("a descriptor no longer open", () => {
    const fd = openSync(join(dir, "f"), "w");
    closeSync(fd);
    expect(lockLostBecause(fd, join(dir, "f"))).toBe("no longer open");
  });
});

describe("a lock path that is not a plain file of ours is refused, and what it names is untouched", () => {
  const OUTSIDE = "precious bytes outside the town\n";

  test("a symlink to a file outside: refused naming the path; the file is byte-for-byte unchanged", () => {
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, OUTSIDE);
    mkdirSync(paths.daemonDir);
    symlinkSync(outside, paths.lockFile);
    expect(() => tryLock(paths.lockFile)).toThrow(`refusing lock file ${paths.lockFile}: it is a symbolic link`);
    expect(readFileSync(outside, "utf8")).toBe(OUTSIDE);
    // The probes do not follow it either: nobody holds a link, and its target's text is no owner.
    expect(isLockHeld(paths.lockFile)).toBe(false);
    expect(lockOwner(paths.lockFile)).toBeNull();
  });

  test("a hard link to a file outside: refused (writing the owner would truncate it)", () => {
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, OUTSIDE);
    mkdirSync(paths.daemonDir);
    linkSync(outside, paths.lockFile);
    expect(() => tryLock(paths.lockFile)).toThrow(`refusing lock file ${paths.lockFile}: it is a file with 2 names (a hard link)`);
    expect(readFileSync(outside, "utf8")).toBe(OUTSIDE);
  });

  test("a FIFO: refused at once, never waited on", () => {
    mkdirSync(paths.daemonDir);
    expect(Bun.spawnSync(["mkfifo", paths.lockFile]).exitCode).toBe(0);
    expect(() => tryLock(paths.lockFile)).toThrow(`refusing lock file ${paths.lockFile}: it is not a regular file`);
  });

  test("the owner read is bounded, whatever the lock file has grown to", () => {
    mkdirSync(paths.daemonDir);
    writeFileSync(paths.lockFile, `4242${" ".repeat(10_000)}junk`);
    expect(lockOwner(paths.lockFile)).toBe("4242");
  });
});

describe("isLockHeld / lockHolder", () => {
  test("a missing lock file is not held", () => {
    expect(isLockHeld(join(dir, "none.lock"))).toBe(false);
    expect(lockHolder(join(dir, "none.lock"))).toBeNull();
  });

  test("a lock file nobody holds is not held", () => {
    lock()!.release();
    expect(existsSync(paths.lockFile)).toBe(true);
    expect(isLockHeld(paths.lockFile)).toBe(false);
    expect(lockHolder(paths.lockFile)).toBeNull();
  });

  test("a lock this process holds is held, by this process's PID", () => {
    lock()!.writeOwner(String(process.pid));
    expect(isLockHeld(paths.lockFile)).toBe(true);
    expect(lockHolder(paths.lockFile)).toBe(process.pid);
  });

  test("the probe does not disturb the holder: it still holds the lock afterwards", () => {
    lock();
    for (let i = 0; i < 3; i++) expect(isLockHeld(paths.lockFile)).toBe(true);
    expect(lock()).toBeNull();
  });

  test("the holder is named from the kernel even when the lock file says otherwise", () => {
    const h = lock()!;
    h.writeOwner(String(999999));
    // /proc/locks names the real holder; without /proc the file's PID is the fallback.
    const expected = existsSync("/proc/locks") ? process.pid : 999999;
    expect(lockHolder(paths.lockFile)).toBe(expected);
  });
});

describe("a lock held by another process", () => {
  test("is seen as held with the child's PID, and is free once the child is SIGKILLed", async () => {
    mkdirSync(paths.daemonDir, { recursive: true });
    const { proc, pid } = await childHoldingLock(paths.lockFile);
    expect(pid).not.toBe(process.pid);
    expect(isLockHeld(paths.lockFile)).toBe(true);
    expect(lockHolder(paths.lockFile)).toBe(pid);
    expect(lock()).toBeNull();
    writeFileSync(paths.pidFile, String(pid));
    expect(probeDaemon(paths)).toEqual({
      running: true,
      pid,
      pidFile: { raw: String(pid), pid },
      stalePidFile: false,
      tickPid: null,
    });

    proc.kill("SIGKILL");
    await proc.exited;
    await waitFor(() => !isLockHeld(paths.lockFile), { what: "the lock to be released by the kernel" });
    expect(lockHolder(paths.lockFile)).toBeNull();
    const probe = probeDaemon(paths);
    expect(probe.running).toBe(false);
    expect(probe.stalePidFile).toBe(true);
    expect(processGone(pid)).toBe(true);
    // The next start takes the lock.
    expect(lock()).not.toBeNull();
  });
});

describe("probeDaemon", () => {
  test("a PID file with no lock behind it is stale, even when that PID is alive", () => {
    mkdirSync(paths.daemonDir, { recursive: true });
    // This test process is alive: a PID file naming it still does not make a daemon.
    writeFileSync(paths.pidFile, String(process.pid));
    expect(probeDaemon(paths)).toEqual({
      running: false,
      pid: null,
      pidFile: { raw: String(process.pid), pid: process.pid },
      stalePidFile: true,
      tickPid: null,
    });
  });

  test("a lock held by gtd tick is not the daemon: not running, the tick named, never a daemon PID", () => {
    lock()!.writeOwner(`tick ${process.pid}`);
    expect(probeDaemon(paths)).toEqual({ running: false, pid: null, pidFile: { raw: null, pid: null }, stalePidFile: false, tickPid: process.pid });
  });

  test("no PID file and no lock: not running, not stale", () => {
    expect(probeDaemon(paths)).toEqual({ running: false, pid: null, pidFile: { raw: null, pid: null }, stalePidFile: false, tickPid: null });
  });

  test("lock held but no PID file yet: running, with the holder's PID", () => {
    lock()!.writeOwner(String(process.pid));
    const probe = probeDaemon(paths);
    expect(probe.running).toBe(true);
    expect(probe.pid).toBe(process.pid);
    expect(probe.pidFile).toEqual({ raw: null, pid: null });
    expect(probe.stalePidFile).toBe(false);
  });
});

describe("readPidFile", () => {
  test.each([
    ["123", 123],
    ["123\n", 123],
    ["  123  \n", 123],
    ["123\nnonce-abc", 123],
  ])("%j → %d", (raw, pid) => {
    writeFileSync(join(dir, "p"), raw);
    expect(readPidFile(join(dir, "p"))).toEqual({ raw, pid });
  });

  test.each(["abc", "", "0", "-5", "12a", "1.5"])("%j → no PID, raw kept for the report", (raw) => {
    writeFileSync(join(dir, "p"), raw);
    expect(readPidFile(join(dir, "p"))).toEqual({ raw, pid: null });
  });

  test("missing → raw null", () => {
    expect(readPidFile(join(dir, "none"))).toEqual({ raw: null, pid: null });
  });
});

describe("processGone / processState", () => {
  test("a live process is not gone", () => {
    expect(processGone(process.pid)).toBe(false);
    if (existsSync("/proc/self/stat")) expect(processState(process.pid)).not.toBeNull();
  });

  test("an exited and reaped process is gone", async () => {
    const proc = Bun.spawn([process.execPath, "-e", "process.exit(0)"], { stdout: "ignore", stderr: "ignore" });
    await proc.exited;
    expect(processGone(proc.pid)).toBe(true);
    expect(processState(proc.pid)).toBeNull();
  });
});
