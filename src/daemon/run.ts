/**
 * The daemon in the foreground: the edge where signals, timers and process state live.
 * Order matters: config (refused before anything is written) → lock → signal handlers → PID file and
 * `running: true` → first heartbeat → schedule. Shutdown: stop scheduling, abort waits, let the pass in
 * flight end (bounded), write `running: false`, remove the PID file if it is still ours.
 */
import { closeSync } from "node:fs";
import { loadEffectiveConfig } from "../config/effective.ts";
import type { Config } from "../config/index.ts";
import type { SettingKey } from "../config/settings.ts";
import { installEarlySignals, takeOverSignals } from "../early-signals.ts";
import { GtdError, errorText } from "../errors.ts";
import { formatGoTime } from "../gotime.ts";
import { createFileLog, stderrIsFile } from "../log.ts";
import { redirectStderr } from "./libc.ts";
import type { Ports } from "../ports.ts";
import { readState, writeState, type DaemonState } from "../state.ts";
import { readText, removeStaleTemps, safeUnlink, writeFileAtomic } from "../store.ts";
import { prepareSuperviseDir } from "../supervise-files.ts";
import { Memory, newTickContext } from "../tick/context.ts";
import { runHeartbeat, runLifecyclePass } from "../tick/pipeline.ts";
import type { TownPaths } from "../town.ts";
import { confineDaemonDir, openLogForStart } from "./confine.ts";
import { alreadyRunning, probeDaemon, tickHoldsLock } from "./liveness.ts";
import { acquireLock } from "./lock.ts";
import { selfArgv } from "./launch.ts";
import { LockGuard } from "./lock-guard.ts";
import { PassQueue, type PassKind } from "./pass-queue.ts";
import { createReporting, type Reporting } from "./reporting.ts";
import { startSchedule, type Schedule } from "../schedule.ts";
import { buildPorts } from "./wiring.ts";
import { writeErr } from "../output.ts";

export interface RunDaemonOptions {
  paths: TownPaths;
  flags: Partial<Record<SettingKey, string>>;
  /** Mirror the log to stderr (--foreground in a terminal or under systemd). */
  mirror: boolean;
  /** How long shutdown waits for the pass in flight after aborting its waits. */
  passGraceMs?: number;
}

/** A temp file this old cannot belong to a write in progress (writes take milliseconds). */
const STALE_TEMP_MS = 60_000;

/** Agent identity variables of whoever started us; mail the daemon sends must not carry them (defect #28). */
const INHERITED_IDENTITY = ["GT_ROLE", "GT_IDENTITY", "GT_RIG", "GT_CREW", "GT_POLECAT", "BD_ACTOR", "BEADS_IDENTITY"];

export async function runDaemon(opts: RunDaemonOptions): Promise<number> {
  const { paths } = opts;
  let loaded = await loadEffectiveConfig(paths, process.env, opts.flags);
  let config: Config = loaded.config;

  // Signal handlers are in before the lock is taken (from then on /proc/locks names us, and a SIGUSR1's
  // default action would kill us) and are never removed. Until the daemon is set up they only remember.
  // Under `gtd start` they were installed as main.ts loaded (early-signals.ts); `gtd demo` gets them here.
  installEarlySignals();
  const STOP_NAMES: Record<string, string> = { SIGTERM: "terminated", SIGINT: "interrupt" };

  // daemon/ holds the lock, PID file, state and log: it must not lead outside the town.
  confineDaemonDir(paths);
  const lock = await acquireLock(paths.lockFile);
  if (!lock) {
    const probe = probeDaemon(paths);
    throw probe.tickPid ? tickHoldsLock(probe.tickPid) : alreadyRunning(probe.pid);
  }
  try {
    // A log that is a link (or a FIFO, or a hard link) is refused now, on the user's terminal.
    closeSync(openLogForStart(paths.logFile));
  } catch (err) {
    lock.release();
    throw err;
  }

  const stderrIsLog = stderrIsFile(paths.logFile);
  const fileLog = createFileLog({
    path: paths.logFile,
    maxBytes: config.log.maxBytes,
    files: config.log.files,
    format: config.log.format,
    clock: { now: () => Date.now() },
    mirror: opts.mirror && !stderrIsLog ? writeErr : undefined,
    // Launched by `gtd start`, stderr is the log file: after a rotation it would point at daemon.log.1
    // (and later at a deleted file), losing any crash output. Re-point it at the new daemon.log.
    onRotate: stderrIsLog ? () => redirectStderr(paths.logFile) : undefined,
  });
  // Every log line is a sign of life for the systemd watchdog (reporting.ts).
  let reporting: Reporting | null = null;
  const log = (line: string, event?: string, data?: Record<string, unknown>) => {
    fileLog.log(line, event, data);
    reporting?.progress();
  };
  const memory = new Memory();
  const shutdown = new AbortController();
  let schedule: Schedule | null = null;
  let state: DaemonState;
  const guard = new LockGuard(lock, {
    paths,
    log,
    onRetaken: () => {
      if (stderrIsLog) redirectStderr(paths.logFile); // crash output goes to the new log, not a deleted one
      try {
        writeFileAtomic(paths.pidFile, String(process.pid));
        writeState(paths.stateFile, state);
        return null;
      } catch (err) {
        return `but could not rewrite daemon.pid and state.json: ${errorText(err)}`;
      }
    },
    // Another daemon holds the town: leave at once, before another step runs or state is saved.
    onStepDown: (code) => {
      schedule?.stop();
      shutdown.abort();
      process.exit(code);
    },
  });
  const exclusive = () => guard.exclusive();
  let ports: Ports = buildPorts(config, paths, log, exclusive);
  let stopReason: string | null = null;
  let forceStop: () => void = () => {};
  const forced = new Promise<void>((r) => (forceStop = r));
  let wake: () => void = () => {};
  const stopped = new Promise<void>((r) => (wake = r));

  const pass = async (kind: PassKind) => {
    if (!guard.exclusive()) return; // every pass first checks the lock still names our file
    const ctx = newTickContext({ ports, config, paths, state, signal: shutdown.signal, memory });
    state.extra.next_heartbeat = formatGoTime(schedule?.nextRunMs() ?? null);
    reporting?.passStarted(kind);
    const startedMs = Date.now();
    const done = kind === "heartbeat" ? await runHeartbeat(ctx) : await runLifecyclePass(ctx);
    reporting?.passFinished(kind, done, Date.now() - startedMs);
    // Lifecycle mail left by the per-pass bound: another pass at once (a waiting heartbeat goes first).
    if (done.lifecycleBacklog) queue.request("lifecycle");
  };
  const queue = new PassQueue(pass, (kind, busy) => log(`Heartbeat tick skipped: a ${busy} pass is still running`));

  const onStop = (name: string) => {
    if (stopReason) {
      log(`Received signal ${name} again, not waiting for the current pass`);
      forceStop();
      return;
    }
    stopReason = name;
    log(`Received signal ${name}, shutting down`);
    reporting?.stopping();
    wake();
  };
  const dispatch = (sig: NodeJS.Signals) => {
    if (sig === "SIGUSR1") {
      if (stopReason) return;
      log("Received SIGUSR1, processing lifecycle requests immediately");
      queue.request("lifecycle");
    } else if (sig === "SIGHUP") {
      if (!stopReason) void reload();
    } else {
      onStop(STOP_NAMES[sig] ?? sig);
    }
  };
  // The last line of defence: a bug must be logged, never silently kill the keeper of the town.
  process.on("unhandledRejection", (err) => log(`Error: unhandled failure, carrying on: ${errorText(err)}`));
  process.on("uncaughtException", (err) => {
    log(`Fatal: ${errorText(err)}; exiting`);
    try {
      state.running = false;
      if (guard.exclusive()) writeState(paths.stateFile, state);
    } catch {
      // Nothing more to save.
    }
    process.exit(1);
  });

  const reload = async () => {
    log("Received SIGHUP, reloading config");
    reporting?.reloading();
    try {
      loaded = await loadEffectiveConfig(paths, process.env, opts.flags);
    } catch (err) {
      log(`Config reload refused, keeping the current config: ${err instanceof GtdError ? err.oneLine() : errorText(err)}`);
      reporting?.reloaded();
      return;
    }
    const heartbeatChanged = loaded.config.heartbeat !== config.heartbeat;
    config = loaded.config;
    ports = buildPorts(config, paths, log, exclusive);
    fileLog.configure(config.log.maxBytes, config.log.files, config.log.format);
    if (heartbeatChanged && schedule && !stopReason) {
      schedule.stop();
      schedule = startSchedule(config.heartbeat, () => queue.request("heartbeat"));
    }
    state.extra.heartbeat = config.heartbeat;
    state.extra.next_heartbeat = formatGoTime(schedule?.nextRunMs() ?? null);
    try {
      if (guard.exclusive()) writeState(paths.stateFile, state);
    } catch (err) {
      log(`Warning: failed to save state: ${errorText(err)}`);
    }
    log(`Config reloaded, heartbeat ${schedule?.describe() ?? config.heartbeat}`);
    reporting?.reloaded();
  };

  for (const name of INHERITED_IDENTITY) delete process.env[name];
  lock.writeOwner(String(process.pid));
  log(`Daemon starting (PID ${process.pid})`);
  // Temp files a crash left mid-write (state.json, the PID file): ours, old, and of no use to anyone.
  // Slot temp files need no sweep here: clearStaleSlots removes them on every heartbeat.
  for (const name of removeStaleTemps(paths.daemonDir, Date.now(), STALE_TEMP_MS)) log(`Removed leftover temp file ${name}`);
  const previous = readState(paths.stateFile, Date.now());
  if (previous.problem) {
    log(`Warning: ${paths.stateFile} was unreadable (${previous.problem}); moved to ${previous.movedTo ?? "nowhere"}, starting fresh`);
  }
  for (const line of previous.notes) log(line);
  const superviseProblem = prepareSuperviseDir(paths);
  if (superviseProblem) log(superviseProblem);
  // As the original: a new run starts its own count; gtd's own keys (backoff, requests) carry over.
  state = { ...previous.state, running: true, pid: process.pid, startedAtMs: Date.now(), lastHeartbeatMs: null, heartbeatCount: 0 };
  state.extra.town = paths.root;
  state.extra.heartbeat = config.heartbeat;
  try {
    writeFileAtomic(paths.pidFile, String(process.pid));
    writeState(paths.stateFile, state);
  } catch (err) {
    lock.release();
    throw new GtdError("START_FAILED", `writing PID file: ${errorText(err)}`, `check that ${paths.daemonDir} is writable`);
  }

  guard.watch();
  reporting = createReporting({
    env: process.env,
    pid: process.pid,
    paths,
    log,
    config: () => config,
    executable: selfArgv().at(-1)!,
    now: () => Date.now(),
    saveState: () => {
      try {
        if (guard.exclusive()) writeState(paths.stateFile, state);
      } catch (err) {
        log(`Warning: failed to save state: ${errorText(err)}`);
      }
    },
  });

  // From here signals act; any that came during start-up are acted on now. An early SIGUSR1 needs no
  // pass of its own: the first heartbeat reads the mailbox anyway.
  const early = takeOverSignals(dispatch);
  const earlyStop = early.find((sig) => sig === "SIGTERM" || sig === "SIGINT");
  if (earlyStop) onStop(STOP_NAMES[earlyStop]!);
  if (!stopReason) {
    schedule = startSchedule(config.heartbeat, () => queue.request("heartbeat"));
    log(`Daemon running, heartbeat ${schedule.describe()}`);
    queue.request("heartbeat");
    if (early.includes("SIGHUP")) void reload();
  }

  await stopped;
  schedule?.stop();
  shutdown.abort();
  await Promise.race([queue.close(), forced, new Promise((r) => setTimeout(r, opts.passGraceMs ?? 5000))]);
  log("Daemon shutting down");
  state.running = false;
  // Still ours? (A lost lock is re-taken here; if another daemon holds it, its files are not ours.)
  if (guard.exclusive()) {
    try {
      writeState(paths.stateFile, state);
    } catch (err) {
      log(`Warning: failed to save final state: ${errorText(err)}`);
    }
    // Only our own PID file: a PID file that names another process is not ours to remove.
    if (readText(paths.pidFile)?.trim() === String(process.pid)) safeUnlink(paths.pidFile);
  }
  log("Daemon stopped");
  reporting.close();
  guard.release();
  return 0;
}
