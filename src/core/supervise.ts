/**
 * supervise: keep each supervised agent (supervise-set.ts) alive, safely, and say why.
 * - Liveness from the process tree, not the session: running (the agent command is alive under the
 *   pane), restarting (the loop is between runs), dead (the pane is), missing (no session).
 * - Staleness alone never restarts anything: an idle agent is stale by construction. An agent is hung
 *   only when `hung.unansweredPokes` delivered pokes in a row went unanswered, over at least `hung.after`,
 *   and it is past `grace` since its own last start. A new process is never judged by the old one's pokes.
 * - Every restart, from any path, goes through one gate (gateRefusal): a paused agent is never created,
 *   restarted or poked; a held one (crash loop) is not restarted until the hold decays or `gtd reset`.
 * - Restarts re-spawn the agent's own pane (respawn-pane -k), never the session: panes a person added live.
 * Each decision is logged once, with its reason.
 */
import { formatGoDuration } from "../duration.ts";
import { formatGoTime } from "../gotime.ts";
import type { Note } from "./decision.ts";
import { act, say, type Decide, type Draft } from "./pass.ts";
import type { SessionInfo } from "./ports.ts";
import { emptyRecord, type AgentRecord } from "./supervise-state.ts";
import { DEACON, superviseSettings, supervisedAgents, type SupervisedAgent, type SuperviseSettings } from "./supervise-set.ts";
import { pokeTargets } from "./targets.ts";

const STEP = "supervise";

/**
 * tmux's activity clock has whole seconds, and the poke's own echo and Enter move it: output counts as
 * the agent's answer only when it comes this long after the poke.
 */
export const ECHO_MS = 3_000;

/**
 * When a poke can be judged: at the end of the first whole second that lies entirely after the echo
 * (4 to 5 s after the poke). tmux shows output with the whole second it fell in, so output counts only
 * from the next whole second after `poke + ECHO_MS`; an agent that answers (an agent at work redraws its
 * screen at least every second) is certain to have shown output in that second by its end. Judged at a
 * fixed `poke + 4 s` instead, the window left for that output was only the poke's fraction of a second
 * (a poke at hh:mm:ss.1 left 0.1 s), and an idle agent that answered was restarted as hung.
 */
export const answerDueMs = (pokeMs: number) => (Math.floor((pokeMs + ECHO_MS) / 1000) + 2) * 1000;

/** The last poke's answer is not yet due (see answerDueMs) and nothing has answered it: too soon to tell. */
export const awaitingAnswer = (rec: AgentRecord, nowMs: number) =>
  rec.lastPokeMs !== null && rec.pokeAnswered === null && nowMs < answerDueMs(rec.lastPokeMs);

export type Liveness = "running" | "restarting" | "dead" | "missing" | "hung" | "held" | "paused";

/** The agent's record in the draft state (created on first sight). */
export function recordOf(d: Draft, identity: string): AgentRecord {
  let rec = d.state.supervise.get(identity);
  if (!rec) {
    rec = emptyRecord();
    d.state.supervise.set(identity, rec);
  }
  return rec;
}

export const isPaused = (d: Draft, identity: string) => d.obs.supervision.paused.has(identity);
export const isHeld = (rec: AgentRecord | undefined, nowMs: number) => rec?.heldUntilMs != null && nowMs < rec.heldUntilMs;

/** Why a kill or restart of `identity` must not happen now, or null: the one gate every path goes through. */
export function gateRefusal(d: Draft, identity: string, manual = false): string | null {
  if (isPaused(d, identity)) return `${identity} is paused (gtd resume ${identity})`;
  const rec = d.state.supervise.get(identity);
  if (!manual && isHeld(rec, d.nowMs)) return `${identity} is held after a crash loop until ${formatGoTime(rec!.heldUntilMs!)} (gtd reset ${identity})`;
  return null;
}

export function* supervise(d: Draft): Decide {
  for (const line of d.obs.supervisionProblems) {
    if (d.memory.shouldSay(`supervise:problem:${line}`, d.nowMs)) say(d, STEP, "warning", `Warning: ${line}`);
  }
  if (d.sessions === null) return; // nothing is known this pass; observeSessions said so
  const s = superviseSettings(d.config);
  // Each poked agent's heartbeat file: a poke counts as answered when it moves.
  const heartbeatFiles = new Map(pokeTargets(d.config, d.paths, d.obs.rigs).map((t) => [t.id, t.freshnessFile]));
  for (const agent of supervisedAgents(d.config, d.paths)) {
    if (d.stopping) break;
    yield* superviseOne(d, agent, s, heartbeatFiles);
  }
}

function* superviseOne(d: Draft, agent: SupervisedAgent, s: SuperviseSettings, heartbeatFiles: ReadonlyMap<string, string>): Decide {
  const id = agent.identity;
  const rec = recordOf(d, id);
  const paused = isPaused(d, id);
  const info = d.sessions?.get(agent.session);
  let manualRestart = false;

  for (const r of d.obs.supervision.requests) {
    if (r.identity !== id) continue;
    if (r.kind === "reset") {
      say(d, STEP, "reset", `Reset ${agent.Name}: hold, restart count and delay cleared (gtd reset)`, { agent: id });
      endHold(rec);
      rec.starts = [];
    } else manualRestart = true;
    yield* act(d, { kind: "takeRequest", identity: id, request: r.kind, step: STEP });
  }

  countRuns(d, agent, rec, s);
  if (d.obs.kind === "heartbeat") judgePoke(d, rec, info, heartbeatFiles.get(id));
  if (rec.heldUntilMs !== null && !isHeld(rec, d.nowMs)) {
    say(d, STEP, "released", `${agent.Name}'s crash-loop hold is over; it may run again`, { agent: id });
    endHold(rec);
    rec.starts = [];
  }
  if (rec.heldUntilMs === null && rec.starts.length >= s.crashLoop.restarts) {
    rec.heldUntilMs = d.nowMs + s.crashLoop.holdMs;
    rec.heldWhy = `${rec.starts.length} restarts within ${formatGoDuration(s.crashLoop.withinMs)}, last exit status ${rec.lastExit ?? "unknown"}`;
    say(d, STEP, "held", `Holding ${agent.Name}: ${rec.heldWhy}; not restarting it for ${formatGoDuration(s.crashLoop.holdMs)} (gtd reset ${id} to retry now)`, {
      agent: id,
      restarts: rec.starts.length,
      lastExit: rec.lastExit,
    });
  }

  const proc = d.obs.procs.get(id) ?? null;
  const base: Liveness = !info ? "missing" : info.paneDead ? "dead" : proc ? "running" : "restarting";
  const hung = base === "running" && isHung(d, rec, s);

  if (manualRestart) {
    const refused = gateRefusal(d, id, true);
    if (refused) say(d, STEP, "refused", `Not restarting ${agent.Name}: ${refused}`, { agent: id });
    else {
      endHold(rec);
      rec.starts = [];
      yield* restart(d, agent, info, "asked by gtd restart", "restarting");
    }
  } else if (!paused && !isHeld(rec, d.nowMs)) {
    if (base === "missing" && id !== DEACON) yield* create(d, agent);
    else if (base === "dead" && info) {
      const status = info.deadStatus ?? null;
      yield* restart(d, agent, info, `its pane is dead${status === null ? "" : ` (exit status ${status})`}`, "repairing");
    } else if (hung && info) {
      const why = `hung: ${rec.unanswered} pokes in a row unanswered over ${formatGoDuration(d.nowMs - (rec.firstUnansweredMs ?? d.nowMs))}`;
      yield* restart(d, agent, info, why, "hung");
      rec.unanswered = 0;
      rec.firstUnansweredMs = null;
    }
  }

  const holdWanted = paused || isHeld(rec, d.nowMs);
  // A hold is lifted only when the operator's files were read whole: a corrupt paused.json must not
  // let every paused agent run again.
  const mayRelease = d.obs.supervisionProblems.length === 0;
  if (holdWanted !== d.obs.supervision.holds.has(id) && (holdWanted || mayRelease)) {
    yield* act(d, { kind: "setHold", identity: id, on: holdWanted, step: STEP });
  }
  rec.delayMs = restartDelayMs(d, rec, s);
  const shown: Liveness = paused ? "paused" : isHeld(rec, d.nowMs) ? "held" : hung ? "hung" : base;
  if (shown !== rec.liveness || rec.livenessSinceMs === null) {
    rec.liveness = shown;
    rec.livenessSinceMs = d.nowMs;
  }
}

function endHold(rec: AgentRecord): void {
  rec.heldUntilMs = null;
  rec.heldWhy = null;
}

/**
 * Starts and exits, including the restarts the in-pane loop does by itself: the loop counts its runs in
 * the exit file. A new agent process (a new start time) starts its record afresh: the old one's pokes
 * say nothing about it.
 */
function countRuns(d: Draft, agent: SupervisedAgent, rec: AgentRecord, s: SuperviseSettings): void {
  const loop = d.obs.supervision.runs.get(agent.identity);
  if (loop) {
    // A smaller count means a new loop (a respawn, a new session): all of its runs are new.
    const fresh = loop.runs >= rec.runsSeen ? loop.runs - rec.runsSeen : loop.runs;
    for (let i = 0; i < fresh; i++) rec.starts.push(d.nowMs);
    if (fresh > 0) rec.lastExit = loop.status;
    rec.runsSeen = loop.runs;
  }
  rec.starts = rec.starts.filter((t) => d.nowMs - t < s.crashLoop.withinMs);
  const proc = d.obs.procs.get(agent.identity) ?? null;
  if (proc && proc.startedAtMs !== rec.startedAtMs) {
    // A new process: the old one's pokes say nothing about it.
    rec.pid = proc.pid;
    rec.startedAtMs = proc.startedAtMs;
    rec.unanswered = 0;
    rec.firstUnansweredMs = null;
    rec.pokeAnswered = null;
    rec.lastPokeMs = null;
    rec.stranded = false;
  } else if (!proc) rec.pid = null;
}

/**
 * The delay the in-pane loop will wait before its next start, as it computes it: none without recent
 * restarts; base after a run of at least resetAfter; else base doubled per restart in the window, up to max.
 */
function restartDelayMs(d: Draft, rec: AgentRecord, s: SuperviseSettings): number {
  if (rec.starts.length === 0) return 0;
  if (rec.startedAtMs !== null && rec.pid !== null && d.nowMs - rec.startedAtMs >= s.restart.resetAfterMs) return s.restart.baseMs;
  return Math.min(s.restart.baseMs * 2 ** (rec.starts.length - 1), s.restart.maxMs);
}

/** Was the last delivered poke answered? Its heartbeat file moved, or the pane showed output after it. */
function judgePoke(d: Draft, rec: AgentRecord, info: SessionInfo | undefined, heartbeatFile: string | undefined): void {
  if (rec.lastPokeMs === null || rec.pokeAnswered !== null) return;
  const stamp = heartbeatFile === undefined ? undefined : d.obs.stamps.get(heartbeatFile);
  const wrote = stamp?.kind === "at" && stamp.ms > rec.lastPokeMs;
  const spoke = info?.activityMs != null && info.activityMs > rec.lastPokeMs + ECHO_MS;
  if (wrote || spoke) {
    rec.pokeAnswered = true;
    rec.unanswered = 0;
    rec.firstUnansweredMs = null;
    return;
  }
  if (awaitingAnswer(rec, d.nowMs)) return; // judged at a later heartbeat, once an answer would show
  rec.pokeAnswered = false;
  rec.unanswered += 1;
  rec.firstUnansweredMs ??= rec.lastPokeMs;
}

function isHung(d: Draft, rec: AgentRecord, s: SuperviseSettings): boolean {
  if (rec.unanswered < s.hung.unansweredPokes || rec.firstUnansweredMs === null) return false;
  if (d.nowMs - rec.firstUnansweredMs < s.hung.afterMs) return false;
  return rec.startedAtMs !== null && d.nowMs - rec.startedAtMs >= s.graceMs;
}

function* restart(d: Draft, agent: SupervisedAgent, info: SessionInfo | undefined, why: string, action: string): Decide {
  if (!info?.paneId) {
    yield* create(d, agent);
    return;
  }
  const start: Note = { action, message: `Restarting ${agent.Name}'s pane in ${agent.session}: ${why}`, data: { agent: agent.identity, session: agent.session } };
  const out = yield* act(d, {
    kind: "respawnPane",
    session: agent.session,
    paneId: info.paneId,
    step: STEP,
    exclusive: true,
    start,
    done: { action: "restarted", message: `Restarted ${agent.Name} (${agent.session}, its own pane only)`, data: { agent: agent.identity } },
    plan: { action: "would-restart", message: `${start.message} (dry run: not restarted)`, data: start.data ?? {} },
  });
  if (out.ok) d.sessions?.set(agent.session, { ...info, paneDead: false });
  else if (out.kind === "not-exclusive") notExclusive(d, agent);
  else say(d, STEP, "error", `Error restarting ${agent.Name}: ${out.error}`, { agent: agent.identity });
}

function* create(d: Draft, agent: SupervisedAgent): Decide {
  const data = { agent: agent.identity, session: agent.session, cwd: agent.spec.cwd };
  const out = yield* act(d, {
    kind: "newSession",
    spec: agent.spec,
    step: STEP,
    exclusive: true,
    start: { action: "starting", message: `${agent.Name} session not running, starting ${agent.session}`, data },
    done: { action: "created", message: `Started ${agent.Name} in ${agent.session}`, data },
    plan: { action: "would-create", message: `${agent.Name} session not running, would start ${agent.session} (dry run: not created)`, data },
  });
  if (out.ok || out.kind === "duplicate") d.sessions?.set(agent.session, { name: agent.session, paneDead: false, paneCommand: "bash" });
  else if (out.kind === "not-exclusive") notExclusive(d, agent);
  else say(d, STEP, "error", `Error starting ${agent.Name}: ${out.error}`, data);
}

function notExclusive(d: Draft, agent: SupervisedAgent): void {
  say(d, STEP, "not-exclusive", `Not touching ${agent.Name} (${agent.session}): this process no longer holds the town's lock`, { agent: agent.identity });
}
