/**
 * The supervised agents in `gtd status`: `agents[]` from state.json's `supervise` records (what the daemon
 * last judged) plus daemon/supervise/paused.json (what the operator asked, read now), and their human view:
 * a table on a terminal, one line each on a pipe, every time with its age ("12s ago").
 */
import { LIVENESS, type Liveness, type Status } from "../contracts/status.ts";
import { resolveAgent } from "../core/identity.ts";
import type { AgentRecord } from "../core/supervise-state.ts";
import { formatGoDuration } from "../duration.ts";
import { formatGoTime, parseGoTime } from "../gotime.ts";
import { DEACON_IDENTITY, superviseFiles } from "../supervise-files.ts";
import { paint, table, type Colour, type Style } from "../text-table.ts";
import type { TownPaths } from "../town.ts";

export type AgentRow = Status["agents"][number];

const time = (ms: number | null) => (ms === null ? null : formatGoTime(ms));

/**
 * One row per record, the Deacon first, then by identity. A record under a name that is no agent (state.json
 * is hand-editable) has no session to show and is left out; a liveness gtd does not know reads as missing.
 */
export function agentRows(records: ReadonlyMap<string, AgentRecord>, paths: TownPaths, deaconSession: string): AgentRow[] {
  const paused = new Set(superviseFiles(paths).readPaused().paused);
  const ids = [...records.keys()].sort((a, b) => (a === DEACON_IDENTITY ? -1 : b === DEACON_IDENTITY ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const rows: AgentRow[] = [];
  for (const id of ids) {
    const r = records.get(id)!;
    const spec = id === DEACON_IDENTITY ? null : resolveAgent(id, paths.root);
    if (spec && ("error" in spec || spec.identity !== id)) continue;
    rows.push({
      agent: id,
      session: spec ? spec.session : deaconSession,
      liveness: (LIVENESS as readonly string[]).includes(r.liveness) ? (r.liveness as Liveness) : "missing",
      since: time(r.livenessSinceMs),
      restarts: r.starts.length,
      restart_delay_ms: r.delayMs,
      held_until: time(r.heldUntilMs),
      held_why: r.heldWhy,
      paused: paused.has(id),
      last_poke: time(r.lastPokeMs),
      unanswered: r.unanswered,
      stranded: r.stranded,
      deferred_why: r.deferredWhy,
    });
  }
  return rows;
}

/** A span in the largest two units: 12s, 5m3s, 2h5m, 3d2h. */
function span(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d) return `${d}d${h}h`;
  if (h) return `${h}h${m}m`;
  return `${m}m${s % 60}s`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `12:00:01 (12s ago)`, `13:00:00 (in 59m0s)`; the date too when it is not within a day. */
export function withAge(text: string | null, nowMs: number): string | null {
  const ms = parseGoTime(text);
  if (typeof ms !== "number") return null;
  const d = new Date(ms);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const at = Math.abs(nowMs - ms) < 86_400_000 ? clock : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
  return `${at} (${ms <= nowMs ? `${span(nowMs - ms)} ago` : `in ${span(ms - nowMs)}`})`;
}

const COLOUR: Record<Liveness, Colour> = { running: "green", restarting: "yellow", dead: "red", missing: "red", hung: "red", held: "yellow", paused: "yellow" };

/** What needs saying beyond the columns: paused, held, unanswered or stranded pokes, a deferred one. */
function notes(a: AgentRow, nowMs: number): string[] {
  const out: string[] = [];
  if (a.paused) out.push("paused (gtd resume)");
  if (a.held_until) out.push(`held until ${withAge(a.held_until, nowMs)}${a.held_why ? `: ${a.held_why}` : ""}`);
  if (a.unanswered) out.push(`${a.unanswered} poke${a.unanswered === 1 ? "" : "s"} unanswered`);
  if (a.stranded) out.push("last poke stranded on the input line");
  if (a.deferred_why) out.push(`poke deferred: ${a.deferred_why}`);
  return out;
}

export function renderAgents(s: Status, style: Style, nowMs: number): string[] {
  if (!s.agents.length) return [];
  const since = (a: AgentRow) => withAge(a.since, nowMs);
  const delay = (a: AgentRow) => (a.restart_delay_ms ? formatGoDuration(a.restart_delay_ms) : "-");
  if (!style.table) {
    return s.agents.map((a) => {
      const parts = [
        `${a.liveness}${since(a) ? ` since ${since(a)}` : ""}`,
        `${a.restarts} restart${a.restarts === 1 ? "" : "s"}${a.restart_delay_ms ? `, delay ${delay(a)}` : ""}`,
        ...(a.last_poke ? [`last poke ${withAge(a.last_poke, nowMs)}`] : []),
        ...notes(a, nowMs),
      ];
      return `  Agent ${a.agent} (${a.session}): ${parts.join("; ")}`;
    });
  }
  const rows = s.agents.map((a) => [
    a.agent,
    a.session,
    paint(style, COLOUR[a.liveness], a.liveness),
    since(a) ?? "-",
    String(a.restarts),
    delay(a),
    withAge(a.last_poke, nowMs) ?? "-",
    notes(a, nowMs).join("; "),
  ]);
  return ["", ...table(["AGENT", "SESSION", "LIVENESS", "SINCE", "RESTARTS", "DELAY", "LAST POKE", "NOTE"], rows)];
}
