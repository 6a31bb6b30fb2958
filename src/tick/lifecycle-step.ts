/**
 * processLifecycle: read the deacon's inbox and carry out LIFECYCLE requests, one at a time
 * (reference §7.2, with the fixes of defects #3 and #6):
 * - an unreadable inbox is logged, once per distinct error per INBOX_ERROR_WINDOW_MS, never silently;
 * - closed messages and mail that is not `LIFECYCLE:` are left alone without a word;
 * - a LIFECYCLE title that cannot be understood, or names an agent that does not exist, can never
 *   succeed: it is logged once and closed, so it does not linger (and is never acted on);
 * - every request is tracked in the persisted ledger (src/lifecycle/requests.ts): attempts are counted
 *   before the action runs, a request fails at most maxAttempts times and is then closed with the
 *   reason, a request older than maxAge is closed unexecuted, and `done` is saved before the close of an
 *   executed request, so a close that fails (or a crash right after the action) leads to a re-close,
 *   never a second execution;
 * - once shutdown is asked for, no further request starts.
 * Floods: a pass handles at most MAX_REQUESTS_PER_PASS requests and starts none after PASS_BUDGET_MS,
 * least recently handled first; the rest wait (one log line with the count, never dropped) and the pass
 * asks for another (ctx.lifecycleBacklog). state.json is saved once, by the pass's saveState step, plus
 * the writes of lifecycle-request.ts that guard an action or its close.
 * Under dry-run nothing is written: no state, no agent state, no close.
 */
import { resolveAgent } from "../agents/identity.ts";
import { formatGoDuration } from "../duration.ts";
import { errorText } from "../errors.ts";
import { messageIdProblem } from "../lifecycle/mailbox.ts";
import { parseLifecycleTitle } from "../lifecycle/parse.ts";
import { judgeRequest, LEDGER_CAP, LEDGER_KEY, loadLedger, makeRoom, pickRequests, pruneAfterMs, pruneLedger } from "../core/ledger.ts";
import type { InboxResult, MailMessage } from "../ports.ts";
import { rateKey, type Step, type TickContext } from "./context.ts";
import { handleRequest, INBOX_ERROR_WINDOW_MS, once, say, store, type Ledger, type RequestTitle } from "./lifecycle-request.ts";

export { INBOX_ERROR_WINDOW_MS };

/**
 * Requests handled in one pass, at most. A healthy town has a handful open at a time (an agent asks, then
 * waits), so 50 takes any real inbox in one pass; a flood is cut into passes of at most 50 (about 50 bd
 * calls, a few seconds), and a heartbeat waiting its turn (the Deacon check) runs between two of them.
 */
export const MAX_REQUESTS_PER_PASS = 50;

/**
 * A pass that has run this long starts no further request. With a hung bd every close takes its whole
 * timeout (30 s by default), and 50 of them would hold the heartbeat back for 25 minutes; so the Deacon
 * check waits at most this plus the request in flight (whose commands have their own timeouts).
 */
export const PASS_BUDGET_MS = 10_000;

type Request = { msg: MailMessage; parsed: RequestTitle };

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
  pruneLedger(ledger, present, ctx.nowMs, pruneAfterMs(ctx.config.requests.maxAgeMs));

  const requests = lifecycleRequests(ctx, inbox.messages);
  const ids = [...requests.keys()];
  const fresh = ids.filter((id) => !ledger.has(id)).length;
  const room = makeRoom(ledger, present, Math.min(fresh, MAX_REQUESTS_PER_PASS));
  const pick = pickRequests(ids, ledger, MAX_REQUESTS_PER_PASS, room);

  let handled = 0;
  let late = 0;
  let progress = false;
  // One action per agent per pass: a second request for an agent this pass already acted on (a cycle
  // and a shutdown, or two cycles) waits for the next pass, which sees what the first one left. Requests
  // that act on nothing (a flag not set) are not held back, so a flood for one agent still drains.
  const actedOn = new Set<string>();
  let sameAgent = 0;
  for (const [id, { msg, parsed }] of requests) {
    if (!pick.ids.has(id)) continue;
    if (ctx.signal.aborted) {
      say(ctx, "stopped", "Shutdown requested: remaining lifecycle requests wait for the next start");
      break;
    }
    // At least one request per pass, so even a slow one is always got through.
    if (handled > 0 && ctx.ports.clock.now() - ctx.nowMs >= PASS_BUDGET_MS) {
      late = pick.ids.size - handled - sameAgent;
      break;
    }
    const agent = actionTarget(ctx, ledger, id, msg, parsed);
    if (agent !== null && actedOn.has(agent)) {
      sameAgent += 1;
      continue;
    }
    const before = ctx.decisions.length;
    if (await handleRequest(ctx, ledger, msg, parsed)) progress = true;
    handled += 1;
    if (agent !== null && ctx.decisions.slice(before).some((d) => d.action === ACTED)) actedOn.add(agent);
  }

  const waiting = pick.waiting + late + sameAgent;
  if (waiting > 0 && !ctx.signal.aborted) {
    const why =
      late > 0
        ? `no request starts once a pass has run ${formatGoDuration(PASS_BUDGET_MS)}`
        : pick.waiting > 0
          ? `at most ${MAX_REQUESTS_PER_PASS} are handled per pass`
          : "one action per agent per pass";
    const full = pick.ledgerFull ? `; the request ledger is full (${LEDGER_CAP} requests in progress or still to be closed), so new ones wait for room` : "";
    const n = waiting === 1 ? "1 lifecycle request waits" : `${waiting} lifecycle requests wait`;
    say(ctx, "deferred", `${n} for the next pass (${why})${full}`, { waiting });
    // Another pass can get further: the daemon asks for one at once (a waiting heartbeat goes first).
    // Not when nothing moved (every close failing, say): that would only spin.
    ctx.lifecycleBacklog = progress;
  }
  store(ctx, ledger);
  return ctx;
};

/**
 * The decision that means a request passed verification and went on to act on its agent (or, in a dry
 * run, would have). A later request for that agent in the same pass would find the flag the first one
 * cleared, or a session it just replaced: it waits for the next pass instead, in a real pass and a dry
 * run alike, so the plan is what the pass does.
 */
const ACTED = "verified";

/** The agent a request would act on (canonical identity), or null when it will not act (done, rejected). */
function actionTarget(ctx: TickContext, ledger: Ledger, id: string, msg: MailMessage, parsed: RequestTitle): string | null {
  if ("error" in parsed) return null;
  // Only a request that will execute: an expired, given-up or finished one is closed whatever else ran.
  const entry = ledger.get(id) ?? { attempts: 0, firstSeenMs: ctx.nowMs, lastSeenMs: ctx.nowMs, lastError: null, done: false };
  if (judgeRequest(entry, msg.created_at, ctx.nowMs, ctx.config.requests).kind !== "execute") return null;
  const spec = resolveAgent(parsed.identity, ctx.paths.root);
  return "error" in spec ? null : spec.identity;
}

/**
 * This pass's lifecycle requests, in inbox order, one per id (an id listed twice is one request). Closed
 * messages and other mail are left alone without a word.
 */
function lifecycleRequests(ctx: TickContext, messages: readonly MailMessage[]): Map<string, Request> {
  const out = new Map<string, Request>();
  const seen = new Set<string>();
  for (const msg of messages) {
    if (msg.status === "closed" || seen.has(msg.id)) continue;
    seen.add(msg.id);
    const parsed = parseLifecycleTitle(msg.title, msg.sender);
    if ("ignore" in parsed) continue;
    // The real mailbox already refuses such ids; a message id goes into argv and log lines.
    const badId = messageIdProblem(msg.id);
    if (badId) {
      if (once(ctx, `badid:${msg.id}`)) say(ctx, "skipped", `Skipping lifecycle message: ${badId}`);
      continue;
    }
    out.set(msg.id, { msg, parsed });
  }
  return out;
}
