/** What one heartbeat (or one lifecycle pass) works on, and the decisions it takes. */
import type { Config } from "../config/index.ts";
import type { Ports, SessionInfo } from "../ports.ts";
import type { DaemonState } from "../state.ts";
import type { TownPaths } from "../town.ts";

export type StepName = "clearStaleSlots" | "observeSessions" | "ensureDeacon" | "pokeAgents" | "processLifecycle" | "saveState";

export interface Decision {
  step: StepName;
  /** A stable word for scripts: `created`, `poked`, `skipped`, `closed`, `error`, ... */
  action: string;
  /** The log line, in the original's wording where it has one. */
  message: string;
  data?: Record<string, unknown>;
}

/** Lives as long as the daemon: what was already said, so repeated failures are logged once. */
export class Memory {
  private readonly said = new Map<string, number>();
  /** True when `key` was not said in the last `everyMs` (or ever, with Infinity); records it. */
  shouldSay(key: string, nowMs: number, everyMs = Number.POSITIVE_INFINITY): boolean {
    const last = this.said.get(key);
    if (last !== undefined && nowMs - last < everyMs) return false;
    this.said.set(key, nowMs);
    return true;
  }
  forget(key: string): void {
    this.said.delete(key);
  }
}

export interface TickContext {
  ports: Ports;
  config: Config;
  paths: TownPaths;
  state: DaemonState;
  nowMs: number;
  /** Decide, print, change nothing: no tmux writes, no files, no mail closed. */
  dryRun: boolean;
  /** Aborted on shutdown: waits end early and no new action starts. */
  signal: AbortSignal;
  memory: Memory;
  /** Every tmux session, from the one list call of this pass; null until observed. */
  sessions: Map<string, SessionInfo> | null;
  decisions: Decision[];
}

export type Step = (ctx: TickContext) => Promise<TickContext>;

/** Record a decision and log its line: the log says what was decided and why, one line each. */
export function decide(ctx: TickContext, step: StepName, action: string, message: string, data?: Record<string, unknown>): void {
  ctx.decisions.push(data ? { step, action, message, data } : { step, action, message });
  ctx.ports.log(message);
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

/** A fresh context for one pass; the clock is read once so every step agrees on "now". */
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
  };
}
