/**
 * One heartbeat = clearStaleSlots → observeSessions → ensureDeacon → pokeAgents → processLifecycle →
 * saveState. A step that throws is logged and the heartbeat goes on: one bad step never stops the daemon.
 */
import { errorText } from "../errors.ts";
import { writeState } from "../state.ts";
import { decide, type Step, type StepName, type TickContext } from "./context.ts";
import { clearStaleSlotsStep } from "./slots-step.ts";
import { ensureDeacon } from "./ensure-deacon.ts";
import { pokeAgents } from "./poke-agents.ts";
import { processLifecycle } from "./lifecycle-step.ts";

export const observeSessions: Step = async (ctx) => {
  try {
    ctx.sessions = await ctx.ports.tmux.sessions();
  } catch (err) {
    ctx.sessions = null;
    decide(ctx, "observeSessions", "error", `Error listing tmux sessions: ${errorText(err)}`);
  }
  return ctx;
};

/** Persist state.json; a heartbeat also stamps the time and the count. */
export function saveStateStep(countHeartbeat: boolean): Step {
  return async (ctx) => {
    if (countHeartbeat) {
      ctx.state.lastHeartbeatMs = ctx.nowMs;
      ctx.state.heartbeatCount += 1;
    }
    if (ctx.dryRun) return ctx;
    // The lock check (Ports.exclusive): state.json is not ours to write once another process holds the town.
    if (ctx.ports.exclusive?.() === false) return ctx;
    try {
      writeState(ctx.paths.stateFile, ctx.state);
    } catch (err) {
      decide(ctx, "saveState", "error", `Warning: failed to save state: ${errorText(err)}`);
    }
    return ctx;
  };
}

export const HEARTBEAT_STEPS: Array<[StepName, Step]> = [
  ["clearStaleSlots", clearStaleSlotsStep],
  ["observeSessions", observeSessions],
  ["ensureDeacon", ensureDeacon],
  ["pokeAgents", pokeAgents],
  ["processLifecycle", processLifecycle],
  ["saveState", saveStateStep(true)],
];

export const LIFECYCLE_STEPS: Array<[StepName, Step]> = [
  ["observeSessions", observeSessions],
  ["processLifecycle", processLifecycle],
  ["saveState", saveStateStep(false)],
];

export async function runSteps(ctx: TickContext, steps: Array<[StepName, Step]>): Promise<TickContext> {
  for (const [name, step] of steps) {
    // Shutdown wins: no new step starts once it is asked for, but state is still saved.
    if (ctx.signal.aborted && name !== "saveState") continue;
    try {
      ctx = await step(ctx);
    } catch (err) {
      decide(ctx, name, "error", `Error in ${name}: ${errorText(err)}`);
    }
  }
  return ctx;
}

export async function runHeartbeat(ctx: TickContext, steps = HEARTBEAT_STEPS): Promise<TickContext> {
  ctx.ports.log("Heartbeat starting");
  ctx = await runSteps(ctx, steps);
  ctx.ports.log(`Heartbeat complete (#${ctx.state.heartbeatCount})`);
  return ctx;
}

export async function runLifecyclePass(ctx: TickContext, steps = LIFECYCLE_STEPS): Promise<TickContext> {
  return runSteps(ctx, steps);
}
