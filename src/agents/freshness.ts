/**
 * Reading an agent's heartbeat file (a JSON file with a `timestamp` field: the Deacon's
 * `<town>/deacon/heartbeat.json` and the keepalive files); src/core/freshness.ts judges what it says.
 */
import * as v from "valibot";
import { classifyAge, judgeFreshness, type FreshnessResult, type FreshnessThresholds, type HeartbeatStamp } from "../core/freshness.ts";
import { parseGoTime } from "../gotime.ts";
import { readJson } from "../store.ts";

export { classifyAge, judgeFreshness, type Freshness, type FreshnessResult, type FreshnessThresholds, type HeartbeatStamp } from "../core/freshness.ts";

// looseObject: the writers add cycle, last_action, last_command, ... which we do not need.
// The timestamp is checked by hand so each failure gets its own reason.
const TimestampFileSchema = v.looseObject({ timestamp: v.optional(v.unknown()) });

/** Never throws: every failure is a stamp saying what was wrong. */
export function readStamp(path: string): HeartbeatStamp {
  const r = readJson(path, TimestampFileSchema);
  if (r.kind === "missing") return { kind: "missing" };
  if (r.kind === "corrupt") return { kind: "corrupt", reason: r.reason };
  const ts = r.value.timestamp;
  if (ts === undefined || ts === null) return { kind: "none" };
  const ms = parseGoTime(ts);
  if (ms === undefined) return { kind: "invalid", value: ts };
  if (ms === null) return { kind: "zero" };
  return { kind: "at", ms };
}

export function readFreshness(path: string, nowMs: number, t: FreshnessThresholds): FreshnessResult {
  return judgeFreshness(path, readStamp(path), nowMs, t);
}
