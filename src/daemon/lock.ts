/**
 * One daemon per town: an exclusive flock(2) on daemon/daemon.lock, taken before anything else is
 * written and released by the kernel when the process dies (kill -9 included). Liveness is judged by
 * this lock, never by kill(pid, 0), which succeeds on zombies and on unrelated processes that reuse a PID.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { GtdError } from "../errors.ts";
import { getLibc } from "./libc.ts";

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const flock = () => getLibc().flock;

/**
 * Never follow a link at daemon.lock (a planted symlink once made gtd truncate a file outside the town)
 * and never block opening it (a FIFO there would freeze the start). O_CLOEXEC is set by the runtime, so
 * tmux servers and agents we spawn never inherit the lock.
 */
const OPEN_LOCK = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const PROBE_LOCK = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface LockHandle {
  fd: number;
  path: string;
  /**
   * Record who holds the lock (`<pid>` for the daemon, `tick <pid>` for `gtd tick`), so the holder can be
   * named before daemon.pid exists and a tick is never mistaken for the daemon.
   */
  writeOwner(owner: string): void;
  /** Why the lock path no longer names the file this handle locked; null while it still does. */
  lostBecause(): string | null;
  release(): void;
}

/** The refusal for a lock path that is not a plain file of ours: named, with what it is. */
function unsafeLock(path: string, what: string): GtdError {
  return new GtdError("START_FAILED", `refusing lock file ${path}: it is ${what}`, "remove it; gtd only locks a regular file of its own inside the town");
}

/** What a lock file is instead of a regular file with one name (ours to truncate); null when it is one. */
function notOurs(st: Stats): string | null {
  if (st.isSymbolicLink()) return "a symbolic link";
  if (!st.isFile()) return "not a regular file";
  return st.nlink > 1 ? `a file with ${st.nlink} names (a hard link)` : null;
}

/**
 * The same refusal as tryLock's, by lstat and without opening anything: `gtd start` says it on the user's
 * terminal before launching a daemon that would only refuse in the log.
 */
export function refuseUnsafeLockPath(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // missing (created when locked) or unreadable (tryLock will say why)
  }
  const what = notOurs(st);
  if (what) throw unsafeLock(path, what);
}

/**
 * Try to take the exclusive lock without blocking; null when another process holds it. Throws a
 * GtdError naming the path when it is a symlink, not a regular file, or a file with other names (a hard
 * link to a file elsewhere): the lock file is truncated when the owner is written, so it must be ours.
 */
export function tryLock(path: string): LockHandle | null {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let fd: number;
  try {
    fd = openSync(path, OPEN_LOCK, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw unsafeLock(path, "a symbolic link");
    throw err;
  }
  const what = notOurs(fstatSync(fd));
  if (what) {
    closeSync(fd);
    throw unsafeLock(path, what);
  }
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
    lostBecause: () => lockLostBecause(fd, path),
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
 * Why `path` no longer names the file locked through `fd`, or null while it still does. flock(2) locks a
 * file, not a name: once the name is deleted or replaced, the next process to open the path gets a
 * different file and a free lock, and two daemons would run. So the holder compares the file it locked
 * (fstat of its descriptor) with what the path names now (lstat, never following a link): same device and
 * inode, and still linked (nlink > 0).
 */
export function lockLostBecause(fd: number, path: string): string | null {
  let mine: ReturnType<typeof fstatSync>;
  try {
    mine = fstatSync(fd);
  } catch {
    return "no longer open";
  }
  let there: ReturnType<typeof lstatSync>;
  try {
    there = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") return `unreadable (${code ?? "error"})`;
    try {
      lstatSync(dirname(path));
      return "deleted";
    } catch {
      return `deleted with ${dirname(path)}`;
    }
  }
  if (there.isSymbolicLink()) return "replaced by a symbolic link";
  if (mine.nlink === 0 || there.dev !== mine.dev || there.ino !== mine.ino) return "replaced by another file";
  return null;
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
    fd = openSync(path, PROBE_LOCK);
  } catch {
    return false; // missing, or a link gtd would refuse to lock anyway
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
  const pid = Number((lockOwner(path) ?? "").split(/\s+/).pop());
  return Number.isInteger(pid) && pid > 0 ? pid : -1;
}

/** `maj:min:inode` as /proc/locks prints it (major and minor in two-digit hex). */
export function lockFileId(path: string): string {
  const st = lstatSync(path);
  const dev = BigInt(st.dev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const hex = (n: bigint) => n.toString(16).padStart(2, "0");
  return `${hex(major)}:${hex(minor)}:${st.ino}`;
}

/** What the holder wrote into the lock file (`tick <pid>` or `<pid>`); null if unreadable. */
export function lockOwner(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, PROBE_LOCK);
  } catch {
    return null;
  }
  try {
    // An owner is `tick <pid>` at most: a bounded read, whatever the file has grown to.
    const buf = Buffer.alloc(OWNER_CAP_BYTES);
    const n = fstatSync(fd).isFile() ? readSync(fd, buf, 0, buf.length, 0) : 0;
    return buf.subarray(0, n).toString("utf8").trim();
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Room for `tick <pid>` with plenty to spare; the owner is never longer. */
const OWNER_CAP_BYTES = 64;
