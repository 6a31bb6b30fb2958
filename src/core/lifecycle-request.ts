/**
 * One lifecycle request, handled (for processLifecycle, lifecycle.ts): the ledger's verdict, the action,
 * the close, and the saves a crash must not lose. state.json is saved mid-pass only before what it
 * guards: the attempt of a request about to act (so a crash mid-action still counts), and `done` before
 * an executed request's close (so a failed close or a crash leads to a re-close, never a second
 * execution). A rejection, expiry, give-up or re-close that a crash makes happen again is harmless, so
 * those are saved with the pass.
 */
import { formatGoDuration } from "../duration.ts";
import { errorText } from "../errors.ts";
import { rateKey } from "./decision.ts";
import { resolveAgent, type AgentSpec } from "./identity.ts";
import { clipError, judgeRequest, touchEntry, type RequestEntry } from "./ledger.ts";
import { executeLifecycleAction, factsFor, flagKey } from "./lifecycle-action.ts";
import type { LifecycleAction, ParsedTitle } from "./parse.ts";
import { act, say, type Decide, type Draft } from "./pass.ts";
import type { MailMessage } from "./ports.ts";
import { gateRefusal } from "./supervise.ts";

/** A failing inbox or close is reported again after this long (per distinct error text). */
export const INBOX_ERROR_WINDOW_MS = 10 * 60_000;

/** A lifecycle title, understood or not (mail that is not lifecycle mail never gets here). */
export type RequestTitle = Exclude<ParsedTitle, { ignore: true }>;

export const tell = (d: Draft, action: string, message: string, data?: Record<string, unknown>) => say(d, "processLifecycle", action, message, data);

/** Log once per daemon lifetime (or per window) for a given key. */
export const once = (d: Draft, key: string, everyMs = Number.POSITIVE_INFINITY) => d.memory.shouldSay(`lifecycle:${key}`, d.nowMs, everyMs);

/** Handle one request. False when nothing moved: a re-close that failed again. */
export function* handleRequest(d: Draft, msg: MailMessage, parsed: RequestTitle): Decide<boolean> {
  const id = msg.id;
  const entry = touchEntry(d.state.requests, id, d.nowMs);

  if (entry.done) {
    if (once(d, `reclose:${id}`)) tell(d, "reclose", `Lifecycle request ${id} was already handled; closing it again`);
    return yield* closeMessage(d, id);
  }
  if ("error" in parsed) {
    yield* finish(d, id, entry, parsed.error, `Rejecting lifecycle request ${id}: ${parsed.error}`, "rejected");
    return true;
  }

  const { identity, action } = parsed;
  const limits = d.config.requests;
  const verdict = judgeRequest(entry, msg.created_at, d.nowMs, limits);
  if (verdict.kind === "reclose") return true; // entry.done was handled above
  if (verdict.kind === "expired") {
    const age = `${formatGoDuration(Math.round(verdict.ageMs / 1000) * 1000)} old, older than ${formatGoDuration(limits.maxAgeMs)}`;
    yield* finish(d, id, entry, `expired: ${age}`, `Closing expired lifecycle request ${id} from ${identity} (${action}) unexecuted: ${age}`, "expired");
    return true;
  }
  if (verdict.kind === "give-up") {
    yield* giveUp(d, id, entry, identity, entry.lastError ?? "no result recorded (interrupted)");
    return true;
  }

  tell(d, "processing", `Processing lifecycle request from ${identity}: ${action}`, { id, identity, action });
  const spec = resolveAgent(identity, d.paths.root);
  if ("error" in spec) {
    // An unknown agent stays unknown: retrying cannot help.
    tell(d, "error", `Error executing lifecycle action: ${spec.error}`, { id });
    yield* finish(d, id, entry, spec.error, `Closing lifecycle request ${id}: it can never succeed`, "rejected");
    return true;
  }

  // The one gate (supervise.ts): a paused agent, or one held after a crash loop, is not touched.
  const refused = gateRefusal(d, spec.identity);
  if (refused) {
    yield* finish(d, id, entry, refused, `Refusing lifecycle request ${id} from ${identity} (${action}): ${refused}`, "refused");
    return true;
  }

  entry.attempts += 1;
  // Saved before the action, so a crash mid-action still counts. A request whose flag is not set fails
  // before touching anything: its attempt waits for the pass's save (a crash first only forgets a check
  // that changed nothing), so a flood of such mail is not one write per message.
  if (mayAct(d, spec, action)) yield* persist(d);
  try {
    yield* executeLifecycleAction(d, spec, action);
  } catch (err) {
    const text = errorText(err);
    entry.lastError = clipError(text);
    tell(d, "error", `Error executing lifecycle action: ${text}`, { id, attempts: entry.attempts });
    if (entry.attempts >= limits.maxAttempts) yield* giveUp(d, id, entry, identity, text);
    return true;
  }

  yield* clearFlag(d, spec, action);
  entry.done = true;
  entry.lastError = null;
  yield* persist(d);
  yield* closeMessage(d, id);
  return true;
}

/** Whether executeLifecycleAction would get past its checks (the same facts). */
function mayAct(d: Draft, spec: AgentSpec, action: LifecycleAction): boolean {
  const facts = factsFor(d, spec, action);
  return facts !== null && facts.outside === null && facts.flag.ok;
}

function* giveUp(d: Draft, id: string, entry: RequestEntry, identity: string, reason: string): Decide {
  const n = entry.attempts;
  yield* finish(d, id, entry, reason, `Giving up on lifecycle request ${id} from ${identity} after ${n} attempt${n === 1 ? "" : "s"}: ${reason}`, "gave-up");
}

/**
 * A request that will not be executed: mark it done, say why, close it. `done` is saved with the pass,
 * not before the close: after a crash the same verdict is simply reached again.
 */
function* finish(d: Draft, id: string, entry: RequestEntry, reason: string, message: string, action: string): Decide {
  entry.done = true;
  entry.lastError = clipError(reason);
  tell(d, action, message, { id });
  yield* closeMessage(d, id);
}

/** Remove the flag (other keys kept); the action is done either way, so a failure is only a warning. */
function* clearFlag(d: Draft, spec: AgentSpec, action: LifecycleAction): Decide {
  const out = yield* act(d, {
    kind: "clearFlag",
    stateFile: spec.stateFile,
    action,
    identity: spec.identity,
    step: "processLifecycle",
    done: { action: "cleared", message: `Cleared ${flagKey(action)} for agent ${spec.identity}` },
    plan: { action: "would-clear", message: `(dry run) would clear ${flagKey(action)} in ${spec.stateFile}` },
  });
  if (!out.ok) tell(d, "warning", `Warning: failed to clear ${flagKey(action)} for agent ${spec.identity}: ${out.error}`);
}

/**
 * Closing is the end of the current request, which is allowed to finish even during shutdown; the
 * mailbox timeout bounds it, and the saved `done` makes a cut-off close harmless.
 */
function* closeMessage(d: Draft, id: string): Decide<boolean> {
  const out = yield* act(d, {
    kind: "closeMessage",
    id,
    step: "processLifecycle",
    done: { action: "closed", message: `Closed lifecycle message ${id}`, data: { id } },
    plan: { action: "would-close", message: `(dry run) would close message ${id}`, data: { id } },
  });
  if (out.ok) return true;
  if (once(d, `close:${id}:${rateKey(out.error)}`, INBOX_ERROR_WINDOW_MS)) tell(d, "error", `Warning: failed to close message ${id}: ${out.error}`, { id });
  return false;
}

/**
 * Save state.json now, not only with the pass: the attempt of a request about to act, and `done` of an
 * executed one, must be on disk before the action or the close they guard, or a crash in between would
 * forget them (and a restarted daemon could run the action once more).
 */
function* persist(d: Draft): Decide {
  const out = yield* act(d, { kind: "saveState", state: d.state, step: "processLifecycle", exclusive: true });
  if (out.ok || out.kind === "not-exclusive") return;
  if (once(d, `persist:${out.error}`, INBOX_ERROR_WINDOW_MS)) tell(d, "error", `Warning: failed to save state: ${out.error}`);
}
