/**
 * One lifecycle action on its own, as a real pass carries it out: observe (the session list, and the
 * agent's flag and directory, read because the inbox holds a request for it) → executeLifecycleAction
 * alone → apply. No Processing/Cleared/Closed lines and no state save around it, so a test sees only the
 * action's own lines and effects.
 */
import { executeLifecycleAction } from "../../src/core/lifecycle-action.ts";
import type { AgentSpec } from "../../src/core/identity.ts";
import type { LifecycleAction } from "../../src/core/parse.ts";
import type { Decide, Draft } from "../../src/core/pass.ts";
import type { TickContext } from "../../src/tick/context.ts";
import { runPass } from "../../src/tick/pipeline.ts";

/** Resolves to the action's error message (what the pass would log after `Error executing lifecycle action: `), or null. */
export async function runAction(ctx: TickContext, spec: AgentSpec, action: LifecycleAction): Promise<string | null> {
  const mailbox = ctx.ports.mailbox;
  const request = { id: "m1", title: `LIFECYCLE: ${spec.identity} requesting ${action}`, status: "open" };
  // The inbox this pass observes holds the one request, so observe reads this agent.
  ctx.ports.mailbox = { ...mailbox, inbox: async () => ({ messages: [request], skipped: [] }) };
  let error: string | null = null;
  try {
    await runPass(ctx, "lifecycle", function* (d: Draft): Decide {
      try {
        yield* executeLifecycleAction(d, spec, action);
      } catch (err) {
        error = (err as Error).message;
      }
    });
  } finally {
    ctx.ports.mailbox = mailbox;
  }
  return error;
}

/** The error of an action expected to fail. */
export async function actionFailure(p: Promise<string | null>): Promise<string> {
  const error = await p;
  if (error === null) throw new Error("expected the action to fail");
  return error;
}
