/**
 * What the daemon remembers between passes (daemon/state.json), typed: decoded once when the daemon
 * loads the file and encoded once when it saves (src/state.ts does the file part). The original's five
 * fields, gtd's poke backoff and request ledger as Maps (their keys are outside data: agent ids, message
 * ids), and every other key kept verbatim in `extra` (null prototype) so other writers' keys survive.
 */
import { fromJson as backoffFromJson, toJson as backoffToJson, type BackoffState } from "./backoff.ts";
import { LEDGER_KEY, ledgerToJson, loadLedger, type RequestEntry } from "./ledger.ts";
import { recordsFromJson, recordsToJson, SUPERVISE_KEY, type AgentRecord } from "./supervise-state.ts";

export const BACKOFF_KEY = "backoff";
export { LEDGER_KEY };

export interface DaemonState {
  running: boolean;
  pid: number;
  startedAtMs: number | null;
  lastHeartbeatMs: number | null;
  heartbeatCount: number;
  /** Poke backoff per agent id; undefined until a heartbeat has looked at the agents (no `backoff` key yet). */
  backoff: Map<string, BackoffState> | undefined;
  /** The lifecycle request ledger by message id; written only when it has entries. */
  requests: Map<string, RequestEntry>;
  /** Supervision per agent identity; written only when it has entries. */
  supervise: Map<string, AgentRecord>;
  /** Every other key of the file, verbatim. No prototype: `__proto__` is a plain key here. */
  extra: Record<string, unknown>;
  /**
   * The file's order of its non-original keys (typed ones included), so a rewrite keeps the bytes of
   * what it did not change; keys that appear later are placed when first saved (src/state.ts).
   */
  keyOrder: string[];
}

/** An object for keys from outside: `__proto__`, `constructor`, `toString` are plain keys in it. */
export function keyedByOutside<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function emptyState(): DaemonState {
  return {
    running: false,
    pid: 0,
    startedAtMs: null,
    lastHeartbeatMs: null,
    heartbeatCount: 0,
    backoff: undefined,
    requests: new Map(),
    supervise: new Map(),
    extra: keyedByOutside(),
    keyOrder: [],
  };
}

/** The typed keys out of the file's extra keys; `notes` says what was dropped (one line each, for the log). */
export function decodeTyped(extra: Record<string, unknown>): {
  backoff: DaemonState["backoff"];
  requests: DaemonState["requests"];
  supervise: DaemonState["supervise"];
  rest: Record<string, unknown>;
  notes: string[];
} {
  const rest = keyedByOutside<unknown>();
  for (const [k, val] of Object.entries(extra)) if (!TYPED_KEYS.includes(k)) rest[k] = val;
  const notes: string[] = [];
  let backoff: DaemonState["backoff"];
  if (Object.hasOwn(extra, BACKOFF_KEY)) {
    const b = backoffFromJson(extra[BACKOFF_KEY]);
    backoff = b.states;
    for (const line of b.invalid) notes.push(`Warning: ignoring saved backoff state (${line}); that agent starts again from base`);
  }
  const l = loadLedger(extra[LEDGER_KEY]);
  for (const line of l.dropped) notes.push(`Warning: dropping corrupt lifecycle request record ${line}`);
  const sup = recordsFromJson(extra[SUPERVISE_KEY]);
  for (const line of sup.invalid) notes.push(`Warning: ignoring saved supervision state (${line}); that agent starts again with a clean record`);
  return { backoff, requests: l.entries, supervise: sup.records, rest, notes };
}

/** The value written under a typed key, or undefined when the key is not written. */
export function encodeTyped(s: DaemonState, key: string): unknown {
  if (key === BACKOFF_KEY) return s.backoff === undefined ? undefined : backoffToJson(s.backoff);
  if (key === LEDGER_KEY) return s.requests.size === 0 ? undefined : ledgerToJson(s.requests);
  if (key === SUPERVISE_KEY) return s.supervise.size === 0 ? undefined : recordsToJson(s.supervise);
  return undefined;
}

export const TYPED_KEYS: readonly string[] = [BACKOFF_KEY, LEDGER_KEY, SUPERVISE_KEY];

/** A copy a pass may change freely: the Maps and their entries are its own (extra is shared, read-only to the core). */
export function draftState(s: DaemonState): DaemonState {
  const requests = new Map<string, RequestEntry>();
  for (const [id, e] of s.requests) requests.set(id, { ...e });
  const supervise = new Map<string, AgentRecord>();
  for (const [id, r] of s.supervise) supervise.set(id, { ...r, starts: [...r.starts] });
  return { ...s, backoff: s.backoff === undefined ? undefined : new Map(s.backoff), requests, supervise, keyOrder: [...s.keyOrder] };
}
