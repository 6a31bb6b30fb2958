/**
 * daemon/state.json, byte-compatible with the original: its five keys first, in its order, 2-space
 * indent, no trailing newline, Go RFC3339Nano times. gtd's own keys follow them.
 */
import * as v from "valibot";
import { formatGoTime, GO_ZERO_TIME, parseGoTime } from "./gotime.ts";
import { quarantine, readJson, writeFileAtomic } from "./store.ts";

export interface DaemonState {
  running: boolean;
  pid: number;
  startedAtMs: number | null;
  lastHeartbeatMs: number | null;
  heartbeatCount: number;
  /** gtd's additions, kept verbatim between reads and writes (backoff, requests, ...). */
  extra: Record<string, unknown>;
}

const ORIGINAL_KEYS = ["running", "pid", "started_at", "last_heartbeat", "heartbeat_count"] as const;

const goTime = v.pipe(
  v.string(),
  v.check((s) => parseGoTime(s) !== undefined, "expected an RFC3339 time"),
);

// looseObject: other tools (and later gtd versions) may add keys; they are kept. valibot's object
// schemas accept arrays, and every field here is optional, so an array is refused first: `[1,2]` is
// corrupt, not an empty state with extra keys "0" and "1".
export const StateFileSchema = v.pipe(
  v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), "expected a JSON object"),
  v.looseObject({
    running: v.optional(v.boolean(), false),
    pid: v.optional(v.pipe(v.number(), v.integer()), 0),
    started_at: v.optional(goTime, GO_ZERO_TIME),
    last_heartbeat: v.optional(goTime, GO_ZERO_TIME),
    heartbeat_count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  }),
);

export function emptyState(): DaemonState {
  return { running: false, pid: 0, startedAtMs: null, lastHeartbeatMs: null, heartbeatCount: 0, extra: {} };
}

export function serializeState(s: DaemonState): string {
  const out: Record<string, unknown> = {
    running: s.running,
    pid: s.pid,
    started_at: formatGoTime(s.startedAtMs),
    last_heartbeat: formatGoTime(s.lastHeartbeatMs),
    heartbeat_count: s.heartbeatCount,
  };
  for (const [k, val] of Object.entries(s.extra)) if (!(ORIGINAL_KEYS as readonly string[]).includes(k)) out[k] = val;
  return JSON.stringify(out, null, 2);
}

export function writeState(path: string, s: DaemonState): void {
  writeFileAtomic(path, serializeState(s));
}

export type StateRead = { state: DaemonState; problem: string | null; movedTo: string | null };

/**
 * Read state.json. Missing → empty state. Corrupt → the file is moved aside as
 * `state.json.corrupt-<stamp>` (unless `keepCorrupt`), an empty state is returned, and the reason is given.
 */
export function readState(path: string, nowMs: number, opts: { keepCorrupt?: boolean } = {}): StateRead {
  const res = readJson(path, StateFileSchema);
  if (res.kind === "missing") return { state: emptyState(), problem: null, movedTo: null };
  if (res.kind === "corrupt") {
    const movedTo = opts.keepCorrupt ? null : quarantine(path, nowMs);
    return { state: emptyState(), problem: res.reason, movedTo };
  }
  const f = res.value;
  const extra: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(f)) if (!(ORIGINAL_KEYS as readonly string[]).includes(k)) extra[k] = val;
  return {
    state: {
      running: f.running,
      pid: f.pid,
      startedAtMs: parseGoTime(f.started_at) ?? null,
      lastHeartbeatMs: parseGoTime(f.last_heartbeat) ?? null,
      heartbeatCount: f.heartbeat_count,
      extra,
    },
    problem: null,
    movedTo: null,
  };
}
