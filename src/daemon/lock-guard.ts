/**
 * Keeps the single-instance guarantee when the lock file goes. flock(2) locks a file, not a name: after
 * `rm daemon/daemon.lock` (or `rm -r daemon/`) the next `gtd start` would create a new file, lock it
 * freely, and run a second daemon. So the daemon checks that its lock path still names the file it
 * locked (lockLostBecause) at every pass and before every action that assumes it is alone (the ports'
 * `exclusive()`), and on a loss either re-takes the lock at the path, or, when another process holds it
 * there now, steps down at once: two daemons never act on one town.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename } from "node:path";
import { errorText } from "../errors.ts";
import type { Log } from "../ports.ts";
import type { TownPaths } from "../town.ts";
import { confineDaemonDir } from "./confine.ts";
import { lockHolder, tryLock, type LockHandle } from "./lock.ts";

export interface LockGuardOptions {
  paths: TownPaths;
  log: Log;
  /** After a re-take: rewrite daemon.pid and state.json so `status` finds us again; an error text or null. */
  onRetaken(): string | null;
  /** Stop acting now and exit with `code`, touching nothing of the town's (called once). */
  onStepDown(code: number): void;
  /**
   * How long after a change in daemon/ the check runs. Long enough for an `rm -r daemon/` in progress to
   * finish (re-creating the directory under it would make rm fail with "Directory not empty"), short
   * enough that a `gtd start` typed after the rm already finds the lock re-taken.
   */
  settleMs?: number;
  /** The poll used only if the directory cannot be watched (inotify watches exhausted). */
  pollMs?: number;
}

const SETTLE_MS = 200;
/** One lstat and one fstat a second: nothing an idle machine notices, and a loss found within a second. */
const POLL_MS = 1000;
/** The new lock file can itself be deleted between taking and checking it; a few tries, then a step-down. */
const RETAKE_TRIES = 3;

export class LockGuard {
  private current: LockHandle;
  private watcher: FSWatcher | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private pending: ReturnType<typeof setTimeout> | null = null;
  private down = false;

  constructor(lock: LockHandle, private readonly opts: LockGuardOptions) {
    this.current = lock;
  }

  /** True while this process holds the town's lock (re-taking it first if its file went). */
  exclusive(): boolean {
    if (this.down) return false;
    const why = this.current.lostBecause();
    return why === null ? true : this.retake(why);
  }

  /**
   * Notice a deleted lock file within moments rather than at the next heartbeat (5 minutes by default).
   * An inotify watch on daemon/ (fs.watch) costs nothing while nothing changes there; every change
   * (our own state and log writes included) costs one debounced identity check, two syscalls.
   */
  watch(): void {
    this.unwatch();
    const { daemonDir, lockFile } = this.opts.paths;
    const relevant = new Set([basename(lockFile), basename(daemonDir)]);
    try {
      // persistent: false, so the watch alone never keeps the process alive.
      this.watcher = watch(daemonDir, { persistent: false }, (_event, name) => {
        if (!name || relevant.has(String(name))) this.checkSoon();
      });
      this.watcher.on("error", () => this.checkSoon());
    } catch (err) {
      this.opts.log(`Warning: cannot watch ${daemonDir} (${errorText(err)}); checking the lock file every ${this.opts.pollMs ?? POLL_MS} ms instead`);
      this.poll = setInterval(() => this.exclusive(), this.opts.pollMs ?? POLL_MS);
      this.poll.unref?.();
    }
  }

  /** Stop watching and release the lock (shutdown). */
  release(): void {
    this.unwatch();
    this.current.release();
  }

  private checkSoon(): void {
    if (this.pending || this.down) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.exclusive();
    }, this.opts.settleMs ?? SETTLE_MS);
    this.pending.unref?.();
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  private retake(why: string): boolean {
    const { lockFile } = this.opts.paths;
    let fresh: LockHandle | null = null;
    try {
      confineDaemonDir(this.opts.paths);
      for (let i = 0; i < RETAKE_TRIES && !fresh; i++) {
        const h = tryLock(lockFile);
        if (!h) break;
        if (h.lostBecause() === null) fresh = h;
        else h.release();
      }
    } catch (err) {
      return this.stepDown(`Lock file ${lockFile} was ${why} and cannot be re-taken safely (${errorText(err)}); stepping down`, 1);
    }
    if (!fresh) {
      const holder = lockHolder(lockFile);
      const who = holder !== null && holder > 0 ? `PID ${holder}` : "another process";
      return this.stepDown(`Lock file ${lockFile} was ${why} and ${who} now holds the new one; stepping down, leaving its PID file and state alone`, 0);
    }
    // The old file's lock guards nothing any more (no one can open it by name): let it go.
    this.current.release();
    this.current = fresh;
    fresh.writeOwner(String(process.pid));
    const problem = this.opts.onRetaken();
    this.opts.log(`Lock file ${lockFile} was ${why}; re-took the lock${problem ? ` (${problem})` : " and rewrote daemon.pid and state.json"}`);
    // A removed daemon/ took the watch with it: watch the new one.
    this.watch();
    return true;
  }

  private stepDown(line: string, code: number): false {
    this.down = true;
    this.unwatch();
    if (this.pending) clearTimeout(this.pending);
    this.opts.log(line);
    this.opts.onStepDown(code);
    return false;
  }
}
