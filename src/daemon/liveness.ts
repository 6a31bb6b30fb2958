/**
 * Is the town's daemon running, and which PID is it? Running means the lock is held. A PID file with
 * no lock behind it is stale, whatever process now has that PID: it is never signalled or counted.
 */
import { readFileSync } from "node:fs";
import { readText } from "../store.ts";
import { GtdError } from "../errors.ts";
import type { TownPaths } from "../town.ts";
import { lockHolder, lockOwner } from "./lock.ts";

export interface DaemonProbe {
  running: boolean;
  /** The lock holder's PID (-1 when it holds the lock but its PID cannot be read yet). */
  pid: number | null;
  /** What daemon.pid says, trimmed (the original refused `123\n`). */
  pidFile: { raw: string | null; pid: number | null };
  /** A PID file exists but no daemon holds the lock (crash, kill -9, or a reused PID). */
  stalePidFile: boolean;
  /** A `gtd tick` holds the lock: not the daemon, so never signalled as one. */
  tickPid: number | null;
}

/** Far more than any PID with a newline; a larger daemon.pid is not one. */
const PID_FILE_CAP_BYTES = 64;

export function readPidFile(path: string): { raw: string | null; pid: number | null } {
  let raw: string | null;
  try {
    // A PID is a few bytes: a FIFO, a device or a huge file in its place is no PID file.
    raw = readText(path, { maxBytes: PID_FILE_CAP_BYTES });
  } catch {
    raw = null;
  }
  if (raw === null) return { raw: null, pid: null };
  const first = raw.trim().split(/\s+/)[0] ?? "";
  const pid = /^\d+$/.test(first) ? Number(first) : null;
  return { raw, pid: pid && pid > 0 ? pid : null };
}

export function probeDaemon(paths: TownPaths): DaemonProbe {
  const holder = lockHolder(paths.lockFile);
  const pidFile = readPidFile(paths.pidFile);
  if (holder === null) return { running: false, pid: null, pidFile, stalePidFile: pidFile.raw !== null, tickPid: null };
  if (lockOwner(paths.lockFile)?.startsWith("tick")) {
    return { running: false, pid: null, pidFile, stalePidFile: pidFile.raw !== null, tickPid: holder };
  }
  return { running: true, pid: holder === -1 ? pidFile.pid ?? -1 : holder, pidFile, stalePidFile: false, tickPid: null };
}

/** The PID to signal: the daemon's when one holds the lock and its PID is known, else null. */
export function signallableDaemonPid(paths: TownPaths): number | null {
  const probe = probeDaemon(paths);
  return probe.running && probe.pid !== null && probe.pid > 0 ? probe.pid : null;
}

/** Linux process state letter from /proc/<pid>/stat ("Z" for a zombie); null when unknown. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

/** Gone or a zombie: for waiting on a process we signalled. */
export function processGone(pid: number): boolean {
  const st = processState(pid);
  if (st !== null) return st === "Z" || st === "X";
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The lock is held by a `gtd tick`, not a daemon. */
export function tickHoldsLock(pid: number): GtdError {
  return new GtdError("ALREADY_RUNNING", `a gtd tick (PID ${pid}) holds this town's lock`, "try again when it has finished");
}

/** `daemon already running (PID n)`: the original's words, with no hint, as scripts match them. */
export function alreadyRunning(pid: number | null): GtdError {
  return new GtdError("ALREADY_RUNNING", `daemon already running (PID ${pid ?? "unknown"})`);
}
