/**
 * processLifecycle: the Deacon's inbox, as observed, and the LIFECYCLE requests in it carried out one at a
 * time (reference §7.2, with the fixes of defects #3 and #6):
 * - an unreadable inbox is logged, once per distinct error per INBOX_ERROR_WINDOW_MS, never silently;
 * - closed messages and mail that is not `LIFECYCLE:` are left alone without a word;
 * - a LIFECYCLE title that cannot be understood, or names an agent that does not exist, can never
 *   succeed: it is logged once and closed, so it does not linger (and is never acted on);
 * - every request is tracked in the persisted ledger (ledger.ts): attempts are counted before the action
 *   runs, a request fails at most maxAttempts times and is then closed with the reason, a request older
 *   than maxAge is closed unexecuted, and `done` is saved before the close of an executed request;
 * - once shutdown is asked for, no further request starts.
 * Floods: a pass handles at most MAX_REQUESTS_PER_PASS requests and starts none after PASS_BUDGET_MS,
 * least recently handled first; the rest wait (one log line with the count, never dropped) and the pass
 * asks for another (Draft.backlog).
 */
import { formatGoDuration } from "../duration.ts";
import type { Config } from "../config/index.ts";
import { rateKey } from "./decision.ts";
import { resolveAgent, type AgentSpec } from "./identity.ts";
import { judgeRequest, LEDGER_CAP, makeRoom, pickRequests, pruneAfterMs, pruneLedger, type Pick, type RequestEntry } from "./ledger.ts";
import { handleRequest, INBOX_ERROR_WINDOW_MS, once, tell, type RequestTitle } from "./lifecycle-request.ts";
import { messageIdProblem } from "./message-id.ts";
import { parseLifecycleTitle, type LifecycleAction } from "./parse.ts";
import type { Decide, Draft } from "./pass.ts";
import type { MailMessage } from "./ports.ts";

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

export interface Selection {
  /** This pass's lifecycle requests, in inbox order, one per id. */
  requests: Map<string, Request>;
  /** Lifecycle messages whose id is refused (id → why). */
  badIds: Map<string, string>;
  pick: Pick;
  /** Open, well-formed message ids: present in the inbox whether handled this pass or not. */
  present: Set<string>;
}

/**
 * Which requests this pass handles, and the ledger brought up to date (seen, pruned, room made). Pure,
 * and shared with observe (on a copy of the ledger), which reads the agents of exactly these requests.
 */
export function selectRequests(messages: readonly MailMessage[], ledger: Map<string, RequestEntry>, nowMs: number, config: Config): Selection {
  // Every open message counts as present, handled this pass or not, so pruning never forgets one.
  const open = messages.filter((m) => m.status !== "closed" && messageIdProblem(m.id) === null);
  const present = new Set(open.map((m) => m.id));
  for (const id of present) {
    const e = ledger.get(id);
    if (e) e.lastSeenMs = nowMs;
  }
  pruneLedger(ledger, present, nowMs, pruneAfterMs(config.requests.maxAgeMs));

  const requests = new Map<string, Request>();
  const badIds = new Map<string, string>();
  const seen = new Set<string>();
  for (const msg of messages) {
    if (msg.status === "closed" || seen.has(msg.id)) continue;
    seen.add(msg.id);
    const parsed = parseLifecycleTitle(msg.title, msg.sender);
    if ("ignore" in parsed) continue;
    // The real mailbox already refuses such ids; a message id goes into argv and log lines.
    const badId = messageIdProblem(msg.id);
    if (badId) badIds.set(msg.id, badId);
    else requests.set(msg.id, { msg, parsed });
  }
  const ids = [...requests.keys()];
  const fresh = ids.filter((id) => !ledger.has(id)).length;
  const room = makeRoom(ledger, present, Math.min(fresh, MAX_REQUESTS_PER_PASS));
  return { requests, badIds, pick: pickRequests(ids, ledger, MAX_REQUESTS_PER_PASS, room), present };
}

/** The agents (resolved) and actions the picked requests name, for observe to read. */
export function requestedAgents(sel: Selection, townRoot: string): Array<{ spec: AgentSpec; action: LifecycleAction }> {
  const out: Array<{ spec: AgentSpec; action: LifecycleAction }> = [];
  for (const id of sel.pick.ids) {
    const parsed = sel.requests.get(id)?.parsed;
    if (!parsed || "error" in parsed) continue;
    const spec = resolveAgent(parsed.identity, townRoot);
    if (!("error" in spec)) out.push({ spec, action: parsed.action });
  }
  return out;
}

export function* processLifecycle(d: Draft): Decide {
  if (d.stopping) return;
  const inbox = d.obs.inbox;
  if (inbox === null) return; // not read: shutdown came first
  if ("error" in inbox) {
    if (once(d, `inbox:${rateKey(inbox.error)}`, INBOX_ERROR_WINDOW_MS)) tell(d, "error", `Error reading lifecycle mail: ${inbox.error}`);
    return;
  }
  for (const line of inbox.skipped) {
    if (once(d, `skipped:${line}`)) tell(d, "skipped", `Skipping malformed inbox message: ${line}`);
  }

  const { requests, badIds, pick } = selectRequests(inbox.messages, d.state.requests, d.nowMs, d.config);
  for (const [id, why] of badIds) if (once(d, `badid:${id}`)) tell(d, "skipped", `Skipping lifecycle message: ${why}`);

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
    if (d.stopping) {
      tell(d, "stopped", "Shutdown requested: remaining lifecycle requests wait for the next start");
      break;
    }
    // At least one request per pass, so even a slow one is always got through.
    if (handled > 0 && d.clockMs - d.nowMs >= PASS_BUDGET_MS) {
      late = pick.ids.size - handled - sameAgent;
      break;
    }
    const agent = actionTarget(d, id, msg, parsed);
    if (agent !== null && actedOn.has(agent)) {
      sameAgent += 1;
      continue;
    }
    const before = d.decisions.length;
    if (yield* handleRequest(d, msg, parsed)) progress = true;
    handled += 1;
    if (agent !== null && d.decisions.slice(before).some((x) => x.action === ACTED)) actedOn.add(agent);
  }

  const waiting = pick.waiting + late + sameAgent;
  if (waiting > 0 && !d.stopping) {
    const why =
      late > 0
        ? `no request starts once a pass has run ${formatGoDuration(PASS_BUDGET_MS)}`
        : pick.waiting > 0
          ? `at most ${MAX_REQUESTS_PER_PASS} are handled per pass`
          : "one action per agent per pass";
    const full = pick.ledgerFull ? `; the request ledger is full (${LEDGER_CAP} requests in progress or still to be closed), so new ones wait for room` : "";
    const n = waiting === 1 ? "1 lifecycle request waits" : `${waiting} lifecycle requests wait`;
    tell(d, "deferred", `${n} for the next pass (${why})${full}`, { waiting });
    // Another pass can get further: the daemon asks for one at once (a waiting heartbeat goes first).
    // Not when nothing moved (every close failing, say): that would only spin.
    d.backlog = progress;
  }
}

/**
 * The decision that means a request passed verification and went on to act on its agent (or, in a dry
 * run, would have). A later request for that agent in the same pass waits for the next pass.
 */
const ACTED = "verified";

/** The agent a request would act on (canonical identity), or null when it will not act (done, rejected). */
function actionTarget(d: Draft, id: string, msg: MailMessage, parsed: RequestTitle): string | null {
  if ("error" in parsed) return null;
  // Only a request that will execute: an expired, given-up or finished one is closed whatever else ran.
  const entry = d.state.requests.get(id) ?? { attempts: 0, firstSeenMs: d.nowMs, lastSeenMs: d.nowMs, lastError: null, done: false };
  if (judgeRequest(entry, msg.created_at, d.nowMs, d.config.requests).kind !== "execute") return null;
  const spec = resolveAgent(parsed.identity, d.paths.root);
  return "error" in spec ? null : spec.identity;
}
