/**
 * One pass at the edge: observe (every read, through the ports) → decide (pure, src/core/pass.ts) →
 * apply (the interpreter, src/tick/apply.ts). A real pass then adopts the decided state; a dry run
 * leaves the caller's state as it was and keeps the plan.
 */
import { clearStaleSlots } from "../core/slots.ts";
import { ensureDeacon } from "../core/deacon.ts";
import { processLifecycle } from "../core/lifecycle.ts";
import { heartbeatPass, lifecyclePass, newDraft, type Decide, type Draft, type PassSteps } from "../core/pass.ts";
import { pokeAgents } from "../core/pokes.ts";
import { supervise } from "../core/supervise.ts";
import type { PassKind } from "../core/observation.ts";
import { draftState, type DaemonState } from "../core/state.ts";
import { applyPass } from "./apply.ts";
import type { TickContext } from "./context.ts";
import { observe } from "./observe.ts";

export const STEPS: PassSteps = { clearStaleSlots, ensureDeacon, supervise, pokeAgents, processLifecycle };

export async function runPass(ctx: TickContext, kind: PassKind, build: (d: Draft) => Decide): Promise<TickContext> {
  const obs = await observe(kind, ctx.ports, ctx.config, ctx.paths, ctx.state, ctx.signal);
  const d = newDraft({ obs, config: ctx.config, paths: ctx.paths, memory: ctx.memory, state: ctx.state });
  ctx.nowMs = obs.nowMs;
  // A mid-pass save (a request's attempt, its `done`) is adopted at once, as a copy: the daemon saves its
  // own state on shutdown even while a pass hangs, and that save must not undo what the pass saved.
  const saved = (s: DaemonState) => void Object.assign(ctx.state, draftState(s));
  ctx.effects = await applyPass(d, build(d), { ports: ctx.ports, config: ctx.config, dryRun: ctx.dryRun, signal: ctx.signal, saved });
  ctx.decisions.push(...d.decisions);
  ctx.sessions = d.sessions;
  ctx.lifecycleBacklog = d.backlog;
  // The daemon keeps its one state object (its signal handlers save it); a dry run changes nothing.
  if (ctx.dryRun) ctx.state = d.state;
  else Object.assign(ctx.state, d.state);
  return ctx;
}

export async function runHeartbeat(ctx: TickContext, steps: PassSteps = STEPS): Promise<TickContext> {
  ctx.ports.log("Heartbeat starting");
  await runPass(ctx, "heartbeat", (d) => heartbeatPass(d, steps));
  ctx.ports.log(`Heartbeat complete (#${ctx.state.heartbeatCount})`);
  return ctx;
}

export async function runLifecyclePass(ctx: TickContext, steps: Pick<PassSteps, "supervise" | "processLifecycle"> = STEPS): Promise<TickContext> {
  return runPass(ctx, "lifecycle", (d) => lifecyclePass(d, steps));
}
