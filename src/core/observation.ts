/**
 * What a pass sees, read once at its start by src/tick/observe.ts: the decide functions get this and
 * nothing else from the world. Maps are keyed by what the reads were keyed by (session, file path,
 * `identity:action`); a key missing from a map means "not read", which decide treats as unknown.
 */
import type { HeartbeatStamp } from "./freshness.ts";
import type { AgentFacts, AgentProcess, ClientInfo, InboxResult, RigDiscovery, SessionInfo } from "./ports.ts";
import type { CorruptSlot, Slot, SlotDirEntry } from "./slot-rules.ts";

export type PassKind = "heartbeat" | "lifecycle";

export interface Observation {
  kind: PassKind;
  /** The clock, read once: every step of the pass agrees on "now". */
  nowMs: number;
  /** Shutdown was asked for before decide began (read after every other read): nothing new starts. */
  stopping: boolean;
  /** Every tmux session from the one list call, or why the list failed. */
  sessions: ReadonlyMap<string, SessionInfo> | { error: string };
  /** Heartbeat only: whether the Deacon's command can be found, and on which PATH. */
  deaconCommand?: { found: boolean; PATH: string | undefined };
  /** Heartbeat only: why daemon/notifications must not be used, or null; and its files. */
  slotDir?: { problem: string | null; entries: readonly SlotDirEntry[] };
  /** Heartbeat only: each poke target's heartbeat slot, by session. */
  slots: ReadonlyMap<string, Slot | CorruptSlot | null>;
  /** Heartbeat only: each poke target's freshness file, by path. */
  stamps: ReadonlyMap<string, HeartbeatStamp>;
  /** Heartbeat only, when Witnesses are poked. */
  rigs: RigDiscovery | null;
  /** The Deacon's inbox, or why it could not be read; null when not read (shutting down). */
  inbox: InboxResult | { error: string } | null;
  /** For each lifecycle request this pass will look at: its agent, by `identity:action`. */
  agents: ReadonlyMap<string, AgentFacts>;
  /** Heartbeat only: every tmux client (listed with the sessions, one call); null when the list failed. */
  clients: readonly ClientInfo[] | null;
  /** Each supervised agent's process under its pane, by identity (null: none running). */
  procs: ReadonlyMap<string, AgentProcess | null>;
  /** The operator's side: paused agents, hold files present, the loops' run counts, requests. */
  supervision: SupervisionFiles;
  /** Why the operator's files could not all be read (said once each). */
  supervisionProblems: readonly string[];
}

export interface SupervisionFiles {
  paused: ReadonlySet<string>;
  holds: ReadonlySet<string>;
  /** What each loop last wrote: how many runs it started, and the last exit status. */
  runs: ReadonlyMap<string, { runs: number; status: number }>;
  requests: ReadonlyArray<{ identity: string; kind: "restart" | "reset" }>;
}

export const noSupervisionFiles = (): SupervisionFiles => ({ paused: new Set(), holds: new Set(), runs: new Map(), requests: [] });

export const agentKey = (identity: string, action: string) => `${identity}:${action}`;

/** A blank observation: tests and callers fill in what they need. */
export function emptyObservation(kind: PassKind, nowMs: number): Observation {
  return {
    kind,
    nowMs,
    stopping: false,
    sessions: new Map(),
    slots: new Map(),
    stamps: new Map(),
    rigs: null,
    inbox: null,
    agents: new Map(),
    clients: [],
    procs: new Map(),
    supervision: noSupervisionFiles(),
    supervisionProblems: [],
  };
}
