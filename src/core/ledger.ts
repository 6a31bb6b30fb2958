/**
 * The request ledger: what gtd remembers about each lifecycle message, across passes and across daemon
 * restarts. It lives in state.json under `requests` (DaemonState.requests, decoded once at load), keyed by message id:
 *
 *   "gt-abc12": { "attempts": 1, "first_seen": "<RFC3339>", "last_seen": "<RFC3339>",
 *                 "last_error": "state verification failed: …" | null, "done": false }
 *
 * Why it exists (defect #3): the original left a failed request open and retried it on every heartbeat
 * forever, and a request whose close failed was executed again on the next pass. Here a request is tried
 * at most `maxAttempts` times, an old one is closed unexecuted, and `done` means "finished with: only ever
 * close it again" (for an executed request it is written before the close). state.json is hand-editable
 * and shared with other tools, so it is read through a schema; a corrupt entry is dropped with a reason,
 * never fatal.
 *
 * Ids come from mail, so they are outside data: `__proto__`, `constructor` and `toString` are ordinary
 * ids here. The ledger is a Map in memory and a null-prototype object on its way to JSON (on a plain
 * object, `out["__proto__"] = …` sets the prototype and the entry silently never reaches the file).
 *
 * Bounded: at most LEDGER_CAP entries, and a stored error clipped to LAST_ERROR_MAX_CHARS, so a flood of
 * mail cannot grow state.json without bound within the 6 h window.
 */
import * as v from "valibot";
import { formatGoTime, parseGoTime } from "../gotime.ts";
import { messageIdProblem } from "./message-id.ts";
import { describeIssues, GoInstant } from "./schema.ts";

export const LEDGER_KEY = "requests";

/**
 * Most entries the ledger holds. A healthy town has a few lifecycle requests an hour per agent, so its
 * 6 h window holds tens to a few hundred; 1000 leaves room for a big town and keeps state.json under
 * ~350 KB (an entry with its error is ~350 bytes) however much mail arrives. makeRoom says what gives way.
 */
export const LEDGER_CAP = 1000;

/** A stored error says which check failed; the full text is in the log line of the failure. */
export const LAST_ERROR_MAX_CHARS = 200;

/** `text` cut to LAST_ERROR_MAX_CHARS (the cut marked with …). */
export function clipError(text: string): string {
  return text.length <= LAST_ERROR_MAX_CHARS ? text : `${text.slice(0, LAST_ERROR_MAX_CHARS - 1)}…`;
}

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

const time = GoInstant;

const EntrySchema = v.object({
  attempts: v.pipe(v.number(), v.integer(), v.minValue(0)),
  first_seen: time,
  last_seen: v.optional(time),
  // Clipped on the way in too: a hand-edited megabyte of text would otherwise be rewritten every pass.
  last_error: v.pipe(
    v.optional(v.nullable(v.string()), null),
    v.transform((t) => (t === null ? null : clipError(t))),
  ),
  done: v.optional(v.boolean(), false),
});

export interface LedgerLoad {
  entries: Map<string, RequestEntry>;
  /** One line per dropped entry (`<id>: <reason>`), or for the whole value when it is not an object. */
  dropped: string[];
}

/** Decode the `requests` value of state.json; anything unusable is dropped with a reason and the rest kept. */
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

/** An entry as the file holds it: the schema's input. */
export type RequestEntryJson = v.InferInput<typeof EntrySchema>;

/** In the Map's order, which is least recently handled first (see touchEntry). */
export function ledgerToJson(entries: ReadonlyMap<string, RequestEntry>): Record<string, RequestEntryJson> {
  // No prototype: an id `__proto__` must become a key of the file, not the object's prototype.
  const out: Record<string, RequestEntryJson> = Object.create(null);
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

/**
 * The entry for `id` as it is handled now: created on first sight, stamped as seen, and moved to the end
 * of the Map, so the ledger's order (kept through ledgerToJson and loadLedger) is least recently handled
 * first. (JSON puts ids that look like array indexes, all digits, first; bd ids never do.)
 */
export function touchEntry(entries: Map<string, RequestEntry>, id: string, nowMs: number): RequestEntry {
  const e = entries.get(id) ?? { attempts: 0, firstSeenMs: nowMs, lastSeenMs: nowMs, lastError: null, done: false };
  entries.delete(id);
  entries.set(id, e);
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
 * Prune by count, so that `want` new entries fit under LEDGER_CAP; returns the room there is then (it can
 * be less than `want`, or 0). Only entries whose message has left the inbox give way: done ones first,
 * then ones left unfinished (someone else closed the message), each oldest (last seen) first. An entry
 * whose message is still in the inbox never does: not done, its request is in progress (dropping it
 * would reset its attempts); done, its close is still owed (dropping it would let the request run again).
 */
export function makeRoom(entries: Map<string, RequestEntry>, inInbox: ReadonlySet<string>, want: number, cap = LEDGER_CAP): number {
  const excess = entries.size + want - cap;
  if (excess > 0) {
    const gone = [...entries].filter(([id]) => !inInbox.has(id));
    gone.sort(([, a], [, b]) => Number(b.done) - Number(a.done) || a.lastSeenMs - b.lastSeenMs);
    for (const [id] of gone.slice(0, excess)) entries.delete(id);
  }
  return Math.max(0, cap - entries.size);
}

export interface Pick {
  /** The ids to handle this pass. */
  ids: Set<string>;
  /** How many are left for a later pass. */
  waiting: number;
  /** Some new requests wait because the ledger has no room for them (rather than for the limit). */
  ledgerFull: boolean;
}

/**
 * Which of this pass's requests (`ids`, one per message, in inbox order) to handle: at most `limit`, least
 * recently handled first. New ones (no entry yet: never handled) come first, in inbox order, as far as
 * there is `room` in the ledger; then those with an entry, in ledger order (least recently handled
 * first). Every request so gets its turn under a flood, instead of the same first few each pass.
 */
export function pickRequests(ids: readonly string[], entries: ReadonlyMap<string, RequestEntry>, limit: number, room: number): Pick {
  const fresh = ids.filter((id) => !entries.has(id));
  const known = new Set(ids.filter((id) => entries.has(id)));
  const take = fresh.slice(0, Math.min(limit, room));
  for (const id of entries.keys()) {
    if (take.length >= limit) break;
    if (known.has(id)) take.push(id);
  }
  return { ids: new Set(take), waiting: ids.length - take.length, ledgerFull: room < Math.min(fresh.length, limit) };
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
