/**
 * Heartbeat step: make sure the Deacon's session exists (reference §5.1), decided from the one session
 * list of this heartbeat (ctx.sessions), never from a prefix-matching has-session (§12 defect 9).
 *
 * Beyond the original: a session whose pane is dead is killed and recreated (defect 21); a failed session
 * list creates nothing (creating blindly could fight a session we simply cannot see); a "duplicate
 * session" answer means someone (`gt up`) created it meanwhile, which is success; and an agent command
 * missing from the PATH is said once, not every heartbeat. The session is still created then: the loop
 * retries every 2 s, so installing the command later is enough, and the user can attach and see why.
 */
import { errorText } from "../errors.ts";
import type { SessionInfo } from "../ports.ts";
import { TmuxError } from "../tmux.ts";
import { decide, type Step, type TickContext } from "./context.ts";
import { deaconSessionSpec, defaultWhich, type Which } from "./deacon-session.ts";

export interface EnsureDeaconOptions {
  /** Looks the agent command up; injectable so unit tests need no real PATH. */
  which?: Which;
  /** The PATH the pane will search; read at each heartbeat (default: this process's PATH). */
  path?: () => string | undefined;
}

const STEP = "ensureDeacon";

export function createEnsureDeacon(opts: EnsureDeaconOptions = {}): Step {
  const which = opts.which ?? defaultWhich;
  const path = opts.path ?? (() => process.env.PATH);
  return async (ctx) => {
    checkCommand(ctx, which, path());
    const session = ctx.config.deacon.session;
    if (ctx.sessions === null) {
      decide(ctx, STEP, "error", `Error checking Deacon session: tmux session list failed, not creating ${session} blindly`);
      return ctx;
    }
    const seen = ctx.sessions.get(session);
    if (seen && !seen.paneDead) return ctx; // running: nothing to do, and nothing to say (as the original)
    if (ctx.signal.aborted) return ctx;
    if (seen) await replaceDead(ctx, seen);
    else await create(ctx, "Deacon session not running, starting...");
    return ctx;
  };
}

export const ensureDeacon: Step = createEnsureDeacon();

/** The agent command (argv[0]) must be findable; said once per command until it is found again. */
function checkCommand(ctx: TickContext, which: Which, PATH: string | undefined): void {
  const cmd = ctx.config.deacon.command[0] ?? "";
  const key = `ensureDeacon:command-missing:${cmd}`;
  if (which(cmd, { PATH, cwd: ctx.paths.root }) !== null) {
    ctx.memory.forget(key); // so a later disappearance is reported again
    return;
  }
  if (!ctx.memory.shouldSay(key, ctx.nowMs)) return;
  const where = cmd.includes("/") ? "not found or not executable" : "not found on PATH";
  decide(
    ctx,
    STEP,
    "command-missing",
    `Deacon command ${where}: ${cmd} (set deacon.command in daemon/config.json)`,
    { command: ctx.config.deacon.command, PATH: PATH ?? null },
  );
}

async function replaceDead(ctx: TickContext, seen: SessionInfo): Promise<void> {
  const session = ctx.config.deacon.session;
  const why = `Deacon session ${session} has a dead pane (last command: ${seen.paneCommand || "unknown"}), recreating it`;
  if (ctx.dryRun) {
    decide(ctx, STEP, "would-recreate", `${why} (dry run: not recreated)`, { session });
    ctx.sessions?.set(session, { name: session, paneDead: false, paneCommand: "bash" });
    return;
  }
  if (!stillExclusive(ctx)) return;
  decide(ctx, STEP, "recreating", why, { session });
  try {
    await ctx.ports.tmux.killSession(session);
  } catch (err) {
    decide(ctx, STEP, "error", `Error killing dead Deacon session: ${errorText(err)}`);
    return;
  }
  ctx.sessions?.delete(session);
  await create(ctx, null);
}

/** The daemon's lock check (Ports.exclusive): another process holds the town now, so leave the Deacon to it. */
function stillExclusive(ctx: TickContext): boolean {
  if (!ctx.ports.exclusive || ctx.ports.exclusive()) return true;
  decide(ctx, STEP, "not-exclusive", `Not touching Deacon session ${ctx.config.deacon.session}: this process no longer holds the town's lock`);
  return false;
}

/** Create the session; `announce` is the line logged first (null when the caller already explained). */
async function create(ctx: TickContext, announce: string | null): Promise<void> {
  const { session, command } = ctx.config.deacon;
  const spec = deaconSessionSpec(session, ctx.paths.root, command);
  const data = { session, cwd: spec.cwd, command };
  if (ctx.dryRun) {
    decide(ctx, STEP, "would-create", `Deacon session not running, would start ${session} (dry run: not created)`, data);
    // The plan goes on as if it existed, so the dry run shows the poke a real heartbeat would send.
    ctx.sessions?.set(session, { name: session, paneDead: false, paneCommand: "bash" });
    return;
  }
  if (!stillExclusive(ctx)) return;
  if (announce) decide(ctx, STEP, "starting", announce, data);
  try {
    await ctx.ports.tmux.newSession(spec);
  } catch (err) {
    if (err instanceof TmuxError && err.kind === "duplicate") {
      decide(ctx, STEP, "exists", `Deacon session ${session} was created meanwhile by someone else (e.g. gt up), leaving it`, data);
      ctx.sessions?.set(session, { name: session, paneDead: false, paneCommand: "" });
      return;
    }
    decide(ctx, STEP, "error", `Error creating Deacon session: ${errorText(err)}`, data);
    return;
  }
  ctx.sessions?.set(session, { name: session, paneDead: false, paneCommand: "bash" });
  decide(ctx, STEP, "created", "Deacon session started successfully", data);
}
