/**
 * How recently an agent showed life, judged (pure; src/agents/freshness.ts reads the file), from a JSON file with a `timestamp` field: the Deacon's
 * `<town>/deacon/heartbeat.json` and the keepalive files (`<town>/.gastown/keepalive.json`,
 * `<town>/<rig>/.gastown/keepalive.json`) share this shape.
 *
 * As in the original, anything we cannot read as a time counts as very stale (the agent gets poked).
 * Unlike it (§12 defect 19), a timestamp more than `futureSkewMs` in the future is very stale too:
 * otherwise one bad clock would silence every poke forever. A smaller future skew counts as fresh.
 */
import { formatGoDuration } from "../duration.ts";
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

/** What an agent's heartbeat file said, as read. */
export type HeartbeatStamp =
  | { kind: "missing" }
  | { kind: "corrupt"; reason: string }
  | { kind: "none" }
  | { kind: "invalid"; value: unknown }
  | { kind: "zero" }
  | { kind: "at"; ms: number };

export function classifyAge(ageMs: number, t: FreshnessThresholds): Freshness {
  if (ageMs < -t.futureSkewMs) return "very-stale";
  if (ageMs < t.freshMs) return "fresh";
  if (ageMs < t.veryStaleMs) return "stale";
  return "very-stale";
}

function veryStale(reason: string): FreshnessResult {
  return { freshness: "very-stale", ageMs: null, reason };
}

/** Anything that is not a usable time counts as very stale (the agent gets poked), with the reason. */
export function judgeFreshness(path: string, stamp: HeartbeatStamp, nowMs: number, t: FreshnessThresholds): FreshnessResult {
  switch (stamp.kind) {
    case "missing":
      return veryStale(`${path} does not exist`);
    case "corrupt":
      return { ...veryStale(`${path} is invalid: ${stamp.reason}`), problem: stamp.reason };
    case "none":
      return veryStale(`${path} has no timestamp`);
    case "invalid":
      return veryStale(`${path}: timestamp ${quote(stamp.value)} is not an RFC3339 time`);
    case "zero":
      return veryStale(`${path}: timestamp is the zero time`);
  }
  const ageMs = nowMs - stamp.ms;
  const freshness = classifyAge(ageMs, t);
  const reason =
    ageMs < 0
      ? `timestamp ${formatGoDuration(-ageMs)} in the future${freshness === "very-stale" ? ` (more than ${formatGoDuration(t.futureSkewMs)} of clock skew)` : ""}`
      : `last seen ${formatGoDuration(ageMs)} ago`;
  return { freshness, ageMs, reason };
}
