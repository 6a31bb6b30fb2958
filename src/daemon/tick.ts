/** `gtd tick`: one heartbeat in this process, holding the town's lock so no daemon runs beside it. */
import { loadEffectiveConfig } from "../config/effective.ts";
import { acquireLock } from "./lock.ts";
import { probeDaemon, tickHoldsLock } from "./liveness.ts";
import { buildPorts } from "./wiring.ts";
import { GtdError } from "../errors.ts";
import type { Log } from "../ports.ts";
import { readState } from "../state.ts";
import { prepareSuperviseDir } from "../supervise-files.ts";
import type { TownPaths } from "../town.ts";
import type { Decision } from "../core/decision.ts";
import { newTickContext } from "../tick/context.ts";
import { runHeartbeat } from "../tick/pipeline.ts";

export interface TickResult {
  dry_run: boolean;
  town: string;
  heartbeat_count: number;
  decisions: Decision[];
}

export async function tickOnce(paths: TownPaths, dryRun: boolean, log: Log, signal?: AbortSignal): Promise<TickResult> {
  const { config } = await loadEffectiveConfig(paths, process.env);
  // A dry run reads only, so it may look over a running daemon's shoulder; a real tick may not.
  const lock = dryRun ? null : await acquireLock(paths.lockFile);
  if (!dryRun && !lock) {
    const probe = probeDaemon(paths);
    if (probe.tickPid) throw tickHoldsLock(probe.tickPid);
    const pid = probe.pid;
    throw new GtdError("ALREADY_RUNNING", `the daemon (PID ${pid}) owns this town's heartbeat`, "use gtd signal to make it act now, or gtd tick --dry-run to see what it would do");
  }
  lock?.writeOwner(`tick ${process.pid}`);
  try {
    const { state, problem, notes } = readState(paths.stateFile, Date.now(), { keepCorrupt: dryRun });
    if (problem) log(`Warning: ${paths.stateFile} was unreadable (${problem})${dryRun ? "" : "; starting fresh"}`);
    for (const line of notes) log(line);
    const superviseProblem = dryRun ? null : prepareSuperviseDir(paths);
    if (superviseProblem) log(superviseProblem);
    // A dry run gets the real ports: the interpreter prints the plan instead of applying it.
    const ports = buildPorts(config, paths, log);
    const ctx = await runHeartbeat(newTickContext({ ports, config, paths, state, dryRun, ...(signal ? { signal } : {}) }));
    return { dry_run: dryRun, town: paths.root, heartbeat_count: ctx.state.heartbeatCount, decisions: ctx.decisions };
  } finally {
    lock?.release();
  }
}
