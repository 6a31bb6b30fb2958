/**
 * The status object: `gtd status --json` prints it as it is (the machine contract, src/contracts/status.ts)
 * and the human view is rendered from it.
 */
import { STATUS_SCHEMA_VERSION, type Status } from "../contracts/status.ts";
import { formatGoDuration } from "../duration.ts";
import type { BackoffState } from "../core/backoff.ts";
import { formatGoTime, formatLogStamp, localOffsetMin, parseGoTime } from "../gotime.ts";
import type { RequestEntry } from "../core/ledger.ts";
import { readState } from "../state.ts";
import type { TownPaths } from "../town.ts";
import { paint, PLAIN, table, type Style } from "../text-table.ts";
import { probeDaemon } from "./liveness.ts";
import { agentRows, renderAgents } from "./status-agents.ts";

export interface StatusOptions {
  /** The Deacon's session as configured (its row's `session`); the default when the config cannot be read. */
  deaconSession?: string;
}

export function daemonStatus(paths: TownPaths, nowMs: number, opts: StatusOptions = {}): Status {
  const probe = probeDaemon(paths);
  const { state, problem } = readState(paths.stateFile, nowMs, { keepCorrupt: true });
  const fromState = probe.running && state.pid === probe.pid;
  const started = fromState ? state.startedAtMs : null;
  const next = fromState ? parseGoTime(state.extra.next_heartbeat) : null;
  return {
    schema_version: STATUS_SCHEMA_VERSION,
    running: probe.running,
    pid: probe.running ? probe.pid : null,
    town: paths.root,
    started_at: started !== null ? formatGoTime(started) : null,
    uptime_ms: started !== null ? Math.max(0, nowMs - started) : null,
    last_heartbeat: fromState && state.lastHeartbeatMs !== null ? formatGoTime(state.lastHeartbeatMs) : null,
    heartbeat_count: fromState ? state.heartbeatCount : null,
    heartbeat: fromState && typeof state.extra.heartbeat === "string" ? state.extra.heartbeat : null,
    next_heartbeat: next ? formatGoTime(next) : null,
    stale_pid_file: probe.stalePidFile ? { pid: probe.pidFile.pid, content: (probe.pidFile.raw ?? "").slice(0, 40) } : null,
    state_problem: problem,
    tick_pid: probe.tickPid,
    executable_replaced: fromState ? replacedNote(state.extra.executable_replaced) : null,
    pokes: fromState ? pokeSummary(state.backoff ?? new Map()) : [],
    requests: fromState ? requestSummary(state.requests) : { pending: [], done: 0 },
    // Like pokes, only what a running daemon keeps up to date: a stopped one's last judgement would mislead.
    agents: fromState ? agentRows(state.supervise, paths, opts.deaconSession ?? "gt-deacon") : [],
  };
}

/** From state.json, which anyone can edit: a noticed_at that is not a time is reported as null. */
function replacedNote(raw: unknown): Status["executable_replaced"] {
  if (!raw || typeof raw !== "object") return null;
  const { path, noticed_at } = raw as Record<string, unknown>;
  if (typeof path !== "string" || typeof noticed_at !== "string") return null;
  const noticed = parseGoTime(noticed_at);
  return { path, noticed_at: typeof noticed === "number" ? formatGoTime(noticed) : null };
}

function pokeSummary(backoff: ReadonlyMap<string, BackoffState>): Status["pokes"] {
  return [...backoff].map(([agent, b]) => ({
    agent,
    interval_ms: b.intervalMs,
    last_poke: b.lastPokeMs !== null ? formatGoTime(b.lastPokeMs) : null,
    unanswered: b.misses,
  }));
}

function requestSummary(ledger: ReadonlyMap<string, RequestEntry>): Status["requests"] {
  const entries = [...ledger];
  return {
    pending: entries.filter(([, e]) => !e.done).map(([id, e]) => ({ id, attempts: e.attempts, last_error: e.lastError })),
    done: entries.filter(([, e]) => e.done).length,
  };
}

// Wall-clock times in the given offset (default: local at that instant), from the one formatter.
const clock = (ms: number, offsetMin = localOffsetMin(ms)) => formatLogStamp(ms, offsetMin).slice(11);
const dateTime = (ms: number, offsetMin = localOffsetMin(ms)) => formatLogStamp(ms, offsetMin).replaceAll("/", "-");

/**
 * The original's lines, plus the town, uptime and next heartbeat; on a terminal (`style.table`) the
 * pokes, requests and supervised agents are aligned tables and liveness is coloured. `nowMs`: for the
 * agents' ages ("12s ago").
 */
export function renderStatus(s: Status, style: Style = PLAIN, nowMs = Date.now()): string[] {
  const lines: string[] = [];
  if (!s.running) {
    lines.push(`${paint(style, "red", "○")} Daemon is not running`);
    if (s.tick_pid) lines.push(`  A gtd tick (PID ${s.tick_pid}) is running in this town right now`);
    if (s.stale_pid_file) {
      lines.push(`  Stale PID file: daemon/daemon.pid says ${JSON.stringify(s.stale_pid_file.content)}, but no daemon holds the lock (left alone, never signalled)`);
    }
    lines.push("", "Start with: gtd start");
    return lines;
  }
  lines.push(`${paint(style, "green", "●")} Daemon is running (PID ${s.pid})`);
  lines.push(`  Town: ${s.town}`);
  const started = parseGoTime(s.started_at);
  if (started) lines.push(`  Started: ${dateTime(started)} (up ${formatGoDuration(Math.floor((s.uptime_ms ?? 0) / 1000) * 1000)})`);
  const last = parseGoTime(s.last_heartbeat);
  if (last) lines.push(`  Last heartbeat: ${clock(last)} (#${s.heartbeat_count})`);
  const next = parseGoTime(s.next_heartbeat);
  if (next) lines.push(`  Next heartbeat: ${clock(next)}${s.heartbeat ? ` (${/\s/.test(s.heartbeat) ? `cron "${s.heartbeat}"` : `every ${s.heartbeat}`})` : ""}`);
  if (style.table) lines.push(...pokeTable(s, style), ...requestTable(s, style));
  else lines.push(...pokeLines(s), ...requestLines(s));
  lines.push(...renderAgents(s, style, nowMs));
  const replaced = s.executable_replaced;
  const noticed = replaced ? parseGoTime(replaced.noticed_at) : null;
  if (replaced) lines.push(`  ${paint(style, "yellow", "Note:")} ${replaced.path} was replaced${noticed ? ` (noticed ${clock(noticed)})` : ""}; restart the daemon to run the new one`);
  if (s.state_problem) lines.push(`  ${paint(style, "yellow", "Warning:")} state.json unreadable: ${s.state_problem}`);
  return lines;
}

const lastPoke = (p: Status["pokes"][number]) => {
  const at = parseGoTime(p.last_poke);
  return at ? clock(at) : "";
};

function pokeLines(s: Status): string[] {
  return s.pokes.map((p) => `  Pokes: ${p.agent} every ${formatGoDuration(p.interval_ms)}${lastPoke(p) ? `, last ${lastPoke(p)}` : ""}${p.unanswered ? ` (${p.unanswered} unanswered)` : ""}`);
}

function pokeTable(s: Status, style: Style): string[] {
  if (!s.pokes.length) return [];
  const rows = s.pokes.map((p) => [p.agent, formatGoDuration(p.interval_ms), lastPoke(p) || "-", p.unanswered ? paint(style, "yellow", String(p.unanswered)) : "0"]);
  return ["", ...table(["AGENT", "POKE EVERY", "LAST POKE", "UNANSWERED"], rows)];
}

function requestLines(s: Status): string[] {
  if (!s.requests.pending.length && !s.requests.done) return [];
  return [
    `  Lifecycle requests: ${s.requests.pending.length} pending, ${s.requests.done} handled`,
    ...s.requests.pending.map((r) => `    ${r.id}: ${r.attempts} attempt${r.attempts === 1 ? "" : "s"}${r.last_error ? `, last error: ${r.last_error}` : ""}`),
  ];
}

function requestTable(s: Status, style: Style): string[] {
  if (!s.requests.pending.length && !s.requests.done) return [];
  const head = `  Lifecycle requests: ${s.requests.pending.length} pending, ${s.requests.done} handled`;
  if (!s.requests.pending.length) return ["", head];
  const rows = s.requests.pending.map((r) => [r.id, String(r.attempts), r.last_error ? paint(style, "red", r.last_error) : "-"]);
  return ["", head, ...table(["REQUEST", "ATTEMPTS", "LAST ERROR"], rows, "    ")];
}
