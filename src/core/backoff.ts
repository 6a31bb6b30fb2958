/**
 * Per-agent poke backoff, pure: the clock comes in as `nowMs`, every operation returns a new object.
 *
 * Semantics follow the original's backoff.go (§5.3) with one cadence fix (§12 defect 18): a poke is
 * due when its interval has elapsed, measured from BEFORE the keys are sent. Callers therefore read
 * the clock before sending and pass that reading to `recordPoke`; stamping after the send (as the
 * original did) makes the next check fall a few ms short and skips a whole tick after every poke.
 */
import * as v from "valibot";
import type { BackoffConfig } from "../config/index.ts";
import { formatGoTime } from "../gotime.ts";
import { GoTime } from "./schema.ts";

export interface BackoffState {
  /** Current poke interval. Kept exact to whole nanoseconds (1e-6 ms), as Go's integer Duration. */
  intervalMs: number;
  /** When the last poke was decided (clock read before sending); null = never poked. */
  lastPokeMs: number | null;
  /** Consecutive pokes that found the agent very stale. */
  misses: number;
  lastActivityMs: number | null;
}

export function initialBackoff(cfg: BackoffConfig): BackoffState {
  return { intervalMs: cfg.baseMs, lastPokeMs: null, misses: 0, lastActivityMs: null };
}

/**
 * True if never poked, or the interval has elapsed since the last poke (`>=`, so a poke stamped at
 * the start of a tick is due again exactly one interval later).
 * A last poke more than one interval in the future means the clock stepped back; that stamp cannot
 * be trusted, so the poke is due rather than silenced until the clock catches up.
 */
export function shouldPoke(state: BackoffState, nowMs: number): boolean {
  if (state.lastPokeMs === null) return true;
  const elapsed = nowMs - state.lastPokeMs;
  return elapsed >= state.intervalMs || elapsed < -state.intervalMs;
}

/** When the next poke is due (epoch ms), or null if one is due whenever asked (never poked). */
export function pokeDueAtMs(state: BackoffState): number | null {
  return state.lastPokeMs === null ? null : state.lastPokeMs + state.intervalMs;
}

/** `nowMs` must be the clock reading taken BEFORE the poke's keys were sent (see the file comment). */
export function recordPoke(state: BackoffState, nowMs: number): BackoffState {
  return { ...state, lastPokeMs: nowMs };
}

/** A poke found the agent very stale: grow the interval by the strategy, then cap at max. */
export function recordMiss(state: BackoffState, cfg: BackoffConfig): BackoffState {
  // Work in whole nanoseconds so the sequence matches Go's Duration(float64(d) * factor) exactly.
  const ns = Math.round(state.intervalMs * 1e6);
  let next: number;
  switch (cfg.strategy) {
    case "geometric":
      next = Math.trunc(ns * cfg.factor);
      break;
    case "exponential":
      next = ns * 2; // the original ignores the factor here
      break;
    case "fixed":
      next = ns;
      break;
  }
  const maxNs = Math.round(cfg.maxMs * 1e6);
  if (!Number.isFinite(next) || next > maxNs) next = maxNs;
  return { ...state, intervalMs: next / 1e6, misses: state.misses + 1 };
}

/**
 * The agent showed life: interval back to base, misses cleared. `cfg` is needed for the base,
 * which the state does not carry (the config can change on reload). lastPoke is kept, as in Go.
 */
export function recordActivity(state: BackoffState, nowMs: number, cfg: BackoffConfig): BackoffState {
  return { ...state, intervalMs: cfg.baseMs, misses: 0, lastActivityMs: nowMs };
}

// ---- persistence: state.json key `backoff`, agent id → entry (a Map in memory: ids are outside data) ----

const goTimeOrNull = v.nullable(GoTime);

/** One persisted entry. looseObject: a later version may add fields; we keep reading. */
export const BackoffEntrySchema = v.looseObject({
  interval_ms: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  last_poke: v.optional(goTimeOrNull, null),
  misses: v.pipe(v.number(), v.integer(), v.minValue(0)),
  last_activity: v.optional(goTimeOrNull, null),
});

/** An entry as the file holds it: the schema's input. */
export type BackoffEntryJson = v.InferInput<typeof BackoffEntrySchema>;

export function toJson(states: ReadonlyMap<string, BackoffState>): Record<string, BackoffEntryJson> {
  // No prototype: agent ids come from directory names, and on a plain object an id `__proto__` would set
  // the prototype instead of becoming a key of the file.
  const out: Record<string, BackoffEntryJson> = Object.create(null);
  for (const id of [...states.keys()].sort()) {
    const s = states.get(id)!;
    out[id] = {
      // Trim float noise from ns arithmetic so the file shows 337.5, not 337.50000000000006.
      interval_ms: Math.round(s.intervalMs * 1e6) / 1e6,
      last_poke: s.lastPokeMs === null ? null : formatGoTime(s.lastPokeMs),
      misses: s.misses,
      last_activity: s.lastActivityMs === null ? null : formatGoTime(s.lastActivityMs),
    };
  }
  return out;
}

export interface BackoffLoad {
  states: Map<string, BackoffState>;
  /** One line per entry dropped (or for the whole value when it is not an object), for the log. */
  invalid: string[];
}

/**
 * Read the `backoff` value of state.json. Missing (undefined/null) → empty. Invalid entries are
 * dropped and reported: losing one agent's backoff only means it starts again from base.
 * With `cfg`, intervals are clamped into [base, max] so a config change since the save applies.
 */
export function fromJson(raw: unknown, cfg?: BackoffConfig): BackoffLoad {
  const states = new Map<string, BackoffState>();
  const invalid: string[] = [];
  if (raw === undefined || raw === null) return { states, invalid };
  if (typeof raw !== "object" || Array.isArray(raw)) {
    invalid.push(`backoff: expected an object of agent id → state, got ${Array.isArray(raw) ? "array" : typeof raw}`);
    return { states, invalid };
  }
  for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
    if (id === "") {
      invalid.push("backoff: empty agent id");
      continue;
    }
    const parsed = v.safeParse(BackoffEntrySchema, value);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = issue ? v.getDotPath(issue) : null;
      invalid.push(`backoff.${id}${path ? `.${path}` : ""}: ${issue?.message ?? "invalid"}`);
      continue;
    }
    const e = parsed.output;
    let intervalMs = e.interval_ms;
    if (cfg) intervalMs = Math.min(Math.max(intervalMs, cfg.baseMs), Math.max(cfg.maxMs, cfg.baseMs));
    states.set(id, { intervalMs, lastPokeMs: e.last_poke, misses: e.misses, lastActivityMs: e.last_activity });
  }
  return { states, invalid };
}

/** Intervals clamped into [base, max], so a config change since the save applies (a reload, a restart). */
export function clampToConfig(states: ReadonlyMap<string, BackoffState>, cfg: BackoffConfig): Map<string, BackoffState> {
  const out = new Map<string, BackoffState>();
  const max = Math.max(cfg.maxMs, cfg.baseMs);
  for (const [id, s] of states) out.set(id, { ...s, intervalMs: Math.min(Math.max(s.intervalMs, cfg.baseMs), max) });
  return out;
}
