/**
 * The two daemons under test and a handle on one running instance: started in a cgroup of its own when
 * possible (bench/cpu.ts), its heartbeats read from the state.json both write, stopped with SIGTERM.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { counterReader, createCpuGroup, inGroup, memoryMiB, type CpuCounters, type CpuGroup } from "./cpu.ts";
import { onInterrupt, type World } from "./world.ts";

export type SubjectName = "gtd" | "original" | "floor";

export interface Subject {
  name: SubjectName;
  /** The argv of a foreground daemon on `town` with this heartbeat ("1s", "5m": both read the same). */
  argv(town: string, heartbeat: string): string[];
}

export function gtdSubject(binary: string): Subject {
  return { name: "gtd", argv: (town, hb) => [binary, "start", "--foreground", "--town", town, "--heartbeat", hb] };
}

/** bench/original/main.go: the original's daemon package with the heartbeat as a flag. */
export function originalSubject(binary: string): Subject {
  return { name: "original", argv: (town, hb) => [binary, "--town", town, "--heartbeat", hb] };
}

/** bench/floor-daemon.ts: a heartbeat's I/O and nothing else, the floor of a Bun daemon. */
export function floorSubject(binary: string): Subject {
  return { name: "floor", argv: (town, hb) => [binary, "--town", town, "--heartbeat", hb] };
}

export interface Heartbeat {
  count: number;
  /** When state.json was last written (the end of the last heartbeat), Date.now() clock. */
  atMs: number;
}

export interface RunningDaemon {
  subject: SubjectName;
  pid: number;
  group: CpuGroup | null;
  counters(): CpuCounters;
  heartbeat(): Heartbeat | null;
  /** Waits until heartbeat_count reaches `count`. */
  waitHeartbeat(count: number, timeoutMs: number): Promise<Heartbeat>;
  memory(): ReturnType<typeof memoryMiB>;
  stop(): Promise<void>;
}

export interface StartOptions {
  heartbeat: string;
  /** The counting environment (tmux shim, BENCH_CALLS) instead of the plain one. */
  counting?: boolean;
  /** Reasons the cgroup could not be made are appended here. */
  notes?: string[];
}

/** Both daemons write state.json without a rename, so a read can see it half-written: null then. */
function readHeartbeat(stateFile: string): Heartbeat | null {
  try {
    const atMs = statSync(stateFile).mtimeMs;
    const st = JSON.parse(readFileSync(stateFile, "utf8")) as { heartbeat_count?: unknown };
    return typeof st.heartbeat_count === "number" ? { count: st.heartbeat_count, atMs } : null;
  } catch {
    return null;
  }
}

export async function startDaemon(subject: Subject, world: World, opts: StartOptions): Promise<RunningDaemon> {
  world.resetDaemonDir();
  const stateFile = join(world.town, "daemon", "state.json");
  const group = createCpuGroup(opts.notes);
  const argv = subject.argv(world.town, opts.heartbeat);
  // The shell moves itself into the group, then execs the daemon: the daemon's PID is the shell's.
  const cmd = group ? ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', group.procsFile, ...argv] : argv;
  const proc = Bun.spawn(cmd, {
    cwd: world.town,
    env: opts.counting ? world.countingEnv : world.env,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const pid = proc.pid;
  const forget = onInterrupt(() => {
    proc.kill("SIGKILL");
    group?.remove();
  });
  let exited = false;
  void proc.exited.then(() => (exited = true));
  let usable = group;
  if (group) {
    // The shell moves itself in as it starts (on a loaded machine that can take a while); the move can
    // also fail silently (a container without cgroup delegation): then fall back to /proc ticks.
    const deadline = Date.now() + 3000;
    while (!inGroup(pid, group) && !exited && Date.now() < deadline) await Bun.sleep(20);
    if (!inGroup(pid, group)) {
      opts.notes?.push(`pid ${pid} did not enter ${group.dir}: /proc ticks for this run`);
      usable = null;
    }
  }

  const heartbeat = () => readHeartbeat(stateFile);
  const counters = counterReader(pid, usable);
  const daemon: RunningDaemon = {
    subject: subject.name,
    pid,
    group: usable,
    counters,
    heartbeat,
    async waitHeartbeat(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hb = heartbeat();
        if (hb && hb.count >= count) return hb;
        if (exited) throw new Error(`${subject.name} exited (code ${proc.exitCode}): ${await new Response(proc.stderr).text()}`);
        if (Date.now() > deadline) throw new Error(`${subject.name}: heartbeat ${count} not reached in ${timeoutMs} ms (at ${hb?.count ?? "none"})`);
        await Bun.sleep(25);
      }
    },
    memory: () => memoryMiB(pid),
    async stop() {
      if (!exited) {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
        await proc.exited;
        clearTimeout(timer);
      }
      forget();
      group?.remove();
    },
  };
  return daemon;
}
