/**
 * The request ledger: what gtd remembers about each lifecycle message, across passes and across daemon
 * restarts. It lives in state.json under `requests` (DaemonState.extra.requests), keyed by message id:
 *
 *   "gt-abc12": { "attempts": 1, "first_seen": "<RFC3339>", "last_seen": "<RFC3339>",
 *                 "last_error": "state verification failed: …" | null, "done": false }
 *
 * Why it exists (defect #3): the original left a failed request open and retried it on every heartbeat
 * forever, and a request whose close failed was executed again on the next pass. Here a request is tried
 * at most `maxAttempts` times, an old one is closed unexecuted, and `done` (written before the close) means
 * "finished with: only ever close it again". state.json is hand-editable and shared with other tools, so it
 * is read through a schema; a corrupt entry is dropped with a reason, never fatal.
 */
import * as v from "valibot";
import { formatGoTime, parseGoTime } from "../gotime.ts";
import { describeIssues } from "../store.ts";
import { messageIdProblem } from "./mailbox.ts";

export const LEDGER_KEY = "requests";

export interface RequestEntry {
  /** Executions started (counted before the action runs, so a crash mid-action still counts). */
  attempts: number;
  firstSeenMs: number;
  /** Last pass that saw the message open in the inbox; drives pruning. */
  lastSeenMs: number;
  lastError: string | null;
  /** Executed, rejected, expired or given up: never executed (again), only re-closed. */
  done: boolean;
}

const time = v.pipe(
  v.string(),
  v.transform((s) => parseGoTime(s)),
  v.number("expected an RFC3339 time"),
);

const EntrySchema = v.object({
  attempts: v.pipe(v.number(), v.integer(), v.minValue(0)),
  first_seen: time,
  last_seen: v.optional(time),
  last_error: v.optional(v.nullable(v.string()), null),
  done: v.optional(v.boolean(), false),
});

export interface LedgerLoad {
  entries: Map<string, RequestEntry>;
  /** One line per dropped entry (`<id>: <reason>`), or for the whole value when it is not an object. */
  dropped: string[];
}

/** Decode `state.extra.requests`; anything unusable is dropped with a reason and the rest kept. */
export function loadLedger(raw: unknown): LedgerLoad {
  const entries = new Map<string, RequestEntry>();
  const dropped: string[] = [];
  if (raw === undefined || raw === null) return { entries, dropped };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    return { entries, dropped: [`${LEDGER_KEY}: expected an object keyed by message id`] };
  }
  for (const [id, value] of Object.entries(raw)) {
    // Ids go back into the close command's argv: the same rule as ids read from the inbox.
    const badId = messageIdProblem(id);
    if (badId) {
      dropped.push(`${JSON.stringify(id.slice(0, 80))}: ${badId}`);
      continue;
    }
    const parsed = v.safeParse(EntrySchema, value);
    if (!parsed.success) {
      dropped.push(`${id}: ${describeIssues(parsed.issues)}`);
      continue;
    }
    const e = parsed.output;
    entries.set(id, {
      attempts: e.attempts,
      firstSeenMs: e.first_seen,
      lastSeenMs: e.last_seen ?? e.first_seen,
      lastError: e.last_error,
      done: e.done,
    });
  }
  return { entries, dropped };
}

export interface RequestEntryJson {
  attempts: number;
  first_seen: string;
  last_seen: string;
  last_error: string | null;
  done: boolean;
}

export function ledgerToJson(entries: ReadonlyMap<string, RequestEntry>): Record<string, RequestEntryJson> {
  const out: Record<string, RequestEntryJson> = {};
  for (const [id, e] of entries) {
    out[id] = {
      attempts: e.attempts,
      first_seen: formatGoTime(e.firstSeenMs),
      last_seen: formatGoTime(e.lastSeenMs),
      last_error: e.lastError,
      done: e.done,
    };
  }
  return out;
}

/** The entry for `id`, created on first sight; either way stamped as seen now. */
export function touchEntry(entries: Map<string, RequestEntry>, id: string, nowMs: number): RequestEntry {
  let e = entries.get(id);
  if (!e) {
    e = { attempts: 0, firstSeenMs: nowMs, lastSeenMs: nowMs, lastError: null, done: false };
    entries.set(id, e);
  }
  e.lastSeenMs = nowMs;
  return e;
}

/**
 * How long an entry outlives its message. A closed message normally never comes back; if it does (a bd
 * sync that resurrects it, a close that only seemed to fail), the entry still says "done". After this
 * long any such message is past maxAge anyway (when it has a created_at), so the entry can go.
 */
export function pruneAfterMs(maxAgeMs: number): number {
  return Math.max(maxAgeMs, 60 * 60_000);
}

/** Drop entries whose message has not been in the inbox for `keepMs`. Returns the dropped ids. */
export function pruneLedger(entries: Map<string, RequestEntry>, inInbox: ReadonlySet<string>, nowMs: number, keepMs: number): string[] {
  const gone: string[] = [];
  for (const [id, e] of entries) {
    if (inInbox.has(id)) continue;
    if (nowMs - e.lastSeenMs >= keepMs) gone.push(id);
  }
  for (const id of gone) entries.delete(id);
  return gone;
}

/**
 * Age of a request: from the message's created_at when it has a valid one, else from when gtd first saw
 * it. The earlier of the two counts, so a created_at in the future cannot keep a request young forever.
 */
export function requestAgeMs(entry: RequestEntry, createdAt: string | undefined, nowMs: number): number {
  const created = parseGoTime(createdAt);
  const start = typeof created === "number" ? Math.min(created, entry.firstSeenMs) : entry.firstSeenMs;
  return Math.max(0, nowMs - start);
}

export type Verdict =
  | { kind: "reclose" }
  | { kind: "expired"; ageMs: number }
  | { kind: "give-up" }
  | { kind: "execute" };

/** What to do with a well-formed request this pass, in precedence order. */
export function judgeRequest(
  entry: RequestEntry,
  createdAt: string | undefined,
  nowMs: number,
  limits: { maxAttempts: number; maxAgeMs: number },
): Verdict {
  if (entry.done) return { kind: "reclose" };
  const ageMs = requestAgeMs(entry, createdAt, nowMs);
  if (ageMs > limits.maxAgeMs) return { kind: "expired", ageMs };
  // Reached only when the limit was lowered or the daemon died mid-action on the last attempt.
  if (entry.attempts >= limits.maxAttempts) return { kind: "give-up" };
  return { kind: "execute" };
}
