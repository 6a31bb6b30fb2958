/**
 * `gtd start` without --foreground: re-launch ourselves detached (new session, no terminal, output to
 * the log) and poll until that child holds the lock and has written `running: true`.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync } from "node:fs";
import { GtdError } from "../errors.ts";
import { readState } from "../state.ts";
import { readText } from "../store.ts";
import type { TownPaths } from "../town.ts";
import { confineDaemonDir, openLogForStart } from "./confine.ts";
import { alreadyRunning, probeDaemon } from "./liveness.ts";
import { refuseUnsafeLockPath } from "./lock.ts";

/** argv that re-runs this program: a compiled binary is its own execPath; `bun src/main.ts` is not. */
export function selfArgv(): string[] {
  const script = process.argv[1];
  const compiled = !script || script.startsWith("/$bunfs/") || script === process.execPath;
  return compiled ? [process.execPath] : [process.execPath, script];
}

export async function launchDetached(paths: TownPaths, extraArgs: string[], waitMs = 5000): Promise<number> {
  const [cmd, ...pre] = selfArgv();
  confineDaemonDir(paths);
  refuseUnsafeLockPath(paths.lockFile);
  mkdirSync(paths.daemonDir, { recursive: true, mode: 0o755 });
  // The child's stderr: opened here, once, without following a link (refused with the path named).
  const logFd = openLogForStart(paths.logFile);
  const child = spawn(cmd!, [...pre, "start", "--foreground", "--town", paths.root, ...extraArgs], {
    cwd: paths.root,
    detached: true, // setsid: no controlling terminal, so closing the terminal (SIGHUP) cannot touch it
    stdio: ["ignore", "ignore", logFd],
    env: process.env,
  });
  closeSync(logFd);
  let exited: number | null = null;
  child.on("exit", (code, signal) => (exited = code ?? (signal ? 128 : 1)));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new GtdError("START_FAILED", "could not start the daemon process", "see gtd logs");

  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const probe = probeDaemon(paths);
    if (probe.running && probe.pid === pid) {
      const { state } = readState(paths.stateFile, Date.now(), { keepCorrupt: true });
      if (state.running && state.pid === pid) return pid;
    }
    if (exited !== null) {
      // Our child lost the race to another start: say who won.
      if (probe.running && probe.pid !== pid) {
        throw alreadyRunning(probe.pid);
      }
      throw new GtdError("START_FAILED", `daemon exited during start-up${lastLogLine(paths)}`, "see gtd logs");
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new GtdError("START_FAILED", `daemon (PID ${pid}) did not report running within ${waitMs / 1000}s`, "see gtd logs");
}

function lastLogLine(paths: TownPaths): string {
  const text = readText(paths.logFile) ?? "";
  const lines = text.trimEnd().split("\n");
  const last = lines[lines.length - 1];
  return last ? `: ${last.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, "")}` : "";
}
