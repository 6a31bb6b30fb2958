/**
 * The `gtd status --json` contract: the object daemonStatus builds, printed as it is, and the one the
 * human view is rendered from. Its JSON Schema is generated from this (npm run schemas) into
 * schemas/status.schema.json; strict objects, so the key set is part of the contract.
 */
import * as v from "valibot";

/** Changes whenever the contract does: a key added, removed or renamed, or a value's type or meaning. */
export const STATUS_SCHEMA_VERSION = 2;

const Time = v.pipe(v.string(), v.isoTimestamp());
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Pid = v.pipe(v.number(), v.integer(), v.minValue(1));
/** The lock's holder: -1 while it holds the lock but its PID cannot be read yet (no /proc, first instant). */
const HolderPid = v.pipe(v.number(), v.integer(), v.minValue(-1));
/** Backoff intervals keep nanosecond precision (Go's durations), so they need not be whole ms. */
const Ms = v.pipe(v.number(), v.minValue(0));
const about = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));

const Poke = v.strictObject({
  agent: about(v.string(), "The agent's identity (deacon, mayor, <rig>-witness)."),
  interval_ms: about(Ms, "How long the daemon waits before the next poke of this agent (the backoff)."),
  last_poke: about(v.nullable(Time), "When it was last poked (RFC 3339); null: never."),
  unanswered: about(Count, "Pokes since the agent last showed activity."),
});

const PendingRequest = v.strictObject({
  id: about(v.string(), "The mail message id."),
  attempts: about(Count, "How many times it was tried."),
  last_error: about(v.nullable(v.string()), "Why the last attempt failed; null: no failure recorded."),
});

/** How a supervised agent is, as the daemon last judged it (README "Supervision"). */
export const LIVENESS = ["running", "restarting", "dead", "missing", "hung", "held", "paused"] as const;
export type Liveness = (typeof LIVENESS)[number];

const Agent = v.strictObject({
  agent: about(v.string(), "The agent's identity (deacon, mayor, <rig>-witness, <rig>-refinery, <rig>-crew-<name>)."),
  session: about(v.string(), "Its tmux session."),
  liveness: about(
    v.picklist(LIVENESS),
    "running: the agent command is alive under the pane; restarting: its in-pane loop is between runs; dead: the pane is dead; missing: no session; hung: pokes went unanswered past the threshold; held: a crash loop put it on hold; paused: gtd pause.",
  ),
  since: about(v.nullable(Time), "Since when it has been so (RFC 3339)."),
  restarts: about(Count, "Restarts (exits and restarts, the in-pane loop's own included) within the crash-loop window."),
  restart_delay_ms: about(Count, "The restart delay now in force: base, doubling per quick restart, up to max; 0: none."),
  held_until: about(v.nullable(Time), "When its crash-loop hold ends by itself (RFC 3339); null: not held."),
  held_why: about(v.nullable(v.string()), "Why it is held: the restart count and the last exit status."),
  paused: about(v.boolean(), "gtd pause put it on hold (daemon/supervise/paused.json): never created, restarted or poked."),
  last_poke: about(v.nullable(Time), "When it was last poked (RFC 3339); null: never."),
  unanswered: about(Count, "Delivered pokes in a row it did not react to (0: the last one was answered)."),
  stranded: about(v.boolean(), "The last poke was typed but never submitted: the agent is alive, its input line is stuck."),
  deferred_why: about(v.nullable(v.string()), "Why a poke is waiting (a person active at the session, copy mode); null: none waiting."),
});

export const StatusSchema = v.strictObject({
  schema_version: about(v.literal(STATUS_SCHEMA_VERSION), "The version of this contract: it changes whenever a key is added, removed or renamed, or a value's type or meaning changes."),
  running: about(v.boolean(), "A daemon holds this town's lock (exit code 0; 3 when false)."),
  pid: about(v.nullable(HolderPid), "The daemon's PID (-1: not known yet); null when not running."),
  town: about(v.string(), "The town root, an absolute path."),
  started_at: about(v.nullable(Time), "When the running daemon started (RFC 3339)."),
  uptime_ms: about(v.nullable(Count), "How long it has been running."),
  last_heartbeat: about(v.nullable(Time), "When its last heartbeat ran (RFC 3339)."),
  heartbeat_count: about(v.nullable(Count), "Heartbeats since it started."),
  heartbeat: about(v.nullable(v.string()), "Its heartbeat as configured: a duration (\"5m\") or a cron pattern."),
  next_heartbeat: about(v.nullable(Time), "When the next heartbeat is due (RFC 3339)."),
  stale_pid_file: about(
    v.nullable(v.strictObject({
      pid: about(v.nullable(Pid), "The PID the file names; null when it names none."),
      content: about(v.string(), "The file's first 40 characters."),
    })),
    "daemon/daemon.pid exists but no daemon holds the lock: its PID is never signalled.",
  ),
  state_problem: about(v.nullable(v.string()), "Why daemon/state.json could not be read, if it could not."),
  tick_pid: about(v.nullable(HolderPid), "A `gtd tick` running in this town right now (it holds the lock; it is not the daemon)."),
  executable_replaced: about(
    v.nullable(v.strictObject({
      path: about(v.string(), "The executable the daemon was started from."),
      noticed_at: about(v.nullable(Time), "When the daemon noticed (RFC 3339); null when state.json does not say."),
    })),
    "gtd's executable was replaced (an upgrade) since this daemon started: it runs the old one until restarted.",
  ),
  pokes: about(v.array(Poke), "Poke backoff per agent, as the daemon last saved it."),
  requests: about(
    v.strictObject({
      pending: about(v.array(PendingRequest), "Tried and not done yet."),
      done: about(Count, "How many it has finished."),
    }),
    "Lifecycle requests the daemon is working on.",
  ),
  agents: about(
    v.array(Agent),
    "One row per supervised agent the running daemon has a record for (the Deacon first); empty when it is not running.",
  ),
});

export type Status = v.InferOutput<typeof StatusSchema>;
