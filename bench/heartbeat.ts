/**
 * The heartbeat figures: CPU per heartbeat (alternating rounds, a fresh town and daemon each), the
 * subprocesses of a heartbeat (a separate run through counting shims, whose own bash start would
 * otherwise be billed as CPU), resident memory after many heartbeats, and all of it against the number
 * of agents.
 */
import { startDaemon, type RunningDaemon, type Subject, type SubjectName } from "./daemon.ts";
import { callsPerHeartbeat, cpuPerHeartbeat, readCpu, readEachHeartbeat, type HeartbeatCpu } from "./sample.ts";
import { figure, type Figure } from "./stats.ts";
import { createWorld, linesOf, type Tools, type World } from "./world.ts";

export interface Plan {
  rounds: number;
  /** Heartbeats sampled per daemon per round. */
  heartbeats: number;
  /** Heartbeats of the counting run. */
  countHeartbeats: number;
  /** Heartbeats before the memory reading. */
  memoryHeartbeats: number;
  /** Agent counts of the scaling series, and heartbeats sampled at each. */
  agents: number[];
  scalingHeartbeats: number;
}

export interface CpuFigures {
  totalMs: Figure;
  ownMs: Figure;
  childrenMs: Figure;
  tmuxServerMs: Figure;
}

export interface CallFigures {
  perHeartbeat: Figure;
  /** Each call (`tmux list-panes`, `bd mail inbox`) and how many times per heartbeat. */
  calls: Record<string, number>;
}

export interface Context {
  tools: Tools;
  subjects: Subject[];
  notes: string[];
  log: (line: string) => void;
}

function cpuFigures(xs: HeartbeatCpu[]): CpuFigures {
  return {
    totalMs: figure(xs.map((x) => x.totalMs)),
    ownMs: figure(xs.map((x) => x.ownMs)),
    childrenMs: figure(xs.map((x) => x.childrenMs)),
    tmuxServerMs: figure(xs.map((x) => x.serverMs)),
  };
}

async function withDaemon<T>(ctx: Context, s: Subject, world: World, heartbeat: string, counting: boolean, body: (d: RunningDaemon) => Promise<T>): Promise<T> {
  const d = await startDaemon(s, world, { heartbeat, counting, notes: ctx.notes });
  try {
    return await body(d);
  } finally {
    await d.stop();
  }
}

/** One daemon's per-heartbeat CPU on a world (width: see cpuPerHeartbeat). */
async function sampleCpu(ctx: Context, s: Subject, world: World, heartbeats: number): Promise<{ xs: HeartbeatCpu[]; cgroup: boolean }> {
  return withDaemon(ctx, s, world, "1s", false, async (d) => {
    const server = world.serverPid();
    const width = d.group ? 1 : 10;
    const readings = await readEachHeartbeat(d, world, heartbeats * width, readCpu(d, server));
    return { xs: cpuPerHeartbeat(readings, width), cgroup: d.group !== null };
  });
}

async function sampleCalls(ctx: Context, s: Subject, world: World, heartbeats: number): Promise<CallFigures> {
  return withDaemon(ctx, s, world, "1s", true, async (d) => {
    const readings = await readEachHeartbeat(d, world, heartbeats, () => linesOf(world.callsFile).length);
    const { perHeartbeat, kinds } = callsPerHeartbeat(readings, world.callsFile);
    return { perHeartbeat: figure(perHeartbeat), calls: kinds };
  });
}

/** Subjects in alternating order: round 0 as given, round 1 reversed, and so on. */
function order<T>(xs: T[], round: number): T[] {
  return round % 2 === 0 ? xs : [...xs].reverse();
}

export async function cpuRounds(ctx: Context, plan: Plan): Promise<{ cpu: Record<string, CpuFigures>; cgroup: boolean }> {
  const all = new Map<SubjectName, HeartbeatCpu[]>();
  let cgroup = true;
  for (let r = 0; r < plan.rounds; r++) {
    for (const s of order(ctx.subjects, r)) {
      ctx.log(`  cpu round ${r + 1}/${plan.rounds}: ${s.name}, ${plan.heartbeats} heartbeats of 1s`);
      const world = createWorld(ctx.tools, null);
      try {
        const { xs, cgroup: g } = await sampleCpu(ctx, s, world, plan.heartbeats);
        cgroup &&= g;
        all.set(s.name, [...(all.get(s.name) ?? []), ...xs]);
      } finally {
        world.cleanup();
      }
    }
  }
  return { cpu: Object.fromEntries([...all].map(([k, xs]) => [k, cpuFigures(xs)])), cgroup };
}

export async function callRuns(ctx: Context, plan: Plan): Promise<Record<string, CallFigures>> {
  const out: Record<string, CallFigures> = {};
  for (const s of ctx.subjects) {
    ctx.log(`  subprocess count: ${s.name}, ${plan.countHeartbeats} heartbeats through the counting shims`);
    const world = createWorld(ctx.tools, null);
    try {
      out[s.name] = await sampleCalls(ctx, s, world, plan.countHeartbeats);
    } finally {
      world.cleanup();
    }
  }
  return out;
}

export interface MemoryFigures {
  heartbeats: number;
  rssMiB: number;
  hwmMiB: number;
  anonMiB: number;
  fileMiB: number;
}

/** Both daemons at once (each its own town and tmux server): memory does not care about the other. */
export async function memoryRun(ctx: Context, plan: Plan): Promise<Record<string, MemoryFigures>> {
  ctx.log(`  memory: all daemons side by side until heartbeat ${plan.memoryHeartbeats} (1s)`);
  const worlds = ctx.subjects.map(() => createWorld(ctx.tools, null));
  const daemons: RunningDaemon[] = [];
  try {
    for (const [i, s] of ctx.subjects.entries()) daemons.push(await startDaemon(s, worlds[i]!, { heartbeat: "1s", notes: ctx.notes }));
    const out: Record<string, MemoryFigures> = {};
    const timeoutMs = plan.memoryHeartbeats * 3000 + 30_000;
    const started = Date.now();
    await Promise.all(
      daemons.map(async (d, i) => {
        // Keep the towns fresh over the ~100 s: the Deacon must not turn stale and start being poked.
        for (let next = 1; next < plan.memoryHeartbeats; next = Math.min(next + 20, plan.memoryHeartbeats)) {
          await d.waitHeartbeat(next, timeoutMs - (Date.now() - started));
          worlds[i]!.refresh();
        }
        await d.waitHeartbeat(plan.memoryHeartbeats, timeoutMs - (Date.now() - started));
        const m = d.memory();
        out[d.subject] = { heartbeats: plan.memoryHeartbeats, rssMiB: round1(m.rss), hwmMiB: round1(m.hwm), anonMiB: round1(m.anon), fileMiB: round1(m.file) };
      }),
    );
    return out;
  } finally {
    for (const d of daemons) await d.stop();
    for (const w of worlds) w.cleanup();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export interface ScalingPoint {
  agents: number;
  cpu: Record<string, CpuFigures>;
  subprocesses: Record<string, CallFigures>;
}

/** CPU and subprocesses per heartbeat at each agent count, the subjects alternating at each. */
export async function scaling(ctx: Context, plan: Plan): Promise<ScalingPoint[]> {
  const out: ScalingPoint[] = [];
  // The floor daemon watches no agents: its line would be the original's, flat.
  const subjects = ctx.subjects.filter((s) => s.name !== "floor");
  for (const [i, agents] of plan.agents.entries()) {
    const point: ScalingPoint = { agents, cpu: {}, subprocesses: {} };
    for (const s of order(subjects, i)) {
      ctx.log(`  scaling: ${agents} agents, ${s.name}`);
      const world = createWorld(ctx.tools, agents);
      try {
        point.cpu[s.name] = cpuFigures((await sampleCpu(ctx, s, world, plan.scalingHeartbeats)).xs);
        point.subprocesses[s.name] = await sampleCalls(ctx, s, world, plan.countHeartbeats);
      } finally {
        world.cleanup();
      }
    }
    out.push(point);
  }
  return out;
}
