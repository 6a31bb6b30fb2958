import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { probeDaemon, processGone, processState, readPidFile } from "../../../src/daemon/liveness.ts";
import { acquireLock, isLockHeld, lockHolder, tryLock, type LockHandle } from "../../../src/daemon/lock.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";
import { waitFor } from "../../helpers/wait.ts";

const LOCK_MODULE = resolve(import.meta.dir, "../../../src/daemon/lock.ts");

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

/** A child bun process that takes the lock through the same module, prints READY, then waits forever. */
async function childHoldingLock(lockPath: string): Promise<{ proc: ReturnType<typeof Bun.spawn>; pid: number }> {
  const script = join(dir, "hold-lock.ts");
  writeFileSync(
    script,
    `import { tryLock } from ${JSON.stringify(LOCK_MODULE)};
const h = tryLock(process.argv[2]);
if (!h) { console.log("BUSY"); process.exit(3); }
h.writeOwner(String(process.pid));
console.log("READY");
setInterval(() => {}, 1 << 30);
`,
  );
  const proc = Bun.spawn([process.execPath, script, lockPath], { stdout: "pipe", stderr: "pipe" });
  children.push(proc);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  if (out.trim() !== "READY") {
    const err = await new Response(proc.stderr as ReadableStream<Uint8Array>).text();
    throw new Error(`child did not take the lock: ${JSON.stringify(out)} ${err}`);
  }
  return { proc, pid: proc.pid };
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
