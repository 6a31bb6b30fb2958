/** What tmux lists, parsed: panes (the session list), clients, and one session's panes. */
import { randomBytes } from "node:crypto";
import type { ClientInfo, SessionInfo } from "./ports.ts";

/**
 * One `list-panes -a` line per pane, after a marker new at each call. The free text (the command, which
 * may hold tabs and newlines) is last, so a line that does not start with the marker is the rest of the
 * previous pane's command; a process cannot forge a record with its name, not knowing the marker.
 */
export const PANE_FORMAT = [
  "session_name", "pane_id", "pane_pid", "pane_dead", "pane_dead_status", "pane_in_mode", "window_activity",
  "pane_current_command",
].map((f) => `#{${f}}`).join("\t");
const LINE = /^([^\t]*)\t%(\d+)\t(\d*)\t([01])\t(-?\d*)\t(\d*)\t(\d*)\t(.*)$/;

/** Hex, so nothing in it is format syntax. */
export function newMarker(): string {
  return randomBytes(8).toString("hex");
}

/**
 * `list-panes -a` output → one SessionInfo per session, describing its agent pane: the lowest pane id,
 * i.e. the pane the session was created with. tmux numbers panes in creation order and respawn-pane
 * keeps the id, while window and pane *indexes* move when a person splits with -b, swaps panes or puts
 * a window first. `panes` counts all of the session's panes.
 */
export function parseSessions(stdout: string, marker: string): Map<string, SessionInfo> {
  const out = new Map<string, SessionInfo>();
  const lowest = new Map<string, number>();
  let last: SessionInfo | undefined;
  const head = `${marker}\t`;
  for (const line of stdout.split("\n")) {
    const m = line.startsWith(head) ? LINE.exec(line.slice(head.length)) : null;
    if (!m) {
      if (last && line !== "") last.paneCommand += `\n${line}`;
      continue;
    }
    const [, name = "", id = "", pid = "", dead, status = "", mode = "", activity = "", command = ""] = m;
    const pane: SessionInfo = {
      name,
      paneDead: dead === "1",
      paneCommand: command,
      paneId: `%${id}`,
      panePid: Number(pid) || 0,
      deadStatus: dead === "1" && status !== "" ? Number(status) : null,
      inMode: mode !== "" && mode !== "0",
      activityMs: activity === "" ? null : Number(activity) * 1000,
      panes: 1,
    };
    last = pane;
    const seen = out.get(name);
    if (seen) {
      seen.panes = (seen.panes ?? 1) + 1;
      if (Number(id) >= (lowest.get(name) ?? Infinity)) continue;
      pane.panes = seen.panes;
    }
    out.set(name, pane);
    lowest.set(name, Number(id));
  }
  return out;
}

/** One `list-clients` line per client, after its own marker (see `parseListing`). */
export const CLIENT_FORMAT = "#{client_session}\t#{client_activity}";

/**
 * `list-panes -a ; list-clients` output, each with its own marker: the pane lines run up to the first
 * client line (a pane's command may span lines, but cannot start one with a marker it does not know).
 */
export function parseListing(stdout: string, paneMarker: string, clientMarker: string): { sessions: Map<string, SessionInfo>; clients: ClientInfo[] } {
  const head = `${clientMarker}\t`;
  const lines = stdout.split("\n");
  const first = lines.findIndex((l) => l.startsWith(head));
  if (first < 0) return { sessions: parseSessions(stdout, paneMarker), clients: [] };
  const clientLines = lines.slice(first).filter((l) => l.startsWith(head)).map((l) => l.slice(head.length));
  return { sessions: parseSessions(lines.slice(0, first).join("\n"), paneMarker), clients: parseClients(clientLines.join("\n")) };
}

/** `list-clients` output → a client per line attached to a session (one still attaching has none). */
export function parseClients(stdout: string): ClientInfo[] {
  const out: ClientInfo[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(.+)\t(\d*)$/.exec(line);
    if (!m) continue;
    out.push({ session: m[1] as string, activityMs: m[2] ? Number(m[2]) * 1000 : null });
  }
  return out;
}

/** The lowest pane id in `list-panes -s` output, with its mode and dead flags (see parseSessions). */
export function agentPane(stdout: string): { id: string; ready: boolean } | null {
  let best: { n: number; id: string; ready: boolean } | null = null;
  for (const line of stdout.split("\n")) {
    const m = /^%(\d+)\t(\d*)\t([01])$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    if (best && best.n <= n) continue;
    best = { n, id: `%${m[1]}`, ready: (m[2] === "" || m[2] === "0") && m[3] === "0" };
  }
  return best && { id: best.id, ready: best.ready };
}

