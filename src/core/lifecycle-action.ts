/**
 * Carrying out one verified lifecycle action on one agent (reference §7.4–7.5), with the fixes:
 * - restart and shutdown are real actions, not aliases of cycle (defect #1);
 * - the working directory is checked before anything is killed (defect #22: tmux would silently start
 *   the agent somewhere else, and a failed restart would leave the agent dead);
 * - the agent command is the pane's own process with GT_ROLE in its environment (defect #7), instead of
 *   `exec claude` typed into a shell and GT_ROLE set with set-environment after the shell started;
 * - `gt prime` is not typed into the agent unless configured (defect #8);
 * - every wait is bounded and ends early on shutdown (the interpreter's part).
 *
 * verify → kill → (await gone) → pre-sync → create → prime: each step an effect whose outcome decides the
 * next. Errors are thrown with the original's prefixes (`state verification failed: …`, `killing
 * session: …`, `restarting session: …`); the caller logs `Error executing lifecycle action: <message>`.
 */
import type { AgentSpec } from "./identity.ts";
import { sessionOptions } from "./identity.ts";
import { agentKey } from "./observation.ts";
import type { LifecycleAction } from "./parse.ts";
import { act, say, type Decide, type Draft } from "./pass.ts";
import type { NewSessionSpec } from "./ports.ts";
import { supervisedAgents } from "./supervise-set.ts";

export class ActionError extends Error {
  override name = "ActionError";
}

export function flagKey(action: LifecycleAction): string {
  return `requesting_${action}`;
}

const STEP = "processLifecycle";
const tell = (d: Draft, action: string, message: string, data?: Record<string, unknown>) => say(d, STEP, action, message, data);

/** The agent's facts as observed for this action; a request observe did not look at cannot act. */
export function factsFor(d: Draft, spec: AgentSpec, action: LifecycleAction) {
  return d.obs.agents.get(agentKey(spec.identity, action)) ?? null;
}

export function* executeLifecycleAction(d: Draft, spec: AgentSpec, action: LifecycleAction): Decide {
  const s = spec.session;
  tell(d, "executing", `Executing ${action} for session ${s}`, { session: s, action });
  const facts = factsFor(d, spec, action);
  if (!facts) throw new ActionError(`agent ${spec.identity} was not looked at this pass; it waits for the next`);
  if (facts.outside) throw new ActionError(`refusing to act on ${spec.identity}: ${facts.outside}`);
  if (!facts.flag.ok) throw new ActionError(`state verification failed: ${facts.flag.reason}`);
  tell(d, "verified", `Verified agent ${spec.identity} has ${flagKey(action)}=true`);

  if (action !== "shutdown" && !facts.workDirExists) {
    throw new ActionError(`working directory ${spec.workDir} does not exist (session ${s} left as it is)`);
  }
  if (d.sessions === null) {
    const list = d.obs.sessions;
    throw new ActionError(`checking session: ${"error" in list ? list.error : "unknown"}`);
  }
  const present = d.sessions.has(s);

  if (action === "shutdown") {
    if (!present) return tell(d, "absent", `Session ${s} is not running; nothing to shut down`);
    return yield* kill(d, s, `Killed session ${s}`);
  }
  // A supervised agent is restarted as supervision does it: its own pane re-spawned (panes a person
  // added live), with its loop; the session is created (with the loop) only when there is none.
  const supervised = supervisedAgents(d.config, d.paths).find((a) => a.identity === spec.identity);
  const paneId = d.sessions.get(s)?.paneId;
  if (supervised && present && paneId) {
    yield* presync(d, spec);
    yield* respawn(d, s, paneId);
    return yield* prime(d, s);
  }
  if (present) yield* kill(d, s, `Killed session ${s} for restart`);
  yield* restart(d, spec, supervised?.spec);
}

function* respawn(d: Draft, s: string, paneId: string): Decide {
  const out = yield* act(d, {
    kind: "respawnPane",
    session: s,
    paneId,
    step: STEP,
    exclusive: true,
    done: { action: "restarted", message: `Restarted ${s} in its own pane (the session and any other pane kept)`, data: { session: s } },
    plan: { action: "would-restart", message: `(dry run) would restart ${s} in its own pane`, data: { session: s } },
  });
  if (!out.ok) {
    if (out.kind === "not-exclusive") throw new ActionError(`not restarting ${s}: this process no longer holds the town's lock`);
    throw new ActionError(`restarting session: ${out.error}`);
  }
}

function* kill(d: Draft, s: string, done: string): Decide {
  const out = yield* act(d, {
    kind: "killSession",
    session: s,
    step: STEP,
    exclusive: true,
    done: { action: "killed", message: done, data: { session: s } },
    plan: { action: "would-kill", message: `(dry run) would kill session ${s}`, data: { session: s } },
  });
  if (!out.ok) {
    if (out.kind === "not-exclusive") throw new ActionError(`not killing session ${s}: this process no longer holds the town's lock`);
    throw new ActionError(`killing session: ${out.error}`);
  }
  const gone = yield* act(d, { kind: "awaitGone", session: s, step: STEP });
  if (!gone.ok) throw new ActionError(`killing session: ${s} still exists after kill-session`);
  d.sessions?.delete(s);
}

function* presync(d: Draft, spec: AgentSpec): Decide {
  if (spec.presync) {
    // The pre-sync reports its own steps; a failing git or sync is a warning, never a reason not to restart.
    yield* act(d, {
      kind: "presync",
      identity: spec.identity,
      workDir: spec.workDir,
      step: STEP,
      plan: { action: "would-presync", message: `(dry run) would pre-sync workspace for ${spec.identity} at ${spec.workDir}` },
    });
  }
}

/** `supervisedSpec`: how supervision creates this agent (its loop), when it is supervised. */
function* restart(d: Draft, spec: AgentSpec, supervisedSpec?: NewSessionSpec): Decide {
  const s = spec.session;
  yield* presync(d, spec);
  // The role word, which is what `gt handoff` reads back (reference §8); the original put the identity
  // here. GT_IDENTITY carries the canonical identity, which `gtd request --as` needs.
  const env = { GT_ROLE: spec.role, GT_IDENTITY: spec.identity, GT_TOWN_ROOT: d.paths.root };
  // Even when shutdown was asked meanwhile: the old session is gone, and one quick tmux call is better
  // than leaving the agent dead until the next start.
  const out = yield* act(d, {
    kind: "newSession",
    spec: supervisedSpec ?? { name: s, cwd: spec.workDir, env, argv: [...d.config.agent.command], options: sessionOptions(spec) },
    step: STEP,
    exclusive: true,
    done: { action: "restarted", message: `Restarted session ${s}`, data: { session: s, cwd: spec.workDir } },
    plan: { action: "would-restart", message: `(dry run) would start session ${s} in ${spec.workDir}`, data: { session: s, env } },
  });
  if (!out.ok) {
    if (out.kind === "not-exclusive") throw new ActionError(`not starting session ${s}: this process no longer holds the town's lock`);
    throw new ActionError(`restarting session: ${out.error}`);
  }
  d.sessions?.set(s, { name: s, paneDead: false, paneCommand: d.config.agent.command[0] ?? "" });
  yield* prime(d, s);
}

/** Only when configured; failure is a warning, the restart itself succeeded. */
function* prime(d: Draft, s: string): Decide {
  const text = d.config.agent.prime;
  if (text === null) return;
  const out = yield* act(d, {
    kind: "prime",
    session: s,
    text,
    step: STEP,
    done: { action: "primed", message: `Sent prime command to ${s}` },
    plan: { action: "would-prime", message: `(dry run) would type the prime command into ${s}` },
  });
  if (out.ok) return;
  if (out.kind === "aborted") tell(d, "prime-skipped", `Not sending prime to ${s}: shutting down`);
  else tell(d, "warning", `Warning: could not send prime: ${out.error}`);
}
