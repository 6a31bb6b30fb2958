/**
 * processLifecycle: read the deacon's inbox and carry out LIFECYCLE requests, one at a time
 * (reference §7.2, with the fixes of defects #3 and #6):
 * - an unreadable inbox is logged, once per distinct error per INBOX_ERROR_WINDOW_MS, never silently;
 * - closed messages and mail that is not `LIFECYCLE:` are left alone without a word;
 * - a LIFECYCLE title that cannot be understood, or names an agent that does not exist, can never
 *   succeed: it is logged once and closed, so it does not linger (and is never acted on);
 * - every request is tracked in the persisted ledger (src/lifecycle/requests.ts): attempts are counted
 *   before the action runs, a request fails at most maxAttempts times and is then closed with the
 *   reason, a request older than maxAge is closed unexecuted, and `done` is saved before the close, so a
 *   close that fails (or a crash right after the action) leads to a re-close, never a second execution;
 * - once shutdown is asked for, no further request starts.
 * Under dry-run nothing is written: no state, no agent state, no close.
 */
import { resolveAgent } from "../agents/identity.ts";
import { formatGoDuration } from "../duration.ts";
import { errorText } from "../errors.ts";
import { executeLifecycleAction } from "../lifecycle/actions.ts";
import { messageIdProblem } from "../lifecycle/mailbox.ts";
import { parseLifecycleTitle, type LifecycleAction } from "../lifecycle/parse.ts";
import {
  judgeRequest,
  LEDGER_KEY,
  ledgerToJson,
  loadLedger,
  pruneAfterMs,
  pruneLedger,
  touchEntry,
  type RequestEntry,
} from "../lifecycle/requests.ts";
import { clearRequestFlag, flagKey } from "../lifecycle/verify.ts";
import type { InboxResult, MailMessage } from "../ports.ts";
import { writeState } from "../state.ts";
import { decide, rateKey, type Step, type TickContext } from "./context.ts";

/** A failing inbox or close is reported again after this long (per distinct error text). */
export const INBOX_ERROR_WINDOW_MS = 10 * 60_000;

type Ledger = Map<string, RequestEntry>;

const say = (ctx: TickContext, action: string, message: string, data?: Record<string, unknown>) =>
  decide(ctx, "processLifecycle", action, message, data);

/** Log once per daemon lifetime (or per window) for a given key. */
const once = (ctx: TickContext, key: string, everyMs = Number.POSITIVE_INFINITY) =>
  ctx.memory.shouldSay(`lifecycle:${key}`, ctx.nowMs, everyMs);

export const processLifecycle: Step = async (ctx) => {
  if (ctx.signal.aborted) return ctx;
  let inbox: InboxResult;
  try {
    inbox = await ctx.ports.mailbox.inbox(ctx.signal);
  } catch (err) {
    // Shutdown killed the inbox command: that is not a mailbox failure worth a line.
    if (ctx.signal.aborted) return ctx;
    const text = errorText(err);
    if (once(ctx, `inbox:${rateKey(text)}`, INBOX_ERROR_WINDOW_MS)) say(ctx, "error", `Error reading lifecycle mail: ${text}`);
    return ctx;
  }
  for (const line of inbox.skipped) {
    if (once(ctx, `skipped:${line}`)) say(ctx, "skipped", `Skipping malformed inbox message: ${line}`);
  }

  const loaded = loadLedger(ctx.state.extra[LEDGER_KEY]);
  for (const line of loaded.dropped) {
    if (once(ctx, `dropped:${line}`)) say(ctx, "warning", `Warning: dropping corrupt lifecycle request record ${line}`);
  }
  const ledger = loaded.entries;

  // Every open message counts as present, handled this pass or not, so pruning never forgets one.
  const open = inbox.messages.filter((m) => m.status !== "closed" && messageIdProblem(m.id) === null);
  const present = new Set(open.map((m) => m.id));
  for (const id of present) {
    const e = ledger.get(id);
    if (e) e.lastSeenMs = ctx.nowMs;
  }

  // An id listed twice is one request: handled once per pass.
  const handled = new Set<string>();
  for (const msg of inbox.messages) {
    if (msg.status === "closed" || handled.has(msg.id)) continue;
    handled.add(msg.id);
    if (ctx.signal.aborted) {
      say(ctx, "stopped", "Shutdown requested: remaining lifecycle requests wait for the next start");
      break;
    }
    await handleMessage(ctx, ledger, msg);
  }

  pruneLedger(ledger, present, ctx.nowMs, pruneAfterMs(ctx.config.requests.maxAgeMs));
  store(ctx, ledger);
  return ctx;
};

async function handleMessage(ctx: TickContext, ledger: Ledger, msg: MailMessage): Promise<void> {
  const parsed = parseLifecycleTitle(msg.title, msg.sender);
  if ("ignore" in parsed) return;
  // The real mailbox already refuses such ids; a message id goes into argv and log lines.
  const badId = messageIdProblem(msg.id);
  if (badId) {
    if (once(ctx, `badid:${msg.id}`)) say(ctx, "skipped", `Skipping lifecycle message: ${badId}`);
    return;
  }
  const id = msg.id;
  const entry = touchEntry(ledger, id, ctx.nowMs);

  if (entry.done) {
    if (once(ctx, `reclose:${id}`)) say(ctx, "reclose", `Lifecycle request ${id} was already handled; closing it again`);
    await closeMessage(ctx, id);
    return;
  }
  if ("error" in parsed) {
    await finish(ctx, ledger, id, entry, parsed.error, `Rejecting lifecycle request ${id}: ${parsed.error}`, "rejected");
    return;
  }

  const { identity, action } = parsed;
  const limits = ctx.config.requests;
  const verdict = judgeRequest(entry, msg.created_at, ctx.nowMs, limits);
  if (verdict.kind === "reclose") return; // entry.done was handled above
  if (verdict.kind === "expired") {
    const age = `${formatGoDuration(Math.round(verdict.ageMs / 1000) * 1000)} old, older than ${formatGoDuration(limits.maxAgeMs)}`;
    const message = `Closing expired lifecycle request ${id} from ${identity} (${action}) unexecuted: ${age}`;
    await finish(ctx, ledger, id, entry, `expired: ${age}`, message, "expired");
    return;
  }
  if (verdict.kind === "give-up") {
    await giveUp(ctx, ledger, id, entry, identity, entry.lastError ?? "no result recorded (interrupted)");
    return;
  }

  say(ctx, "processing", `Processing lifecycle request from ${identity}: ${action}`, { id, identity, action });
  const spec = resolveAgent(identity, ctx.paths.root);
  if ("error" in spec) {
    // An unknown agent stays unknown: retrying cannot help.
    say(ctx, "error", `Error executing lifecycle action: ${spec.error}`, { id });
    await finish(ctx, ledger, id, entry, spec.error, `Closing lifecycle request ${id}: it can never succeed`, "rejected");
    return;
  }

  entry.attempts += 1;
  persist(ctx, ledger);
  try {
    await executeLifecycleAction(ctx, spec, action);
  } catch (err) {
    const text = errorText(err);
    entry.lastError = text;
    say(ctx, "error", `Error executing lifecycle action: ${text}`, { id, attempts: entry.attempts });
    if (entry.attempts >= limits.maxAttempts) await giveUp(ctx, ledger, id, entry, identity, text);
    else persist(ctx, ledger);
    return;
  }

  clearFlag(ctx, spec.stateFile, spec.identity, action);
  entry.done = true;
  entry.lastError = null;
  persist(ctx, ledger);
  await closeMessage(ctx, id);
}

async function giveUp(ctx: TickContext, ledger: Ledger, id: string, entry: RequestEntry, identity: string, reason: string): Promise<void> {
  const n = entry.attempts;
  const message = `Giving up on lifecycle request ${id} from ${identity} after ${n} attempt${n === 1 ? "" : "s"}: ${reason}`;
  await finish(ctx, ledger, id, entry, reason, message, "gave-up");
}

/** A request that will not be executed: mark it done (saved first), say why, close it. */
async function finish(ctx: TickContext, ledger: Ledger, id: string, entry: RequestEntry, reason: string, message: string, action: string): Promise<void> {
  entry.done = true;
  entry.lastError = reason;
  persist(ctx, ledger);
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
async function closeMessage(ctx: TickContext, id: string): Promise<void> {
  if (ctx.dryRun) {
    say(ctx, "would-close", `(dry run) would close message ${id}`, { id });
    return;
  }
  try {
    await ctx.ports.mailbox.close(id);
    say(ctx, "closed", `Closed lifecycle message ${id}`, { id });
  } catch (err) {
    const text = errorText(err);
    if (once(ctx, `close:${id}:${rateKey(text)}`, INBOX_ERROR_WINDOW_MS)) say(ctx, "error", `Warning: failed to close message ${id}: ${text}`, { id });
  }
}

function store(ctx: TickContext, ledger: Ledger): void {
  if (ctx.dryRun) return;
  if (ledger.size === 0) delete ctx.state.extra[LEDGER_KEY];
  else ctx.state.extra[LEDGER_KEY] = ledgerToJson(ledger);
}

/**
 * Write state.json now, not only at the end of the pass: attempts and `done` must be on disk before the
 * action or the close they guard, or a crash in between would forget them.
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
