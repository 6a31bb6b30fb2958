/**
 * Carrying out one verified lifecycle action on one agent (reference §7.4–7.5), with the fixes:
 * - restart and shutdown are real actions, not aliases of cycle (defect #1);
 * - the working directory is checked before anything is killed (defect #22: tmux would silently start
 *   the agent somewhere else, and a failed restart would leave the agent dead);
 * - the agent command is the pane's own process with GT_ROLE in its environment (defect #7), instead of
 *   `exec claude` typed into a shell and GT_ROLE set with set-environment after the shell started;
 * - `gt prime` is not typed into the agent unless configured (defect #8);
 * - every wait is bounded and ends early on shutdown.
 *
 * Errors are thrown with the original's prefixes (`state verification failed: …`, `killing session: …`,
 * `restarting session: …`); the caller logs `Error executing lifecycle action: <message>`.
 * Under dry-run every read happens (verification, has-session, the directory check) and every write is
 * only recorded as a `would-…` decision.
 */
import type { AgentSpec } from "../agents/identity.ts";
import { sessionOptions } from "../agents/identity.ts";
import { errorText } from "../errors.ts";
import { isDirectory } from "../store.ts";
import { decide, type TickContext } from "../tick/context.ts";
import type { LifecycleAction } from "./parse.ts";
import { presyncWorkspace } from "./presync.ts";
import { agentOutsideTown, flagKey, verifyRequestFlag } from "./verify.ts";

/** kill-session returns once the session is gone; the poll only guards against a slow server. */
export const KILL_POLL_MS = 100;
export const KILL_POLLS = 50;
/** The original waited 2 s after starting the agent before typing the prime command. */
export const PRIME_DELAY_MS = 2000;

const say = (ctx: TickContext, action: string, message: string, data?: Record<string, unknown>) =>
  decide(ctx, "processLifecycle", action, message, data);

export class ActionError extends Error {
  override name = "ActionError";
}

export async function executeLifecycleAction(ctx: TickContext, spec: AgentSpec, action: LifecycleAction): Promise<void> {
  const s = spec.session;
  say(ctx, "executing", `Executing ${action} for session ${s}`, { session: s, action });

  const escape = agentOutsideTown(spec, ctx.paths.root);
  if (escape) throw new ActionError(`refusing to act on ${spec.identity}: ${escape}`);

  const verified = verifyRequestFlag(spec.stateFile, action);
  if (!verified.ok) throw new ActionError(`state verification failed: ${verified.reason}`);
  say(ctx, "verified", `Verified agent ${spec.identity} has ${flagKey(action)}=true`);

  if (action !== "shutdown" && !isDirectory(spec.workDir)) {
    throw new ActionError(`working directory ${spec.workDir} does not exist (session ${s} left as it is)`);
  }

  let present: boolean;
  try {
    present = await ctx.ports.tmux.hasSession(s);
  } catch (err) {
    throw new ActionError(`checking session: ${errorText(err)}`);
  }

  if (action === "shutdown") {
    if (!present) {
      say(ctx, "absent", `Session ${s} is not running; nothing to shut down`);
      return;
    }
    await kill(ctx, s, `Killed session ${s}`);
    return;
  }

  if (present) await kill(ctx, s, `Killed session ${s} for restart`);
  await restart(ctx, spec);
}

async function kill(ctx: TickContext, s: string, done: string): Promise<void> {
  if (ctx.dryRun) {
    say(ctx, "would-kill", `(dry run) would kill session ${s}`, { session: s });
    return;
  }
  assertExclusive(ctx, `killing session ${s}`);
  try {
    await ctx.ports.tmux.killSession(s);
  } catch (err) {
    throw new ActionError(`killing session: ${errorText(err)}`);
  }
  say(ctx, "killed", done, { session: s });
  // Poll instead of the original's fixed 500 ms: usually the first check already finds it gone.
  for (let i = 0; i < KILL_POLLS; i++) {
    if (!(await ctx.ports.tmux.hasSession(s).catch(() => true))) return;
    // Shutdown: stop waiting; the session may still be there, so recreating it would fail anyway.
    if (ctx.signal.aborted) break;
    await ctx.ports.sleep(KILL_POLL_MS, ctx.signal);
  }
  throw new ActionError(`killing session: ${s} still exists after kill-session`);
}

async function restart(ctx: TickContext, spec: AgentSpec): Promise<void> {
  const s = spec.session;
  if (spec.presync) {
    if (ctx.dryRun) {
      say(ctx, "would-presync", `(dry run) would pre-sync workspace for ${spec.identity} at ${spec.workDir}`);
    } else {
      await presyncWorkspace(
        {
          run: ctx.ports.run,
          say: (action, message) => say(ctx, action, message),
          gitTimeoutMs: ctx.config.timeouts.gitMs,
          syncTimeoutMs: ctx.config.timeouts.mailboxMs,
          sync: ctx.config.mailbox.sync,
          signal: ctx.signal,
        },
        spec.identity,
        spec.workDir,
      );
    }
  }

  // The role word, which is what `gt handoff` reads back (reference §8); the original put the identity
  // here. GT_IDENTITY carries the canonical identity, which `gtd request --as` needs.
  const env = { GT_ROLE: spec.role, GT_IDENTITY: spec.identity, GT_TOWN_ROOT: ctx.paths.root };
  if (ctx.dryRun) {
    say(ctx, "would-restart", `(dry run) would start session ${s} in ${spec.workDir}`, { session: s, env });
  } else {
    // Even when shutdown was asked meanwhile: the old session is gone, and one quick tmux call is
    // better than leaving the agent dead until the next start.
    assertExclusive(ctx, `starting session ${s}`);
    try {
      await ctx.ports.tmux.newSession({
        name: s,
        cwd: spec.workDir,
        env,
        argv: [...ctx.config.agent.command],
        options: sessionOptions(spec),
      });
    } catch (err) {
      throw new ActionError(`restarting session: ${errorText(err)}`);
    }
    say(ctx, "restarted", `Restarted session ${s}`, { session: s, cwd: spec.workDir });
  }

  await prime(ctx, s);
}

/** The daemon's lock check (Ports.exclusive): no session is touched once another process holds the town. */
function assertExclusive(ctx: TickContext, what: string): void {
  if (ctx.ports.exclusive && !ctx.ports.exclusive()) throw new ActionError(`not ${what}: this process no longer holds the town's lock`);
}

/** Only when configured; failure is a warning, the restart itself succeeded. */
async function prime(ctx: TickContext, s: string): Promise<void> {
  const text = ctx.config.agent.prime;
  if (text === null) return;
  if (ctx.dryRun) {
    say(ctx, "would-prime", `(dry run) would type the prime command into ${s}`);
    return;
  }
  await ctx.ports.sleep(PRIME_DELAY_MS, ctx.signal);
  if (ctx.signal.aborted) {
    say(ctx, "prime-skipped", `Not sending prime to ${s}: shutting down`);
    return;
  }
  try {
    await ctx.ports.tmux.sendLine(s, text);
    say(ctx, "primed", `Sent prime command to ${s}`);
  } catch (err) {
    say(ctx, "warning", `Warning: could not send prime: ${errorText(err)}`);
  }
}
