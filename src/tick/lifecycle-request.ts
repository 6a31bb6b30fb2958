/**
 * One lifecycle request, handled (for processLifecycle, src/tick/lifecycle-step.ts): the ledger's
 * verdict, the action, the close, and the writes a crash must not lose. state.json is written here only
 * before what it guards: the attempt of a request about to act (so a crash mid-action still counts), and
 * `done` before an executed request's close (so a failed close or a crash leads to a re-close, never a
 * second execution). A rejection, expiry, give-up or re-close that a crash makes happen again is
 * harmless, so those are saved with the pass.
 */
import { resolveAgent, type AgentSpec } from "../agents/identity.ts";
import { formatGoDuration } from "../duration.ts";
import { errorText } from "../errors.ts";
import { executeLifecycleAction } from "../lifecycle/actions.ts";
import type { LifecycleAction, ParsedTitle } from "../lifecycle/parse.ts";
import { clipError, judgeRequest, LEDGER_KEY, ledgerToJson, touchEntry, type RequestEntry } from "../core/ledger.ts";
import { agentOutsideTown, clearRequestFlag, flagKey, verifyRequestFlag } from "../lifecycle/verify.ts";
import type { MailMessage } from "../ports.ts";
import { writeState } from "../state.ts";
import { decide, rateKey, type TickContext } from "./context.ts";

/** A failing inbox or close is reported again after this long (per distinct error text). */
export const INBOX_ERROR_WINDOW_MS = 10 * 60_000;

export type Ledger = Map<string, RequestEntry>;
/** A lifecycle title, understood or not (mail that is not lifecycle mail never gets here). */
export type RequestTitle = Exclude<ParsedTitle, { ignore: true }>;

export const say = (ctx: TickContext, action: string, message: string, data?: Record<string, unknown>) =>
  decide(ctx, "processLifecycle", action, message, data);

/** Log once per daemon lifetime (or per window) for a given key. */
export const once = (ctx: TickContext, key: string, everyMs = Number.POSITIVE_INFINITY) =>
  ctx.memory.shouldSay(`lifecycle:${key}`, ctx.nowMs, everyMs);

/** Handle one request. False when nothing moved: a re-close that failed again. */
export async function handleRequest(ctx: TickContext, ledger: Ledger, msg: MailMessage, parsed: RequestTitle): Promise<boolean> {
  const id = msg.id;
  const entry = touchEntry(ledger, id, ctx.nowMs);

  if (entry.done) {
    if (once(ctx, `reclose:${id}`)) say(ctx, "reclose", `Lifecycle request ${id} was already handled; closing it again`);
    return closeMessage(ctx, id);
  }
  if ("error" in parsed) {
    await finish(ctx, id, entry, parsed.error, `Rejecting lifecycle request ${id}: ${parsed.error}`, "rejected");
    return true;
  }

  const { identity, action } = parsed;
  const limits = ctx.config.requests;
  const verdict = judgeRequest(entry, msg.created_at, ctx.nowMs, limits);
  if (verdict.kind === "reclose") return true; // entry.done was handled above
  if (verdict.kind === "expired") {
    const age = `${formatGoDuration(Math.round(verdict.ageMs / 1000) * 1000)} old, older than ${formatGoDuration(limits.maxAgeMs)}`;
    const message = `Closing expired lifecycle request ${id} from ${identity} (${action}) unexecuted: ${age}`;
    await finish(ctx, id, entry, `expired: ${age}`, message, "expired");
    return true;
  }
  if (verdict.kind === "give-up") {
    await giveUp(ctx, id, entry, identity, entry.lastError ?? "no result recorded (interrupted)");
    return true;
  }

  say(ctx, "processing", `Processing lifecycle request from ${identity}: ${action}`, { id, identity, action });
  const spec = resolveAgent(identity, ctx.paths.root);
  if ("error" in spec) {
    // An unknown agent stays unknown: retrying cannot help.
    say(ctx, "error", `Error executing lifecycle action: ${spec.error}`, { id });
    await finish(ctx, id, entry, spec.error, `Closing lifecycle request ${id}: it can never succeed`, "rejected");
    return true;
  }

  entry.attempts += 1;
  // On disk before the action, so a crash mid-action still counts. A request whose flag is not set fails
  // before touching anything: its attempt waits for the pass's save (a crash first only forgets a check
  // that changed nothing), so a flood of such mail is not one write per message.
  if (!ctx.dryRun && mayAct(ctx, spec, action)) persist(ctx, ledger);
  try {
    await executeLifecycleAction(ctx, spec, action);
  } catch (err) {
    const text = errorText(err);
    entry.lastError = clipError(text);
    say(ctx, "error", `Error executing lifecycle action: ${text}`, { id, attempts: entry.attempts });
    if (entry.attempts >= limits.maxAttempts) await giveUp(ctx, id, entry, identity, text);
    return true;
  }

  clearFlag(ctx, spec.stateFile, spec.identity, action);
  entry.done = true;
  entry.lastError = null;
  persist(ctx, ledger);
  await closeMessage(ctx, id);
  return true;
}

/** Whether executeLifecycleAction would get past its checks (the same checks, read-only). */
function mayAct(ctx: TickContext, spec: AgentSpec, action: LifecycleAction): boolean {
  return agentOutsideTown(spec, ctx.paths.root) === null && verifyRequestFlag(spec.stateFile, action).ok;
}

async function giveUp(ctx: TickContext, id: string, entry: RequestEntry, identity: string, reason: string): Promise<void> {
  const n = entry.attempts;
  const message = `Giving up on lifecycle request ${id} from ${identity} after ${n} attempt${n === 1 ? "" : "s"}: ${reason}`;
  await finish(ctx, id, entry, reason, message, "gave-up");
}

/**
 * A request that will not be executed: mark it done, say why, close it. `done` is saved with the pass,
 * not before the close: after a crash the same verdict is simply reached again.
 */
async function finish(ctx: TickContext, id: string, entry: RequestEntry, reason: string, message: string, action: string): Promise<void> {
  entry.done = true;
  entry.lastError = clipError(reason);
  say(ctx, action, message, { id });
  await closeMessage(ctx, id);
}

/** Remove the flag (other keys kept); the action is done either way, so a failure is only a warning. */
function clearFlag(ctx: TickContext, stateFile: string, identity: string, action: LifecycleAction): void {
  if (ctx.dryRun) {
    say(ctx, "would-clear", `(dry run) would clear ${flagKey(action)} in ${stateFile}`);
    return;
  }
  try {
    if (clearRequestFlag(stateFile, action)) say(ctx, "cleared", `Cleared ${flagKey(action)} for agent ${identity}`);
  } catch (err) {
    say(ctx, "warning", `Warning: failed to clear ${flagKey(action)} for agent ${identity}: ${errorText(err)}`);
  }
}

/**
 * No abort signal: closing is the end of the current request, which is allowed to finish; the
 * mailbox timeout bounds it, and the saved `done` makes a cut-off close harmless.
 */
async function closeMessage(ctx: TickContext, id: string): Promise<boolean> {
  if (ctx.dryRun) {
    say(ctx, "would-close", `(dry run) would close message ${id}`, { id });
    return true;
  }
  try {
    await ctx.ports.mailbox.close(id);
    say(ctx, "closed", `Closed lifecycle message ${id}`, { id });
    return true;
  } catch (err) {
    const text = errorText(err);
    if (once(ctx, `close:${id}:${rateKey(text)}`, INBOX_ERROR_WINDOW_MS)) say(ctx, "error", `Warning: failed to close message ${id}: ${text}`, { id });
    return false;
  }
}

/** The ledger into state.extra (as JSON), for the pass's save. */
export function store(ctx: TickContext, ledger: Ledger): void {
  if (ctx.dryRun) return;
  if (ledger.size === 0) delete ctx.state.extra[LEDGER_KEY];
  else ctx.state.extra[LEDGER_KEY] = ledgerToJson(ledger);
}

/**
 * Write state.json now, not only with the pass: the attempt of a request about to act, and `done` of an
 * executed one, must be on disk before the action or the close they guard, or a crash in between would
 * forget them (and a restarted daemon could run the action once more).
 */
function persist(ctx: TickContext, ledger: Ledger): void {
  if (ctx.dryRun) return;
  store(ctx, ledger);
  try {
    writeState(ctx.paths.stateFile, ctx.state);
  } catch (err) {
    if (once(ctx, `persist:${errorText(err)}`, INBOX_ERROR_WINDOW_MS)) {
      say(ctx, "error", `Warning: failed to save state: ${errorText(err)}`);
    }
  }
}
