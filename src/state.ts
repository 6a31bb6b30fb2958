/**
 * daemon/state.json, byte-compatible with the original: its five keys first, in its order, 2-space
 * indent, no trailing newline, Go RFC3339Nano times. gtd's own keys follow them.
 *
 * The file is shared and hand-editable, so its keys are outside data: `extra` and the object written
 * have no prototype (on a plain object `out["__proto__"] = …` sets the prototype and the key is lost),
 * and extra keys are taken from the decoded file itself, since valibot's looseObject leaves out
 * `__proto__`, `constructor` and `prototype`.
 */
import * as v from "valibot";
import { formatGoTime, GO_ZERO_TIME, parseGoTime } from "./gotime.ts";
import { quarantine, readJson, writeFileAtomic } from "./store.ts";
import { GoTimeText } from "./core/schema.ts";
import { decodeTyped, emptyState, encodeTyped, keyedByOutside, TYPED_KEYS, type DaemonState } from "./core/state.ts";

export { emptyState, keyedByOutside, type DaemonState };

const ORIGINAL_KEYS = ["running", "pid", "started_at", "last_heartbeat", "heartbeat_count"] as const;
const isOriginalKey = (k: string) => (ORIGINAL_KEYS as readonly string[]).includes(k);

const goTime = GoTimeText;

const OriginalFields = v.object({
  running: v.optional(v.boolean(), false),
  pid: v.optional(v.pipe(v.number(), v.integer()), 0),
  started_at: v.optional(goTime, GO_ZERO_TIME),
  last_heartbeat: v.optional(goTime, GO_ZERO_TIME),
  heartbeat_count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
});

/** Every key but the original five, as decoded (JSON.parse makes `__proto__` an own key), in file order. */
function extraKeys(file: Record<string, unknown>): Record<string, unknown> {
  const extra = keyedByOutside<unknown>();
  for (const [k, val] of Object.entries(file)) if (!isOriginalKey(k)) extra[k] = val;
  return extra;
}

// Other tools (and later gtd versions) may add keys; they are kept, as `extra`. valibot's object schemas
// accept arrays, and every field here is optional, so an array is refused first: `[1,2]` is corrupt, not
// an empty state with extra keys "0" and "1".
export const StateFileSchema = v.pipe(
  v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), "expected a JSON object"),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const known = v.safeParse(OriginalFields, dataset.value);
    if (!known.success) {
      for (const issue of known.issues) addIssue({ message: issue.message, ...(issue.path ? { path: issue.path } : {}) });
      return NEVER;
    }
    return { ...known.output, extra: extraKeys(dataset.value) };
  }),
);

/** Every non-original key in the order it is written: the file's, then keys that appeared since. */
function orderedKeys(s: DaemonState): string[] {
  const keys = s.keyOrder.filter((k) => !isOriginalKey(k));
  const seen = new Set(keys);
  const add = (k: string) => {
    if (!seen.has(k) && !isOriginalKey(k)) {
      seen.add(k);
      keys.push(k);
    }
  };
  for (const k of Object.keys(s.extra)) add(k);
  for (const k of TYPED_KEYS) if (encodeTyped(s, k) !== undefined) add(k);
  return keys;
}

export function serializeState(s: DaemonState): string {
  const entries: Array<[string, unknown]> = [
    ["running", s.running],
    ["pid", s.pid],
    ["started_at", formatGoTime(s.startedAtMs)],
    ["last_heartbeat", formatGoTime(s.lastHeartbeatMs)],
    ["heartbeat_count", s.heartbeatCount],
  ];
  for (const k of orderedKeys(s)) entries.push([k, TYPED_KEYS.includes(k) ? encodeTyped(s, k) : Object.hasOwn(s.extra, k) ? s.extra[k] : undefined]);
  // Written entry by entry, not as one object: a JS object puts index-like keys ("0") before every other
  // key, and the original's five must come first. The text is JSON.stringify's 2-space form otherwise.
  const body: string[] = [];
  for (const [k, val] of entries) {
    const text = JSON.stringify(val, null, 2) as string | undefined;
    if (text !== undefined) body.push(`  ${JSON.stringify(k)}: ${text.replace(/\n/g, "\n  ")}`);
  }
  return `{\n${body.join(",\n")}\n}`;
}

/** Write state.json; a key that appeared since the last save keeps the place it gets now. */
export function writeState(path: string, s: DaemonState): void {
  s.keyOrder = orderedKeys(s);
  writeFileAtomic(path, serializeState(s));
}

/** `notes`: one warning line per saved entry dropped as corrupt (backoff, ledger), for the log. */
export type StateRead = { state: DaemonState; problem: string | null; movedTo: string | null; notes: string[] };

/**
 * Read state.json. Missing → empty state. Corrupt → the file is moved aside as
 * `state.json.corrupt-<stamp>` (unless `keepCorrupt`), an empty state is returned, and the reason is given.
 */
export function readState(path: string, nowMs: number, opts: { keepCorrupt?: boolean } = {}): StateRead {
  const res = readJson(path, StateFileSchema);
  if (res.kind === "missing") return { state: emptyState(), problem: null, movedTo: null, notes: [] };
  if (res.kind === "corrupt") {
    const movedTo = opts.keepCorrupt ? null : quarantine(path, nowMs);
    return { state: emptyState(), problem: res.reason, movedTo, notes: [] };
  }
  const f = res.value;
  const typed = decodeTyped(f.extra);
  return {
    state: {
      running: f.running,
      pid: f.pid,
      startedAtMs: parseGoTime(f.started_at) ?? null,
      lastHeartbeatMs: parseGoTime(f.last_heartbeat) ?? null,
      heartbeatCount: f.heartbeat_count,
      backoff: typed.backoff,
      requests: typed.requests,
      supervise: typed.supervise,
      extra: typed.rest,
      keyOrder: Object.keys(f.extra),
    },
    problem: null,
    movedTo: null,
    notes: typed.notes,
  };
}
