/**
 * One daemon per town: an exclusive flock(2) on daemon/daemon.lock, taken before anything else is
 * written and released by the kernel when the process dies (kill -9 included). Liveness is judged by
 * this lock, never by kill(pid, 0), which succeeds on zombies and on unrelated processes that reuse a PID.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, ftruncateSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { getLibc } from "./libc.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const flock = () => getLibc().flock;

export interface LockHandle {
  fd: number;
  path: string;
  /**
   * Record who holds the lock (`<pid>` for the daemon, `tick <pid>` for `gtd tick`), so the holder can be
   * named before daemon.pid exists and a tick is never mistaken for the daemon.
   */
  writeOwner(owner: string): void;
  release(): void;
}

/** Try to take the exclusive lock without blocking; null when another process holds it. */
export function tryLock(path: string): LockHandle | null {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // O_CLOEXEC is set by the runtime, so tmux servers and agents we spawn never inherit the lock.
  const fd = openSync(path, "a+", 0o644);
  if (flock()(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    return null;
  }
  return {
    fd,
    path,
    writeOwner(owner) {
      ftruncateSync(fd, 0);
      writeSync(fd, owner, 0);
    },
    release() {
      try {
        flock()(fd, LOCK_UN);
        closeSync(fd);
      } catch {
        // Already closed: the kernel released the lock with the descriptor.
      }
    },
  };
}

/**
 * Take the lock, retrying briefly: a `status` probe holds a shared lock for microseconds, and a start
 * that collides with one must not report "already running".
 */
export async function acquireLock(path: string, retryMs = 500): Promise<LockHandle | null> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    const handle = tryLock(path);
    if (handle || Date.now() >= deadline) return handle;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when some process holds the lock (probe with a shared, non-blocking lock). */
export function isLockHeld(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    if (flock()(fd, LOCK_SH | LOCK_NB) === 0) {
      flock()(fd, LOCK_UN);
      return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * The PID holding the lock, from /proc/locks where the kernel names it; else the PID the holder wrote
 * into the lock file. Null when no one holds it.
 */
export function lockHolder(path: string): number | null {
  if (!isLockHeld(path)) return null;
  try {
    const id = lockFileId(path);
    for (const line of readFileSync("/proc/locks", "utf8").split("\n")) {
      const f = line.trim().split(/\s+/);
      // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF": device (hex major:minor) and inode, so a lock
      // on another filesystem's file with the same inode number is never taken for ours.
      if (f[1] === "FLOCK" && f[3] === "WRITE" && f[5] === id) {
        const pid = Number(f[4]);
        if (Number.isInteger(pid) && pid > 0) return pid;
      }
    }
  } catch {
    // No /proc (macOS): fall back to what the holder wrote.
  }
  try {
    const pid = Number(readFileSync(path, "utf8").trim().split(/\s+/).pop());
    return Number.isInteger(pid) && pid > 0 ? pid : -1;
  } catch {
    return -1;
  }
}

/** `maj:min:inode` as /proc/locks prints it (major and minor in two-digit hex). */
export function lockFileId(path: string): string {
  const st = statSync(path);
  const dev = BigInt(st.dev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const hex = (n: bigint) => n.toString(16).padStart(2, "0");
  return `${hex(major)}:${hex(minor)}:${st.ino}`;
}

/** What the holder wrote into the lock file (`tick <pid>` or `<pid>`); null if unreadable. */
export function lockOwner(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}
