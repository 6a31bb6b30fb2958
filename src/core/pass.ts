/**
 * One pass as a pure decision procedure: a generator that yields Effects and receives their Outcomes
 * (src/tick/apply.ts drives it). Steps read only the Observation, the draft state, the config and the
 * pass's clock; they record Decisions (one log line each) and change nothing but the draft. Whether the
 * effects are carried out or only printed (a dry run) is the interpreter's business, never a step's.
 *
 * heartbeat = clearStaleSlots → observeSessions → ensureDeacon → supervise → pokeAgents → processLifecycle → saveState
 * lifecycle = observeSessions → supervise → processLifecycle → saveState (so gtd pause/restart/reset act at once)
 * A step that throws is logged and the pass goes on; once shutdown is asked, no new step starts but
 * state is still saved.
 */
import type { Config } from "../config/index.ts";
import { errorText } from "../errors.ts";
import type { TownPaths } from "../town.ts";
import type { Decision, Memory, Note, StepName } from "./decision.ts";
import type { Effect, Outcome } from "./effects.ts";
import type { Observation } from "./observation.ts";
import type { SessionInfo } from "./ports.ts";
import { draftState, type DaemonState } from "./state.ts";

/** Everything a step may look at or change during one pass. */
export interface Draft {
  readonly obs: Observation;
  readonly config: Config;
  readonly paths: TownPaths;
  /** Lives as long as the daemon: what was already said. */
  readonly memory: Memory;
  /** This pass's own copy of the state; adopted by the edge after a real pass. */
  state: DaemonState;
  /** "Now" for every decision of the pass: the observation's clock reading. */
  readonly nowMs: number;
  /** The latest clock reading (from the last outcome): only the per-pass time budget uses it. */
  clockMs: number;
  /** Shutdown was asked: no new step, poke or request starts. */
  stopping: boolean;
  /** The sessions as this pass has left them (created, killed); null when the list failed. */
  sessions: Map<string, SessionInfo> | null;
  /** Slot files clearStaleSlots removes: the poke gate treats them as gone. */
  removedSlots: Set<string>;
  /** Lifecycle requests wait for a later pass and another pass can get further (the daemon asks for one). */
  backlog: boolean;
  decisions: Decision[];
}

export type Decide<T = void> = Generator<Effect, T, Outcome>;

export function newDraft(a: { obs: Observation; config: Config; paths: TownPaths; memory: Memory; state: DaemonState }): Draft {
  const sessions = "error" in a.obs.sessions ? null : new Map(a.obs.sessions as ReadonlyMap<string, SessionInfo>);
  return {
    ...a,
    // The pass works on its own copy: the caller's state changes only when the edge adopts this one.
    state: draftState(a.state),
    nowMs: a.obs.nowMs,
    clockMs: a.obs.nowMs,
    stopping: a.obs.stopping,
    sessions,
    removedSlots: new Set(),
    backlog: false,
    decisions: [],
  };
}

/** Record a decision: the log says what was decided and why, one line each. */
export function say(d: Draft, step: StepName, action: string, message: string, data?: Record<string, unknown>): void {
  d.decisions.push(data ? { step, action, message, data } : { step, action, message });
}

export function sayNote(d: Draft, step: StepName, n: Note): void {
  say(d, step, n.action, n.message, n.data);
}

/** Yield one effect and take in what its outcome says about the clock and shutdown. */
export function* act(d: Draft, effect: Effect): Decide<Outcome> {
  const out = yield effect;
  d.clockMs = out.nowMs;
  if (out.stopping) d.stopping = true;
  return out;
}

type StepFn = (d: Draft) => Decide;

function* guarded(d: Draft, name: StepName, step: StepFn): Decide {
  if (d.stopping) return;
  try {
    yield* step(d);
  } catch (err) {
    say(d, name, "error", `Error in ${name}: ${errorText(err)}`);
  }
}

function* observeSessions(d: Draft): Decide {
  const s = d.obs.sessions;
  if ("error" in s) say(d, "observeSessions", "error", `Error listing tmux sessions: ${s.error}`);
}

/** Persist state.json; a heartbeat also stamps the time and the count. */
function* saveState(d: Draft, countHeartbeat: boolean): Decide {
  if (countHeartbeat) {
    d.state.lastHeartbeatMs = d.nowMs;
    d.state.heartbeatCount += 1;
  }
  // Exclusive: state.json is not ours to write once another process holds the town (said elsewhere).
  const out = yield* act(d, { kind: "saveState", state: d.state, step: "saveState", exclusive: true });
  if (!out.ok && out.kind !== "not-exclusive") say(d, "saveState", "error", `Warning: failed to save state: ${out.error}`);
}

export interface PassSteps {
  clearStaleSlots: StepFn;
  ensureDeacon: StepFn;
  supervise: StepFn;
  pokeAgents: StepFn;
  processLifecycle: StepFn;
}

export function* heartbeatPass(d: Draft, s: PassSteps): Decide {
  yield* guarded(d, "clearStaleSlots", s.clearStaleSlots);
  yield* guarded(d, "observeSessions", observeSessions);
  yield* guarded(d, "ensureDeacon", s.ensureDeacon);
  yield* guarded(d, "supervise", s.supervise);
  yield* guarded(d, "pokeAgents", s.pokeAgents);
  yield* guarded(d, "processLifecycle", s.processLifecycle);
  yield* saveState(d, true);
}

export function* lifecyclePass(d: Draft, s: Pick<PassSteps, "supervise" | "processLifecycle">): Decide {
  yield* guarded(d, "observeSessions", observeSessions);
  yield* guarded(d, "supervise", s.supervise);
  yield* guarded(d, "processLifecycle", s.processLifecycle);
  yield* saveState(d, false);
}
