/**
 * End-to-end helpers: run the compiled dist/gtd against a temp town on a private tmux server.
 *
 * `createGtdWorld()` gives a test its own town (mayor/town.json), tmux server (createTmuxEnv), fake `bd`
 * call log, and an env for every gtd process: the harness env (PATH with the fakes first, TMUX_TMPDIR)
 * minus anything from the caller's environment that would point gtd elsewhere (GT_TOWN_ROOT, GTD_*);
 * `useGtdWorld()` gives each test of a file a fresh one.
 * `cleanup()` stops every daemon it can find for the town (gtd stop, then SIGKILL), kills processes the
 * test spawned, kills the tmux server and removes the temp dir.
 *
 * Liveness is judged by the lock (`gtd status`) or /proc (state Z counts as gone), never by kill(pid, 0):
 * PID 1 here does not reap orphans, so an exited background daemon can linger as a zombie.
 */
import type { Subprocess } from "bun";
import { afterEach, beforeEach } from "bun:test";
import { existsSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readFakeLog, type FakeCall } from "./fake-log.ts";
import { createTmuxEnv, type TmuxEnv } from "./tmux-env.ts";
import { waitFor } from "./wait.ts";

export const GTD = resolve(import.meta.dir, "../../dist/gtd");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOpts {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

export interface Streamed {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout(): string;
  stderr(): string;
  exited: Promise<number>;
}

/** Spawn dist/gtd with `args`, collecting stdout and stderr as they come (for long-running commands). */
export function spawnGtd(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Streamed {
  const proc = Bun.spawn([GTD, ...args], {
    cwd: opts.cwd,
    env: opts.env as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let err = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of s) add(dec.decode(chunk, { stream: true }));
    add(dec.decode());
  };
  const done = Promise.all([pump(proc.stdout, (t) => (out += t)), pump(proc.stderr, (t) => (err += t))]);
  // Resolves once the process has exited and both pipes are drained, so the output is complete.
  const exited = Promise.all([proc.exited, done]).then(([code]) => code);
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Run dist/gtd to completion (SIGKILL after the timeout, reported as code -1 with a note on stderr). */
export async function runGtd(args: string[], opts: RunOpts = {}): Promise<RunResult> {
  const { proc, stdout, stderr, exited } = spawnGtd(args, { cwd: opts.cwd, env: opts.env });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 15_000);
  const code = await exited;
  clearTimeout(timer);
  return timedOut
    ? { code: -1, stdout: stdout(), stderr: `${stderr()}\n[runGtd: timed out: gtd ${args.join(" ")}]` }
    : { code, stdout: stdout(), stderr: stderr() };
}

/** The fields of /proc/<pid>/stat after `(comm)`, from the state letter on; null when there is none. */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Linux process state letter ("Z" zombie), or null when the process does not exist. */
export function procState(pid: number): string | null {
  return procStatFields(pid)?.[0] ?? null;
}

/**
 * Exists and is not a zombie. A killed multi-threaded process (gtd is one) shows its leader as a zombie
 * while its other threads are still exiting, and its files, the town's lock among them, are closed only
 * when the last thread is gone: it counts as alive until then.
 */
export function procAlive(pid: number): boolean {
  const st = procState(pid);
  if (st === null || st === "X") return false;
  if (st !== "Z") return true;
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      return state !== "Z" && state !== "X";
    });
  } catch {
    return false; // gone while we looked
  }
}

/** Parent PID from /proc/<pid>/stat, or null. */
export function procParent(pid: number): number | null {
  const fields = procStatFields(pid);
  return fields === null ? null : Number(fields[1]);
}

/**
 * Live (non-zombie) gtd daemon processes for this town: cmdline names the town and `--foreground`.
 * A daemon's child between fork and exec (spawning tmux or bd) still shows the daemon's cmdline, so a
 * match whose parent also matches is not counted.
 */
export function daemonPids(town: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (argv.includes("--foreground") && argv.some((a) => a === town || a.startsWith(`${town}/`)) && argv.includes("start")) {
      const pid = Number(name);
      if (procAlive(pid)) pids.push(pid);
    }
  }
  return pids.filter((p) => !pids.includes(procParent(p) ?? -1)).sort((a, b) => a - b);
}

/** `gtd start`'s output when it started a daemon in the background. */
export const DAEMON_STARTED = /^✓ Daemon started \(PID (\d+)\)\n$/;

/** The PID `gtd start` printed in `stdout`; NaN when stdout is not exactly the started line. */
export function startedPid(stdout: string): number {
  return Number(DAEMON_STARTED.exec(stdout)?.[1] ?? NaN);
}

export interface Foreground {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  /** Everything written to stderr so far (the mirrored log). */
  stderr(): string;
  stdout(): string;
  exited: Promise<number>;
}

export interface GtdWorld {
  tmux: TmuxEnv;
  town: string;
  /** The fake bd's call log (FAKE_BD_LOG). */
  bdLog: string;
  env: Record<string, string | undefined>;
  paths: { daemonDir: string; pidFile: string; stateFile: string; logFile: string; configFile: string; lockFile: string };
  /** Run gtd in the town (cwd = town unless given) with the world's env plus `extraEnv`. */
  run(args: string[], opts?: RunOpts & { extraEnv?: Record<string, string | undefined> }): Promise<RunResult>;
  /** Spawn `gtd start --foreground --town <town> ...args` as our child. */
  foreground(args?: string[], extraEnv?: Record<string, string | undefined>): Foreground;
  /**
   * Make every later `bd` call hang for `seconds` before answering (FAKE_BD_SLEEP for calls that start
   * from now on; null switches it off). A running daemon's env is fixed, so a wrapper reads this switch.
   */
  setBdSleep(seconds: number | null): void;
  /** Remember a PID to SIGKILL at cleanup (e.g. an unrelated `sleep`). */
  track(pid: number): void;
  readState(): Record<string, unknown>;
  readPidFile(): string | null;
  readLog(): string;
  /** Log lines without the `YYYY/MM/DD HH:MM:SS ` prefix. */
  logMessages(): string[];
  bdCalls(): FakeCall[];
  inboxCalls(): number;
  /** `gtd status --json`, parsed, with the exit code. */
  status(): Promise<{ code: number; json: Record<string, any> }>;
  waitForLog(text: string | RegExp, timeoutMs?: number): Promise<void>;
  waitForHeartbeats(n: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Wait until status says running with this PID (or any PID). */
  waitRunning(pid?: number, timeoutMs?: number): Promise<number>;
  cleanup(): Promise<void>;
}

const LOG_PREFIX = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /;

function cleanEnv(base: Record<string, string | undefined>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined) continue;
    if (k === "GT_TOWN_ROOT" || k.startsWith("GTD_") || k.startsWith("FAKE_BD_")) continue;
    env[k] = v;
  }
  return env;
}

export async function createGtdWorld(): Promise<GtdWorld> {
  const tmux = await createTmuxEnv();
  const town = realpathSync(await tmux.makeTown());
  // The bd-sleep switch: bin/bd reads a file and execs the fixture (renamed bd.real) with FAKE_BD_SLEEP.
  const sleepSwitch = join(tmux.root, "bd-sleep");
  renameSync(join(tmux.bin, "bd"), join(tmux.bin, "bd.real"));
  writeFileSync(
    join(tmux.bin, "bd"),
    `#!/usr/bin/env bash\nif [ -f '${sleepSwitch}' ]; then export FAKE_BD_SLEEP="$(cat '${sleepSwitch}')"; fi\nexec '${join(tmux.bin, "bd.real")}' "$@"\n`,
    { mode: 0o755 },
  );
  const bdLog = join(tmux.root, "bd.log");
  const env = { ...cleanEnv(tmux.env), FAKE_BD_LOG: bdLog };
  const daemonDir = join(town, "daemon");
  const paths = {
    daemonDir,
    pidFile: join(daemonDir, "daemon.pid"),
    stateFile: join(daemonDir, "state.json"),
    logFile: join(daemonDir, "daemon.log"),
    configFile: join(daemonDir, "config.json"),
    lockFile: join(daemonDir, "daemon.lock"),
  };
  const tracked = new Set<number>();
  const children: Foreground[] = [];
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : null);

  const world: GtdWorld = {
    tmux,
    town,
    bdLog,
    env,
    paths,
    run: (args, opts = {}) =>
      runGtd(args, { cwd: opts.cwd ?? town, timeoutMs: opts.timeoutMs, env: { ...env, ...opts.extraEnv, ...opts.env } }),
    foreground(args = [], extraEnv = {}) {
      const { proc, stderr, stdout } = spawnGtd(["start", "--foreground", "--town", town, ...args], { cwd: town, env: { ...env, ...extraEnv } });
      // `exited` is the process's own exit, not waiting for the pipes to drain.
      const fg: Foreground = { proc, pid: proc.pid, stderr, stdout, exited: proc.exited };
      children.push(fg);
      return fg;
    },
    setBdSleep(seconds) {
      if (seconds === null) rmSync(sleepSwitch, { force: true });
      else writeFileSync(sleepSwitch, String(seconds));
    },
    track: (pid) => void tracked.add(pid),
    readState: () => JSON.parse(read(paths.stateFile) ?? "null"),
    readPidFile: () => read(paths.pidFile),
    readLog: () => read(paths.logFile) ?? "",
    logMessages: () => world.readLog().split("\n").filter(Boolean).map((l) => l.replace(LOG_PREFIX, "")),
    bdCalls: () => readFakeLog(bdLog),
    inboxCalls: () => world.bdCalls().filter((c) => c.argv[0] === "mail" && c.argv[1] === "inbox").length,
    async status() {
      const r = await world.run(["status", "--json"]);
      return { code: r.code, json: JSON.parse(r.stdout) };
    },
    async waitForLog(text, timeoutMs = 10_000) {
      await waitFor(() => world.logMessages().some((m) => (typeof text === "string" ? m.includes(text) : text.test(m))), {
        timeoutMs,
        what: `log line ${String(text)} (log: ${world.logMessages().slice(-8).join(" | ")})`,
      });
    },
    async waitForHeartbeats(n, timeoutMs = 10_000) {
      return waitFor(
        () => {
          const s = world.readState();
          return s && (s.heartbeat_count as number) >= n ? s : null;
        },
        { timeoutMs, what: `heartbeat_count >= ${n}` },
      );
    },
    async waitRunning(pid, timeoutMs = 10_000) {
      return waitFor(
        async () => {
          const s = await world.status();
          return s.code === 0 && s.json.running && (pid === undefined || s.json.pid === pid) ? (s.json.pid as number) : null;
        },
        { timeoutMs, what: `daemon running${pid ? ` as PID ${pid}` : ""}` },
      );
    },
    async cleanup() {
      // Graceful first (so state and PID file are tidy), then SIGKILL whatever is left.
      await world.run(["stop", "--timeout", "3s"], { timeoutMs: 10_000 }).catch(() => null);
      for (const pid of daemonPids(town)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      for (const c of children) {
        try {
          c.proc.kill("SIGKILL");
        } catch {}
      }
      for (const pid of tracked) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await tmux.cleanup();
    },
  };
  return world;
}

/**
 * A fresh world for each test of the calling file (or describe block): registers a beforeEach that
 * creates it and an afterEach that cleans it up; the getter returns the current test's world.
 */
export function useGtdWorld(): () => GtdWorld {
  let world: GtdWorld | undefined;
  beforeEach(async () => {
    world = await createGtdWorld();
  });
  afterEach(async () => {
    await world!.cleanup();
  });
  return () => {
    if (world === undefined) throw new Error("useGtdWorld: no world outside a test");
    return world;
  };
}

/** State letter list for the assertion messages of liveness checks. */
export function describePids(pids: number[]): string {
  return pids.map((p) => `${p}:${procState(p) ?? "-"}:ppid ${procParent(p)}`).join(",");
}
