/**
 * How recently an agent showed life, from a JSON file with a `timestamp` field: the Deacon's
 * `<town>/deacon/heartbeat.json` and the keepalive files (`<town>/.gastown/keepalive.json`,
 * `<town>/<rig>/.gastown/keepalive.json`) share this shape.
 *
 * As in the original, anything we cannot read as a time counts as very stale (the agent gets poked).
 * Unlike it (§12 defect 19), a timestamp more than `futureSkewMs` in the future is very stale too:
 * otherwise one bad clock would silence every poke forever. A smaller future skew counts as fresh.
 */
import * as v from "valibot";
import { formatGoDuration } from "../duration.ts";
import { parseGoTime } from "../gotime.ts";
import { readJson } from "../store.ts";
import { quote } from "../quote.ts";

export type Freshness = "fresh" | "stale" | "very-stale";

export interface FreshnessThresholds {
  /** age < freshMs → fresh */
  freshMs: number;
  /** age >= veryStaleMs → very stale; in between → stale */
  veryStaleMs: number;
  /** tolerated clock skew for a timestamp in the future */
  futureSkewMs: number;
}

export interface FreshnessResult {
  freshness: Freshness;
  /** now − timestamp (negative when in the future); null when there is no usable timestamp. */
  ageMs: number | null;
  /** Why, for log lines and `gtd tick --dry-run`. */
  reason: string;
  /** Set when the file exists but cannot be used (not a regular file, too large, bad JSON): worth a warning. */
  problem?: string;
}

// looseObject: the writers add cycle, last_action, last_command, ... which we do not need.
// The timestamp is checked by hand below so each failure gets its own reason.
const TimestampFileSchema = v.looseObject({ timestamp: v.optional(v.unknown()) });

export function classifyAge(ageMs: number, t: FreshnessThresholds): Freshness {
  if (ageMs < -t.futureSkewMs) return "very-stale";
  if (ageMs < t.freshMs) return "fresh";
  if (ageMs < t.veryStaleMs) return "stale";
  return "very-stale";
}

function veryStale(reason: string): FreshnessResult {
  return { freshness: "very-stale", ageMs: null, reason };
}

/** Never throws: every failure is a very-stale result with the reason. */
export function readFreshness(path: string, nowMs: number, t: FreshnessThresholds): FreshnessResult {
  const r = readJson(path, TimestampFileSchema);
  if (r.kind === "missing") return veryStale(`${path} does not exist`);
  if (r.kind === "corrupt") return { ...veryStale(`${path} is invalid: ${r.reason}`), problem: r.reason };
  const ts = r.value.timestamp;
  if (ts === undefined || ts === null) return veryStale(`${path} has no timestamp`);
  const ms = parseGoTime(ts);
  if (ms === undefined) return veryStale(`${path}: timestamp ${quote(ts)} is not an RFC3339 time`);
  if (ms === null) return veryStale(`${path}: timestamp is the zero time`);
  const ageMs = nowMs - ms;
  const freshness = classifyAge(ageMs, t);
  const reason =
    ageMs < 0
      ? `timestamp ${formatGoDuration(-ageMs)} in the future${freshness === "very-stale" ? ` (more than ${formatGoDuration(t.futureSkewMs)} of clock skew)` : ""}`
      : `last seen ${formatGoDuration(ageMs)} ago`;
  return { freshness, ageMs, reason };
}
