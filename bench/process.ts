/**
 * Figures between heartbeats: idle CPU with a 5 min heartbeat, SIGUSR1 → the inbox command starting, and
 * the whole-process time of the commands hooks run, against the floor of a compiled binary.
 */
import { cpuDelta, threadTimes } from "./cpu.ts";
import { startDaemon, type RunningDaemon } from "./daemon.ts";
import type { Context } from "./heartbeat.ts";
import { figure, round, type Figure } from "./stats.ts";
import { createWorld, linesOf, type World } from "./world.ts";

export interface IdleFigures {
  seconds: number;
  /** CPU of the daemon and its children over the whole idle period, ms. */
  totalMs: number;
  ownMs: number;
  /** The same per window, to show it is steady (ms per window). */
  perWindowMs: Figure;
  windowSeconds: number;
  /** The daemon's own idle CPU by thread name, ms (threads that exited meanwhile are missing). */
  threadsMs: Record<string, number>;
}

/** Per-thread CPU between two threadTimes readings, summed by thread name (tids dropped). */
function byThreadName(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, ns] of Object.entries(b)) {
    const name = k.slice(0, k.lastIndexOf(" "));
    out[name] = round((out[name] ?? 0) + (ns - (a[k] ?? 0)) / 1e6);
  }
  return Object.fromEntries(Object.entries(out).filter(([, ms]) => ms > 0).sort((x, y) => y[1] - x[1]));
}

/** A wall-clock time with microseconds, comparable with bash's $EPOCHREALTIME. */
function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * All daemons side by side with a 5 min heartbeat (so nothing but a signal makes them work): first
 * `windows` × `windowSeconds` of idle CPU, then `signals` rounds of SIGUSR1, alternating daemons.
 */
export async function idleAndSignals(
  ctx: Context,
  opts: { windows: number; windowSeconds: number; signals: number },
): Promise<{ idle: Record<string, IdleFigures>; sigusr1Ms: Record<string, Figure> }> {
  const worlds = ctx.subjects.map(() => createWorld(ctx.tools, null));
  const daemons: RunningDaemon[] = [];
  try {
    for (const [i, s] of ctx.subjects.entries()) daemons.push(await startDaemon(s, worlds[i]!, { heartbeat: "5m", notes: ctx.notes }));
    for (const d of daemons) await d.waitHeartbeat(1, 30_000);
    // The start-up heartbeat's children are reaped and its timers settled (gtd's JIT works on for ~1 s).
    await Bun.sleep(5000);

    ctx.log(`  idle: ${opts.windows} × ${opts.windowSeconds} s with a 5m heartbeat, all daemons at once`);
    const first = daemons.map((d) => d.counters());
    const firstThreads = daemons.map((d) => threadTimes(d.pid));
    const perWindow = daemons.map(() => [] as number[]);
    let prev = first;
    for (let w = 0; w < opts.windows; w++) {
      await Bun.sleep(opts.windowSeconds * 1000);
      const now = daemons.map((d) => d.counters());
      now.forEach((c, i) => perWindow[i]!.push(cpuDelta(prev[i]!, c).totalMs));
      prev = now;
    }
    const lastThreads = daemons.map((d) => threadTimes(d.pid));
    const idle: Record<string, IdleFigures> = {};
    daemons.forEach((d, i) => {
      const total = cpuDelta(first[i]!, prev[i]!);
      idle[d.subject] = {
        seconds: opts.windows * opts.windowSeconds,
        totalMs: round(total.totalMs),
        ownMs: round(total.ownMs),
        perWindowMs: figure(perWindow[i]!),
        windowSeconds: opts.windowSeconds,
        threadsMs: byThreadName(firstThreads[i]!, lastThreads[i]!),
      };
    });

    ctx.log(`  SIGUSR1 → inbox command: ${opts.signals} signals each, alternating`);
    const latencies = daemons.map(() => [] as number[]);
    for (let r = 0; r < opts.signals; r++) {
      const turn = r % 2 === 0 ? daemons.map((_, i) => i) : daemons.map((_, i) => i).reverse();
      for (const i of turn) {
        const ms = await signalOnce(daemons[i]!, worlds[i]!);
        if (ms !== null) latencies[i]!.push(ms);
      }
    }
    const sigusr1Ms: Record<string, Figure> = {};
    daemons.forEach((d, i) => (sigusr1Ms[d.subject] = figure(latencies[i]!)));
    return { idle, sigusr1Ms };
  } finally {
    for (const d of daemons) await d.stop();
    for (const w of worlds) w.cleanup();
  }
}

/** One SIGUSR1, timed from just before kill() to the fake bd's stamp; null if no inbox call came. */
async function signalOnce(d: RunningDaemon, world: World): Promise<number | null> {
  const before = linesOf(world.stampsFile).length;
  const sentMs = wallMs();
  process.kill(d.pid, "SIGUSR1");
  // The stamp is written by bd itself, so waiting does not move it: no tight polling to compete for CPU.
  await Bun.sleep(150);
  const deadline = Date.now() + 3000;
  for (;;) {
    const stamps = linesOf(world.stampsFile);
    if (stamps.length > before) {
      // Let the pass finish (inbox parsed, nothing to do) before the next signal.
      await Bun.sleep(100);
      return Number(stamps[before]!) * 1000 - sentMs;
    }
    if (Date.now() > deadline) return null;
    await Bun.sleep(50);
  }
}

export interface CommandFigures {
  argv: string;
  wallMs: Figure;
  cpuMs: Figure;
}

/**
 * Whole-process times, one of each command per round in rotating order, with a gtd daemon running (5 min
 * heartbeat) so `status` and `signal` find it. The fake bd's `mail send` stores nothing, so each
 * `request`'s signal makes an empty lifecycle pass, never an action.
 */
export async function commands(
  ctx: Context,
  opts: { runs: number; gtd: string; floors: Record<string, string> },
): Promise<Record<string, CommandFigures>> {
  const gtdSubject = ctx.subjects.find((s) => s.name === "gtd")!;
  const world = createWorld(ctx.tools, null);
  const d = await startDaemon(gtdSubject, world, { heartbeat: "5m", notes: ctx.notes });
  try {
    await d.waitHeartbeat(1, 30_000);
    const town = world.town;
    const list: Array<[string, string[]]> = [
      ...Object.entries(opts.floors).map(([name, bin]): [string, string[]] => [name, [bin]]),
      ["gtd --version", [opts.gtd, "--version"]],
      ["gtd status", [opts.gtd, "status", "--town", town]],
      ["gtd signal", [opts.gtd, "signal", "--town", town]],
      ["gtd request", [opts.gtd, "request", "cycle", "--as", "mayor", "--town", town]],
    ];
    ctx.log(`  commands: ${list.map(([n]) => n).join(", ")}, ${opts.runs} runs each, rotating`);
    const wall = list.map(() => [] as number[]);
    const cpu = list.map(() => [] as number[]);
    for (let r = 0; r < opts.runs; r++) {
      for (let k = 0; k < list.length; k++) {
        const i = (k + r) % list.length;
        const [name, argv] = list[i]!;
        const t0 = performance.now();
        const p = Bun.spawnSync(argv, { cwd: town, env: world.env, stdout: "pipe", stderr: "pipe" });
        const ms = performance.now() - t0;
        if (p.exitCode !== 0) throw new Error(`${name} exited ${p.exitCode}: ${p.stderr.toString().trim()}`);
        wall[i]!.push(ms);
        cpu[i]!.push(Number(p.resourceUsage.cpuTime.total) / 1000);
        // A signal or request starts a lifecycle pass in the daemon: let it end before the next run.
        await Bun.sleep(60);
      }
    }
    return Object.fromEntries(list.map(([name, argv], i) => [name, { argv: argv.map((a) => (a === town ? "<town>" : a.replace(/^.*\//, ""))).join(" "), wallMs: figure(wall[i]!), cpuMs: figure(cpu[i]!) }]));
  } finally {
    await d.stop();
    world.cleanup();
  }
}
