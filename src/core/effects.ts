/**
 * What a pass does to the world, as data. Decide yields effects one at a time and gets each Outcome
 * back (src/core/pass.ts); the interpreter (src/tick/apply.ts) carries them out through the ports, or,
 * in a dry run, prints their plan and answers "done". So the plan of a dry run is exactly the effects a
 * real pass applies when everything succeeds.
 */
import type { Note, StepName } from "./decision.ts";
import type { LifecycleAction } from "./parse.ts";
import type { NewSessionSpec, PokeDelivery } from "./ports.ts";
import type { DaemonState } from "./state.ts";

export type EffectBody =
  | { kind: "removeSlot"; name: string }
  /** `verify`: check the text showed and was consumed (supervised agents); the outcome says how it went. */
  | { kind: "poke"; session: string; text: string; verify?: boolean }
  /** Restart only the agent's own pane: the session, and any pane a person added, survive. */
  | { kind: "respawnPane"; session: string; paneId: string }
  /** Create or remove the agent's hold file: while it exists, the in-pane loop does not start the agent. */
  | { kind: "setHold"; identity: string; on: boolean }
  /** An operator request (gtd restart / gtd reset) has been acted on: remove it. */
  | { kind: "takeRequest"; identity: string; request: "restart" | "reset" }
  | { kind: "recordSlot"; session: string; text: string; atMs: number }
  | { kind: "consumeSlot"; session: string; atMs: number }
  | { kind: "killSession"; session: string }
  /** Wait (bounded, polling) until a killed session is really gone. */
  | { kind: "awaitGone"; session: string }
  | { kind: "newSession"; spec: NewSessionSpec }
  /** Sync a workspace before its agent is recreated (git fetch/pull, bd sync). */
  | { kind: "presync"; identity: string; workDir: string }
  /** Type the configured prime command after the agent has had time to start. */
  | { kind: "prime"; session: string; text: string }
  | { kind: "clearFlag"; stateFile: string; action: LifecycleAction; identity: string }
  | { kind: "closeMessage"; id: string }
  | { kind: "saveState"; state: DaemonState };

export type Effect = EffectBody & {
  step: StepName;
  /** Logged just before it is carried out. */
  start?: Note;
  /** Logged once it succeeded (and, for clearFlag/consumeSlot/removeSlot, changed something). */
  done?: Note;
  /** Logged instead, in a dry run. */
  plan?: Note;
  /** Must not happen once another process holds the town's lock (creating or killing a session). */
  exclusive?: boolean;
};

export type FailureKind = "failed" | "duplicate" | "no-session" | "no-server" | "not-exclusive" | "aborted";

/** How an effect went, plus the two facts that move during a pass: the clock and shutdown. */
export type Outcome = ({ ok: true; changed: boolean } | { ok: false; kind: FailureKind; error: string }) & {
  nowMs: number;
  stopping: boolean;
  /** A verified poke: how it went (a dry run answers "consumed"). */
  delivery?: PokeDelivery;
};
