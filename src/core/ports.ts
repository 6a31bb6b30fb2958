/**
 * The ports the core is written against. The daemon wires the real ones (src/daemon/wiring.ts); unit
 * tests pass fakes. Observe reads through them, apply acts through them; decide never sees them.
 */
import type { HeartbeatStamp } from "./freshness.ts";
import type { AgentSpec } from "./identity.ts";
import type { LifecycleAction } from "./parse.ts";
import type { CorruptSlot, Slot, SlotDirEntry } from "./slot-rules.ts";
import type { DaemonState } from "./state.ts";

/** A subprocess run: argv (never a shell string), a timeout, a capped result instead of an exception. */
export interface RunOptions {
  cwd?: string;
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  input?: string;
  signal?: AbortSignal;
  /** Bytes of stdout kept; one more and the command is killed. Default STDOUT_CAP_BYTES. */
  stdoutCapBytes?: number;
  /** Bytes of stderr kept; one more and the command is killed. Default STDERR_CAP_BYTES. */
  stderrCapBytes?: number;
}

export interface RunResult {
  /** Exit status; null when the process was killed (timeout, abort, output cap) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not be found or started (bash's 127/126). */
  notFound: boolean;
  /** Set when a stream passed its cap: the command was killed; output kept is what fit under the cap. */
  outputExceeded?: { stream: "stdout" | "stderr"; capBytes: number };
}

export type Runner = (argv: string[], opts: RunOptions) => Promise<RunResult>;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Sleeps that shutdown can cut short: resolves early (never rejects) when the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * One log line. `event` is a stable name for scripts (`pokeAgents.poked`, `daemon.message`), written
 * with `data` only in the JSON log format (log.format "json"); the text format is the original's.
 */
export type Log = (message: string, event?: string, data?: Record<string, unknown>) => void;

export interface SessionInfo {
  name: string;
  /** True when the session's first pane has exited but is kept (remain-on-exit). */
  paneDead: boolean;
  /** The pane's current foreground command (`#{pane_current_command}`). */
  paneCommand: string;
  /** The session's first pane (the agent's own), for respawn-pane; "" when unknown. */
  paneId?: string;
  /** The first pane's process (the in-pane loop), 0 when unknown. */
  panePid?: number;
  /** Exit status of a dead first pane, null when alive or unknown. */
  deadStatus?: number | null;
  /** The first pane is in a mode (copy mode): keys would go to the mode, not the agent. */
  inMode?: boolean;
  /** When the session's window last showed output (tmux's window_activity), epoch ms; null when unknown. */
  activityMs?: number | null;
  /** Panes in the session (a person may have added some); 1 when unknown. */
  panes?: number;
}

/** A tmux client (a terminal attached to a session). */
export interface ClientInfo {
  session: string;
  /** The client's last input or output (client_activity), epoch ms; null when unknown. */
  activityMs: number | null;
}

/** How a verified poke went: read and submitted, typed but left on the input line, or never shown. */
export type PokeDelivery = { kind: "consumed" } | { kind: "stranded" } | { kind: "no-echo" };

export interface NewSessionSpec {
  name: string;
  cwd: string;
  /** Put in the first process's own environment (`new-session -e`), not only tmux's session environment. */
  env: Record<string, string>;
  /** The pane's initial process as argv, executed directly by tmux (no shell parses it). */
  argv: string[];
  /** `set-option -t =name KEY VALUE` pairs applied in the same tmux call. */
  options?: Array<[string, string]>;
}

/**
 * How a tmux write went, as data: the core decides on `duplicate` (someone else created the session
 * meanwhile) without knowing the adapter's error classes.
 */
export type TmuxOutcome = { ok: true } | { ok: false; kind: "duplicate" | "no-session" | "no-server" | "failed"; error: string };

export interface TmuxPort {
  /** Every session on the server, one tmux call. An absent server means none. */
  sessions(): Promise<Map<string, SessionInfo>>;
  hasSession(name: string): Promise<boolean>;
  newSession(spec: NewSessionSpec): Promise<TmuxOutcome>;
  killSession(name: string): Promise<void>;
  /** Clear pending input (C-u), type `text` literally, then Enter. */
  poke(name: string, text: string): Promise<void>;
  /** Type `text` literally, then Enter (no clearing). */
  sendLine(name: string, text: string): Promise<void>;
  /**
   * The heartbeat's view: every session (as `sessions()`) and every client, in one tmux call. An absent
   * server means none of either.
   */
  sessionsAndClients(): Promise<{ sessions: Map<string, SessionInfo>; clients: ClientInfo[] }>;
  /** Restart only the agent's own pane (`respawn-pane -k`): the session and any other pane survive. */
  respawnPane(paneId: string): Promise<TmuxOutcome>;
  /** A poke whose delivery is checked: shown on the input line, then consumed (see PokeDelivery). */
  pokeVerified(name: string, text: string): Promise<PokeDelivery>;
}

/** The agent's process, found in the pane's process tree. */
export interface AgentProcess {
  pid: number;
  /** When the process started, epoch ms. */
  startedAtMs: number;
}

/** The process table (/proc), read-only and bounded. */
export interface ProcessPort {
  /** The newest process at or under `panePid` whose name is `command`'s basename; null when none. */
  agentUnder(panePid: number, command: string): AgentProcess | null;
  /** The same for several panes from one read of the process table, in the order asked. */
  agentsUnder(queries: ReadonlyArray<{ panePid: number; command: string }>): Array<AgentProcess | null>;
}

export interface MailMessage {
  id: string;
  title: string;
  sender?: string | undefined;
  status?: string | undefined;
  created_at?: string | undefined;
}

export interface InboxResult {
  messages: MailMessage[];
  /** One line per message that failed validation and was skipped (the rest are still processed). */
  skipped: string[];
}

export interface MailboxPort {
  /** Throws a GtdError (code MAILBOX) when the inbox cannot be read at all. */
  inbox(signal?: AbortSignal): Promise<InboxResult>;
  close(id: string, signal?: AbortSignal): Promise<void>;
  send(to: string, subject: string, body: string, signal?: AbortSignal): Promise<void>;
}

/** Rigs found in the town (rigs.json, else a scan), for the Witness pokes. */
export interface RigDiscovery {
  rigs: string[];
  source: "rigs.json" | "scan";
  warning?: string;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** What a lifecycle action needs to know about its agent before it may act. */
export interface AgentFacts {
  /** Why the agent's directory or state file cannot be trusted (it leads outside the town), or null. */
  outside: string | null;
  /** Whether the agent asked for this action (its `requesting_<action>` flag). */
  flag: VerifyResult;
  workDirExists: boolean;
}

/** The town's files: everything the heartbeat reads or writes besides tmux and mail. */
export interface StorePort {
  /** Why daemon/notifications must not be used (it leads outside the town), or null. */
  slotDirProblem(): string | null;
  listSlotDir(): SlotDirEntry[];
  readSlot(session: string): Slot | CorruptSlot | null;
  /** False when it was already gone. */
  removeSlot(name: string): boolean;
  recordSlot(session: string, text: string, atMs: number): void;
  /** False when there was nothing pending to consume. */
  consumeSlot(session: string, atMs: number): boolean;
  readStamp(path: string): HeartbeatStamp;
  discoverRigs(): RigDiscovery;
  agentFacts(spec: AgentSpec, action: LifecycleAction): AgentFacts;
  /** False when the flag was not there (nothing changed); throws when the file is unreadable. */
  clearFlag(stateFile: string, action: LifecycleAction): boolean;
  saveState(state: DaemonState): void;
  /** Whether the agent command can be found on the PATH the pane will search (read now). */
  findCommand(command: string): { found: boolean; PATH: string | undefined };
  /** daemon/supervise/ for these identities (requests: every valid one waiting). Never throws. */
  supervisionFiles(identities: readonly string[]): SupervisionRead;
  /** Create (on) or remove the agent's hold file; false when it already was so. */
  setHold(identity: string, on: boolean): boolean;
  /** Remove an operator request once acted on; false when it was already gone. */
  takeRequest(identity: string, kind: "restart" | "reset"): boolean;
}

/** The operator's side of supervision as read from daemon/supervise/ (paused.json, holds, loop exits, requests). */
export interface SupervisionRead {
  paused: ReadonlySet<string>;
  holds: ReadonlySet<string>;
  /** What each loop last wrote: how many runs it started, and the last exit status. */
  runs: ReadonlyMap<string, { runs: number; status: number }>;
  requests: ReadonlyArray<{ identity: string; kind: "restart" | "reset" }>;
  /** One line each: a corrupt paused.json (read as nothing paused), the directory leading outside the town. */
  problems: readonly string[];
}

export interface Ports {
  clock: Clock;
  sleep: Sleep;
  tmux: TmuxPort;
  mailbox: MailboxPort;
  store: StorePort;
  /** The process table, for the agent process under a pane (supervision). */
  procs: ProcessPort;
  /** Any other subprocess (git, bd sync), with a timeout. */
  run: Runner;
  log: Log;
  /**
   * Called before an action that assumes this process is the town's only actor (creating or killing a
   * session, a lifecycle action): false means it no longer is, so the action must not happen. The daemon
   * wires its lock check here; absent (unit tests, `gtd tick`) means exclusive.
   */
  exclusive?: () => boolean;
}
