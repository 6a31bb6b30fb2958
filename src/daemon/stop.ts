/**
 * Stopping and signalling the daemon from outside. Only the verified lock holder is ever signalled;
 * a PID file naming some other process is stale and left alone.
 */
import { GtdError } from "../errors.ts";
import { readState, writeState } from "../state.ts";
import { readText, safeUnlink } from "../store.ts";
import type { TownPaths } from "../town.ts";
import { probeDaemon } from "./liveness.ts";
import { isLockHeld, tryLock } from "./lock.ts";

function notRunning(tickPid: number | null = null): GtdError {
  const hint = tickPid ? `a gtd tick (PID ${tickPid}) holds the lock; it is not signalled` : "start it with gtd start";
  return new GtdError("NOT_RUNNING", "daemon is not running", hint);
}

/** The running daemon's PID, or a NOT_RUNNING error. */
export function requireDaemonPid(paths: TownPaths): number {
  const probe = probeDaemon(paths);
  if (!probe.running || probe.pid === null || probe.pid <= 0) throw notRunning(probe.tickPid);
  return probe.pid;
}

export function signalDaemon(paths: TownPaths, signal: NodeJS.Signals): number {
  const pid = requireDaemonPid(paths);
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") throw notRunning();
    throw new GtdError("STOP_FAILED", `sending ${signal} to PID ${pid}: ${(err as Error).message}`, "are you the daemon's user?");
  }
  return pid;
}

export interface StopResult {
  pid: number;
  killed: boolean;
}

async function waitLockFree(path: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isLockHeld(path)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isLockHeld(path);
}

/** SIGTERM, wait for a graceful exit (the lock is released), SIGKILL after `timeoutMs`. */
export async function stopDaemon(paths: TownPaths, timeoutMs: number): Promise<StopResult> {
  const pid = signalDaemon(paths, "SIGTERM");
  if (await waitLockFree(paths.lockFile, timeoutMs)) return { pid, killed: false };
  // Still the same holder? Then it is hung: kill it, and tidy what it could not.
  if (probeDaemon(paths).pid === pid) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Exited between the check and the kill.
    }
  }
  if (!(await waitLockFree(paths.lockFile, 5000))) {
    throw new GtdError("STOP_FAILED", `daemon (PID ${pid}) did not exit after SIGKILL`, "check the process with ps");
  }
  const lock = tryLock(paths.lockFile);
  if (lock) {
    try {
      const { state } = readState(paths.stateFile, Date.now(), { keepCorrupt: true });
      if (state.pid === pid && state.running) writeState(paths.stateFile, { ...state, running: false });
      if (readText(paths.pidFile)?.trim() === String(pid)) safeUnlink(paths.pidFile);
    } finally {
      lock.release();
    }
  }
  return { pid, killed: true };
}
