/**
 * The opt-in metrics file (`metrics.file`): Prometheus text format for node_exporter's textfile
 * collector, rewritten atomically after each heartbeat. Counters live as long as the daemon (a restart
 * resets them, which Prometheus's rate() understands); each pass adds what its decisions say happened.
 */
import type { Decision } from "./tick/context.ts";

/** One pass, as the daemon saw it. */
export interface PassReport {
  kind: "heartbeat" | "lifecycle";
  durationMs: number;
  decisions: readonly Decision[];
}

export interface Metrics {
  startedAtMs: number;
  heartbeats: number;
  passes: number;
  passSecondsSum: number;
  lastPassSeconds: number;
  lastHeartbeatMs: number | null;
  /** `agent\u0000result` → count. */
  pokes: Map<string, number>;
  /** `action\u0000outcome` → count. */
  requests: Map<string, number>;
}

export function newMetrics(startedAtMs: number): Metrics {
  return { startedAtMs, heartbeats: 0, passes: 0, passSecondsSum: 0, lastPassSeconds: 0, lastHeartbeatMs: null, pokes: new Map(), requests: new Map() };
}

/** pokeAgents decisions that say what happened to one agent's poke this heartbeat. */
const POKE_RESULTS = new Set(["poked", "fresh", "backoff", "pending", "skipped", "error", "would-poke"]);
/** processLifecycle decisions that end a request's handling for this pass, as its outcome. */
const REQUEST_OUTCOMES: Record<string, string> = { rejected: "rejected", expired: "expired", "gave-up": "gave_up", error: "failed" };

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

export function recordPass(m: Metrics, pass: PassReport, nowMs: number): void {
  m.passes += 1;
  m.lastPassSeconds = pass.durationMs / 1000;
  m.passSecondsSum += m.lastPassSeconds;
  if (pass.kind === "heartbeat") {
    m.heartbeats += 1;
    m.lastHeartbeatMs = nowMs;
  }
  const actionOf = new Map<string, string>();
  const outcomeOf = new Map<string, string>();
  for (const d of pass.decisions) {
    const agent = typeof d.data?.agent === "string" ? d.data.agent : null;
    if (d.step === "pokeAgents" && agent && POKE_RESULTS.has(d.action)) bump(m.pokes, `${agent}\u0000${d.action}`);
    if (d.step !== "processLifecycle") continue;
    const id = typeof d.data?.id === "string" ? d.data.id : null;
    if (!id) continue;
    if (d.action === "processing" && typeof d.data?.action === "string") actionOf.set(id, d.data.action);
    const outcome = REQUEST_OUTCOMES[d.action];
    if (outcome && !outcomeOf.has(id)) outcomeOf.set(id, outcome);
    if (d.action === "closed" && !outcomeOf.has(id)) outcomeOf.set(id, "done");
  }
  for (const [id, outcome] of outcomeOf) bump(m.requests, `${actionOf.get(id) ?? "unknown"}\u0000${outcome}`);
}

/** A label value as the exposition format wants it: backslash, quote and newline escaped. */
const label = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function family(name: string, type: "counter" | "gauge" | "summary", help: string, samples: string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

function labelled(name: string, keys: [string, string], m: Map<string, number>): string[] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => {
    const [a = "", b = ""] = k.split("\u0000");
    return `${name}{${keys[0]}="${label(a)}",${keys[1]}="${label(b)}"} ${n}`;
  });
}

export function renderMetrics(m: Metrics, extra: { deaconUp: boolean | null }): string {
  return [
    ...family("gtd_start_time_seconds", "gauge", "When this daemon started, in seconds since the epoch.", [`gtd_start_time_seconds ${m.startedAtMs / 1000}`]),
    ...family("gtd_heartbeats_total", "counter", "Heartbeats completed since the daemon started.", [`gtd_heartbeats_total ${m.heartbeats}`]),
    ...family("gtd_last_heartbeat_seconds", "gauge", "When the last heartbeat completed, in seconds since the epoch.", [
      `gtd_last_heartbeat_seconds ${m.lastHeartbeatMs === null ? 0 : m.lastHeartbeatMs / 1000}`,
    ]),
    ...family("gtd_pass_duration_seconds", "summary", "Time taken by heartbeat and lifecycle passes.", [
      `gtd_pass_duration_seconds_sum ${m.passSecondsSum}`,
      `gtd_pass_duration_seconds_count ${m.passes}`,
    ]),
    ...family("gtd_last_pass_duration_seconds", "gauge", "Time taken by the last pass.", [`gtd_last_pass_duration_seconds ${m.lastPassSeconds}`]),
    ...family("gtd_pokes_total", "counter", "Poke decisions by agent and result (poked, fresh, backoff, pending, skipped, error).", labelled("gtd_pokes_total", ["agent", "result"], m.pokes)),
    ...family(
      "gtd_lifecycle_requests_total",
      "counter",
      "Lifecycle requests handled, by action and outcome (done, rejected, expired, gave_up, failed).",
      labelled("gtd_lifecycle_requests_total", ["action", "outcome"], m.requests),
    ),
    ...(extra.deaconUp === null ? [] : family("gtd_agent_up", "gauge", "1 when the agent's session has a live pane at the last heartbeat.", [`gtd_agent_up{agent="deacon"} ${extra.deaconUp ? 1 : 0}`])),
    "",
  ].join("\n");
}
