/** What one heartbeat (or one lifecycle pass) works on at the edge, and what it decided and did. */
import type { Config } from "../config/index.ts";
import { Memory, type Decision } from "../core/decision.ts";
import type { Effect } from "../core/effects.ts";
import type { Ports, SessionInfo } from "../core/ports.ts";
import type { DaemonState } from "../core/state.ts";
import type { TownPaths } from "../town.ts";

export { Memory, MEMORY_CAP, rateKey, type Decision, type StepName } from "../core/decision.ts";

export interface TickContext {
  ports: Ports;
  config: Config;
  paths: TownPaths;
  /** The daemon's state: a real pass changes it (and saves it); a dry run leaves it as it was. */
  state: DaemonState;
  nowMs: number;
  /** Decide, print, change nothing: the interpreter prints the plan instead of applying it. */
  dryRun: boolean;
  /** Aborted on shutdown: waits end early and no new action starts. */
  signal: AbortSignal;
  memory: Memory;
  /** Every tmux session as the pass left them; null until observed, or when the list failed. */
  sessions: Map<string, SessionInfo> | null;
  decisions: Decision[];
  /** The effects the pass applied (or, in a dry run, planned), in order. */
  effects: Effect[];
  /**
   * Set when processLifecycle left requests for a later pass (its per-pass bound) and another pass
   * can get further: the daemon then asks for a lifecycle pass at once (PassQueue).
   */
  lifecycleBacklog: boolean;
}

export interface NewTickContext {
  ports: Ports;
  config: Config;
  paths: TownPaths;
  state: DaemonState;
  dryRun?: boolean;
  signal?: AbortSignal;
  memory?: Memory;
}

export function newTickContext(a: NewTickContext): TickContext {
  return {
    ports: a.ports,
    config: a.config,
    paths: a.paths,
    state: a.state,
    nowMs: a.ports.clock.now(),
    dryRun: a.dryRun ?? false,
    signal: a.signal ?? new AbortController().signal,
    memory: a.memory ?? new Memory(),
    sessions: null,
    decisions: [],
    effects: [],
    lifecycleBacklog: false,
  };
}
