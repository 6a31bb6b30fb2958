/**
 * The agent's side of the lifecycle handshake: before acting on a request the daemon checks that the
 * agent itself set `requesting_<action>: true` in its state file (so forged or stale mail alone cannot
 * kill a session), and after acting it clears the flag (defect #2: the original never did, so any later
 * or duplicate mail was honoured at once).
 *
 * Reasons are the original's wording (reference §7.4); callers prefix `state verification failed: `.
 * The state file belongs to the agent: we read it as any JSON object, keep every key we do not own in
 * its order, and write it atomically. (An agent writing at the same moment can still lose a race with
 * our read-modify-write; there is no lock both sides honour.)
 */
import * as v from "valibot";
import { GtdError } from "../errors.ts";
import type { AgentSpec } from "../core/identity.ts";
import { describeIssues, outsideTown, readText, writeFileAtomic } from "../store.ts";
import type { LifecycleAction } from "../core/parse.ts";
import type { VerifyResult } from "../core/ports.ts";
import { flagKey } from "../core/lifecycle-action.ts";

export { flagKey };

/** Any JSON object; arrays and scalars are not agent state (looseObject alone would take an array). */
const AgentState = v.pipe(
  v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), "expected a JSON object"),
  v.looseObject({}),
);
type AgentStateValue = Record<string, unknown>;

export type { VerifyResult };

type Loaded = { kind: "missing" } | { kind: "ok"; value: AgentStateValue; text: string } | { kind: "error"; reason: string };

function load(stateFile: string): Loaded {
  let text: string | null;
  try {
    text = readText(stateFile);
  } catch (err) {
    return { kind: "error", reason: `reading agent state: ${(err as Error).message}` };
  }
  if (text === null) return { kind: "missing" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: "error", reason: `parsing agent state: ${(err as Error).message}` };
  }
  const parsed = v.safeParse(AgentState, raw);
  if (!parsed.success) return { kind: "error", reason: `parsing agent state: ${describeIssues(parsed.issues)}` };
  // The decoded object itself, not the schema's copy: every key the agent wrote is kept as it was.
  return { kind: "ok", value: raw as AgentStateValue, text };
}

/**
 * Why an agent's directory or state file cannot be trusted, or null: either resolving outside the town
 * (a rig directory or state file replaced by a symlink) would make gtd honour a flag written elsewhere,
 * start the agent there, and rewrite a file that is not the town's.
 */
export function agentOutsideTown(spec: AgentSpec, townRoot: string): string | null {
  return outsideTown(townRoot, spec.workDir) ?? outsideTown(townRoot, spec.stateFile);
}


export function verifyRequestFlag(stateFile: string, action: LifecycleAction): VerifyResult {
  const key = flagKey(action);
  const state = load(stateFile);
  if (state.kind === "missing") {
    return {
      ok: false,
      reason: `agent state file not found: ${stateFile} (agent must set ${key}=true before lifecycle request)`,
    };
  }
  if (state.kind === "error") return { ok: false, reason: state.reason };
  if (!Object.hasOwn(state.value, key)) {
    return { ok: false, reason: `agent state missing ${key} field (agent must set this before lifecycle request)` };
  }
  const value = state.value[key];
  if (value !== true) return { ok: false, reason: `agent state ${key} is not true (got: ${goValue(value)})` };
  return { ok: true };
}

/**
 * After a successful action: remove `requesting_<action>` (rather than set it false) so the file goes
 * back to what the agent had before it asked; `requesting_time` is left, as a record of the last
 * request. Returns whether the file changed. A missing file is nothing to clear; an unreadable or
 * corrupt one is a STORE error (it is not ours to replace).
 */
export function clearRequestFlag(stateFile: string, action: LifecycleAction): boolean {
  const state = load(stateFile);
  if (state.kind === "missing") return false;
  if (state.kind === "error") throw new GtdError("STORE", `cannot clear ${flagKey(action)} in ${stateFile}: ${state.reason}`);
  if (!Object.hasOwn(state.value, flagKey(action))) return false;
  const { [flagKey(action)]: _dropped, ...kept } = state.value;
  write(stateFile, kept, state.text);
  return true;
}

/**
 * The requesting side (`gtd request`): merge `requesting_<action>: true` and `requesting_time` into the
 * agent's state, creating the file (and its directory) when missing. `requesting_time` is RFC3339 in UTC
 * with whole seconds (`2025-12-20T18:23:00Z`), which is what Go's time.Now().Format(time.RFC3339) prints
 * with TZ=UTC; Go readers parse either zone form. A corrupt existing file is refused, never overwritten.
 */
export function setRequestFlag(stateFile: string, action: LifecycleAction, nowMs: number): void {
  const state = load(stateFile);
  if (state.kind === "error") {
    throw new GtdError("STORE", `agent state file ${stateFile} is unusable: ${state.reason}`, "fix or remove it, then retry");
  }
  const current = state.kind === "ok" ? state.value : {};
  const next = { ...current, [flagKey(action)]: true, requesting_time: rfc3339Seconds(nowMs) };
  write(stateFile, next, state.kind === "ok" ? state.text : "");
}

export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** 2-space indent as Go's MarshalIndent; keep a trailing newline if the agent's file had one. */
function write(path: string, value: AgentStateValue, previousText: string): void {
  const body = JSON.stringify(value, null, 2);
  writeFileAtomic(path, previousText.endsWith("\n") ? `${body}\n` : body);
}

/** A decoded JSON value printed as Go's `%v` prints an interface{} (string bare, null `<nil>`). */
export function goValue(x: unknown): string {
  if (x === null || x === undefined) return "<nil>";
  if (typeof x === "string") return x;
  if (typeof x === "number") return goFloat(x);
  if (typeof x === "boolean") return String(x);
  if (Array.isArray(x)) return `[${x.map(goValue).join(" ")}]`;
  if (typeof x === "object") {
    const entries = Object.keys(x as object)
      .sort()
      .map((k) => `${k}:${goValue((x as Record<string, unknown>)[k])}`);
    return `map[${entries.join(" ")}]`;
  }
  return String(x);
}

/** Go's %v of a float64, strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form when exp < -4 or exp >= 6. */
function goFloat(n: number): string {
  if (Object.is(n, -0)) return "-0";
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return n.toString();
}
