/**
 * observe: every read of a pass, through the ports, into one Observation (src/core/observation.ts):
 * the sessions and, on a heartbeat, the clients (one tmux call), the Deacon command, the slot directory, each poke target's heartbeat file
 * and slot, the rigs, the inbox, and the agents of the requests this pass will handle. Never throws: a
 * failed read is recorded as such, and decide says what it means.
 */
import type { Config } from "../config/index.ts";
import { errorText } from "../errors.ts";
import { selectRequests, requestedAgents } from "../core/lifecycle.ts";
import { agentKey, emptyObservation, type Observation, type PassKind } from "../core/observation.ts";
import type { AgentFacts, AgentProcess, Ports } from "../core/ports.ts";
import { supervisedAgents } from "../core/supervise-set.ts";
import { draftState, type DaemonState } from "../core/state.ts";
import { pokeTargets } from "../core/targets.ts";
import type { TownPaths } from "../town.ts";

export async function observe(kind: PassKind, ports: Ports, config: Config, paths: TownPaths, state: DaemonState, signal: AbortSignal): Promise<Observation> {
  const obs = emptyObservation(kind, ports.clock.now());
  // The inbox command starts first and runs beside the tmux and file reads: on SIGUSR1 it is what the
  // agent waits for, so it should not queue behind them.
  const inbox = signal.aborted ? null : readInbox(ports, signal);
  await observeTmux(obs, ports);
  if (kind === "heartbeat") observeTown(obs, ports, config, paths);
  observeSupervision(obs, ports, config, paths);
  obs.inbox = inbox === null ? null : await inbox;
  obs.agents = observeAgents(obs, ports, config, paths, state);
  // Read last: a shutdown asked during the reads (the inbox can take seconds) starts nothing new either.
  obs.stopping = signal.aborted;
  return obs;
}

/** The inbox, or why it could not be read; null when shutdown killed the command (not worth a line). */
async function readInbox(ports: Ports, signal: AbortSignal): Promise<Observation["inbox"]> {
  try {
    return await ports.mailbox.inbox(signal);
  } catch (err) {
    return signal.aborted ? null : { error: errorText(err) };
  }
}

function observeTown(obs: Observation, ports: Ports, config: Config, paths: TownPaths): void {
  const { store } = ports;
  obs.deaconCommand = store.findCommand(config.deacon.command[0] ?? "");
  const problem = store.slotDirProblem();
  obs.slotDir = { problem, entries: problem === null ? store.listSlotDir() : [] };
  obs.rigs = config.poke.witnesses ? store.discoverRigs() : null;
  const stamps = new Map(obs.stamps);
  const slots = new Map(obs.slots);
  for (const t of pokeTargets(config, paths, obs.rigs)) {
    stamps.set(t.freshnessFile, store.readStamp(t.freshnessFile));
    if (problem === null) slots.set(t.session, store.readSlot(t.session));
  }
  obs.stamps = stamps;
  obs.slots = slots;
}

/**
 * The sessions, one tmux call; a heartbeat lists the clients (for the poke deferral) in the same call. A
 * failed list is recorded: the sessions' error, and clients null.
 */
async function observeTmux(obs: Observation, ports: Ports): Promise<void> {
  try {
    if (obs.kind === "heartbeat") ({ sessions: obs.sessions, clients: obs.clients } = await ports.tmux.sessionsAndClients());
    else obs.sessions = await ports.tmux.sessions();
  } catch (err) {
    obs.sessions = { error: errorText(err) };
    obs.clients = null;
  }
}

/** Supervision: the operator's files and the agent process under each supervised pane (one /proc scan). */
function observeSupervision(obs: Observation, ports: Ports, config: Config, paths: TownPaths): void {
  const agents = supervisedAgents(config, paths);
  const read = ports.store.supervisionFiles(agents.map((a) => a.identity));
  obs.supervision = { paused: read.paused, holds: read.holds, runs: read.runs, requests: read.requests };
  obs.supervisionProblems = read.problems;
  const sessions = "error" in obs.sessions ? null : obs.sessions;
  const queries = agents.map((a) => ({ panePid: sessions?.get(a.session)?.panePid ?? 0, command: a.command[0] ?? "" }));
  const found = ports.procs.agentsUnder(queries);
  const procs = new Map<string, AgentProcess | null>();
  agents.forEach((a, i) => procs.set(a.identity, found[i] ?? null));
  obs.procs = procs;
}

/** The agents of exactly the requests decide will handle: the same pure selection, on a copy of the ledger. */
function observeAgents(obs: Observation, ports: Ports, config: Config, paths: TownPaths, state: DaemonState): Map<string, AgentFacts> {
  const agents = new Map<string, AgentFacts>();
  if (obs.inbox === null || "error" in obs.inbox) return agents;
  const sel = selectRequests(obs.inbox.messages, draftState(state).requests, obs.nowMs, config);
  for (const { spec, action } of requestedAgents(sel, paths.root)) {
    const key = agentKey(spec.identity, action);
    if (!agents.has(key)) agents.set(key, ports.store.agentFacts(spec, action));
  }
  return agents;
}
