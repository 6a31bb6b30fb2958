/**
 * What gtd remembers about each supervised agent (state.json key `supervise`, by identity), so a daemon
 * restart forgets nothing: the agent process it last saw, its recent starts (the crash-loop window), the
 * restart delay, a hold, and how its pokes went.
 */
import * as v from "valibot";
import { formatGoTime } from "../gotime.ts";
import { GoTime } from "./schema.ts";

export const SUPERVISE_KEY = "supervise";

const time = v.nullable(GoTime);
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** One agent as the file holds it. looseObject: a later version may add fields; we keep reading. */
export const AgentRecordSchema = v.looseObject({
  pid: v.optional(v.nullable(count), null),
  started_at: v.optional(time, null),
  starts: v.optional(v.array(GoTime), []),
  delay_ms: v.optional(count, 0),
  held_until: v.optional(time, null),
  held_why: v.optional(v.nullable(v.string()), null),
  last_exit: v.optional(v.nullable(v.pipe(v.number(), v.integer())), null),
  runs_seen: v.optional(count, 0),
  liveness: v.optional(v.string(), "missing"),
  liveness_since: v.optional(time, null),
  last_poke: v.optional(time, null),
  poke_answered: v.optional(v.nullable(v.boolean()), null),
  unanswered: v.optional(count, 0),
  first_unanswered: v.optional(time, null),
  stranded: v.optional(v.boolean(), false),
  deferred_why: v.optional(v.nullable(v.string()), null),
});

export interface AgentRecord {
  /** The agent process last seen under the pane, and when it started (a new start time = a new run). */
  pid: number | null;
  startedAtMs: number | null;
  /** Start times within the crash-loop window, oldest first. */
  starts: number[];
  /** The restart delay now in force (0: none). */
  delayMs: number;
  heldUntilMs: number | null;
  heldWhy: string | null;
  lastExit: number | null;
  /** The in-pane loop's run count when last read: each one more is an exit and a restart. */
  runsSeen: number;
  liveness: string;
  livenessSinceMs: number | null;
  lastPokeMs: number | null;
  /** Whether the last delivered poke was answered; null until it can be judged. */
  pokeAnswered: boolean | null;
  /** Delivered pokes in a row that went unanswered, and when the first of them went out. */
  unanswered: number;
  firstUnansweredMs: number | null;
  /** The last poke was typed but never submitted. */
  stranded: boolean;
  /** Why a poke is waiting (a person at the keyboard, copy mode), or null. */
  deferredWhy: string | null;
}

export function emptyRecord(): AgentRecord {
  return {
    pid: null,
    startedAtMs: null,
    starts: [],
    delayMs: 0,
    heldUntilMs: null,
    heldWhy: null,
    lastExit: null,
    runsSeen: 0,
    liveness: "missing",
    livenessSinceMs: null,
    lastPokeMs: null,
    pokeAnswered: null,
    unanswered: 0,
    firstUnansweredMs: null,
    stranded: false,
    deferredWhy: null,
  };
}

export function recordsFromJson(raw: unknown): { records: Map<string, AgentRecord>; invalid: string[] } {
  const records = new Map<string, AgentRecord>();
  const invalid: string[] = [];
  if (raw === undefined || raw === null) return { records, invalid };
  if (typeof raw !== "object" || Array.isArray(raw)) return { records, invalid: [`${SUPERVISE_KEY}: expected an object keyed by agent`] };
  for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
    const parsed = v.safeParse(AgentRecordSchema, value);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = issue ? v.getDotPath(issue) : null;
      invalid.push(`${SUPERVISE_KEY}.${id}${path ? `.${path}` : ""}: ${issue?.message ?? "invalid"}`);
      continue;
    }
    const e = parsed.output;
    records.set(id, {
      pid: e.pid,
      startedAtMs: e.started_at,
      starts: e.starts.filter((t): t is number => t !== null),
      delayMs: e.delay_ms,
      heldUntilMs: e.held_until,
      heldWhy: e.held_why,
      lastExit: e.last_exit,
      runsSeen: e.runs_seen,
      liveness: e.liveness,
      livenessSinceMs: e.liveness_since,
      lastPokeMs: e.last_poke,
      pokeAnswered: e.poke_answered,
      unanswered: e.unanswered,
      firstUnansweredMs: e.first_unanswered,
      stranded: e.stranded,
      deferredWhy: e.deferred_why,
    });
  }
  return { records, invalid };
}

const t = (ms: number | null) => (ms === null ? null : formatGoTime(ms));

export function recordsToJson(records: ReadonlyMap<string, AgentRecord>): Record<string, v.InferInput<typeof AgentRecordSchema>> {
  const out: Record<string, v.InferInput<typeof AgentRecordSchema>> = Object.create(null);
  for (const id of [...records.keys()].sort()) {
    const r = records.get(id)!;
    out[id] = {
      pid: r.pid,
      started_at: t(r.startedAtMs),
      starts: r.starts.map((s) => formatGoTime(s)),
      delay_ms: r.delayMs,
      held_until: t(r.heldUntilMs),
      held_why: r.heldWhy,
      last_exit: r.lastExit,
      runs_seen: r.runsSeen,
      liveness: r.liveness,
      liveness_since: t(r.livenessSinceMs),
      last_poke: t(r.lastPokeMs),
      poke_answered: r.pokeAnswered,
      unanswered: r.unanswered,
      first_unanswered: t(r.firstUnansweredMs),
      stranded: r.stranded,
      deferred_why: r.deferredWhy,
    };
  }
  return out;
}
