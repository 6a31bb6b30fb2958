/**
 * A/B of gtd builds: the before → after line of an optimisation, measured in one run, alternating. For
 * each build: CPU per heartbeat (fresh Deacon, 1 s heartbeat), RSS at the end of each round, SIGUSR1 →
 * inbox start, and the CPU of the hook commands; the Bun floor daemon and floor binary as reference.
 *
 *   npx bun bench/ab.ts [--rounds 2] [--heartbeats 20] [--signals 30] [--runs 20] before=dist/gtd after=/tmp/gtd-new
 *
 * Build a variant without touching the tree: copy src/ (git archive HEAD src package.json | tar -x -C DIR),
 * change it, `bun build --compile` it with scripts/release.ts's COMPILE_FLAGS.
 */
import { parseArgs } from "node:util";
import { buildFloor, buildFloorDaemon } from "./builds.ts";
import { floorSubject, gtdSubject, startDaemon, type RunningDaemon, type Subject } from "./daemon.ts";
import { cpuPerHeartbeat, readCpu, readEachHeartbeat, type HeartbeatCpu } from "./sample.ts";
import { figure, type Figure } from "./stats.ts";
import { cleanupAll, createWorld, findTools, linesOf } from "./world.ts";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "2" },
    heartbeats: { type: "string", default: "20" },
    signals: { type: "string", default: "30" },
    runs: { type: "string", default: "20" },
  },
});
const builds = positionals.map((p) => {
  const [name, path] = p.split("=");
  if (!name || !path) throw new Error(`expected name=binary, got ${p}`);
  return { name, path };
});
if (builds.length === 0) throw new Error("give at least one name=binary");
const tools = findTools();
const floorDaemon = buildFloorDaemon();
const subjects: Array<{ name: string; s: Subject }> = [
  ...builds.map((b) => ({ name: b.name, s: gtdSubject(b.path) })),
  { name: "floor", s: floorSubject(floorDaemon) },
];
const show = (f: Figure) => `${f.median.toFixed(2)} (p95 ${f.p95.toFixed(2)})`;

async function cpu(): Promise<void> {
  const cpu = new Map<string, HeartbeatCpu[]>();
  const rss = new Map<string, number[]>();
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const x of r % 2 ? [...subjects].reverse() : subjects) {
      console.error(`ab: round ${r + 1}, ${x.name}`);
      const w = createWorld(tools, null);
      const d = await startDaemon(x.s, w, { heartbeat: "1s" });
      try {
        const readings = await readEachHeartbeat(d, w, Number(args.heartbeats), readCpu(d, w.serverPid()));
        cpu.set(x.name, [...(cpu.get(x.name) ?? []), ...cpuPerHeartbeat(readings, d.group ? 1 : 10)]);
        rss.set(x.name, [...(rss.get(x.name) ?? []), d.memory().rss]);
      } finally {
        await d.stop();
        w.cleanup();
      }
    }
  }
  console.log("CPU per heartbeat, ms (total / own / children), RSS MiB at the end of a round:");
  for (const [name, xs] of cpu) {
    console.log(`  ${name.padEnd(16)} ${show(figure(xs.map((x) => x.totalMs)))} / ${show(figure(xs.map((x) => x.ownMs)))} / ${show(figure(xs.map((x) => x.childrenMs)))}  RSS ${show(figure(rss.get(name)!))}`);
  }
}

async function signals(): Promise<void> {
  const worlds = subjects.map(() => createWorld(tools, null));
  const daemons: RunningDaemon[] = [];
  try {
    for (const [i, x] of subjects.entries()) daemons.push(await startDaemon(x.s, worlds[i]!, { heartbeat: "5m" }));
    for (const d of daemons) await d.waitHeartbeat(1, 30_000);
    await Bun.sleep(3000);
    const lat = subjects.map(() => [] as number[]);
    for (let r = 0; r < Number(args.signals); r++) {
      const turn = r % 2 ? [...subjects.keys()].reverse() : [...subjects.keys()];
      for (const i of turn) {
        const before = linesOf(worlds[i]!.stampsFile).length;
        const sentMs = performance.timeOrigin + performance.now();
        process.kill(daemons[i]!.pid, "SIGUSR1");
        await Bun.sleep(150);
        const deadline = Date.now() + 3000;
        let stamps = linesOf(worlds[i]!.stampsFile);
        while (stamps.length <= before && Date.now() < deadline) {
          await Bun.sleep(50);
          stamps = linesOf(worlds[i]!.stampsFile);
        }
        if (stamps.length > before) lat[i]!.push(Number(stamps[before]) * 1000 - sentMs);
        await Bun.sleep(100);
      }
    }
    console.log("SIGUSR1 → inbox command starts, ms:");
    subjects.forEach((x, i) => console.log(`  ${x.name.padEnd(16)} ${show(figure(lat[i]!))}`));
  } finally {
    for (const d of daemons) await d.stop();
    for (const w of worlds) w.cleanup();
  }
}

async function commands(): Promise<void> {
  const w = createWorld(tools, null);
  const d = await startDaemon(subjects[0]!.s, w, { heartbeat: "5m" });
  try {
    await d.waitHeartbeat(1, 30_000);
    const list: Array<[string, string[]]> = [["floor (bun)", [buildFloor()]]];
    for (const b of builds) {
      list.push([`${b.name} --version`, [b.path, "--version"]]);
      list.push([`${b.name} status`, [b.path, "status", "--town", w.town]]);
      list.push([`${b.name} signal`, [b.path, "signal", "--town", w.town]]);
      list.push([`${b.name} request`, [b.path, "request", "cycle", "--as", "mayor", "--town", w.town]]);
    }
    const cpu = list.map(() => [] as number[]);
    const wall = list.map(() => [] as number[]);
    for (let r = 0; r < Number(args.runs); r++) {
      for (let k = 0; k < list.length; k++) {
        const i = (k + r) % list.length;
        const t0 = performance.now();
        const p = Bun.spawnSync(list[i]![1], { env: w.env, stdout: "pipe", stderr: "pipe" });
        wall[i]!.push(performance.now() - t0);
        if (p.exitCode !== 0) throw new Error(`${list[i]![0]}: exit ${p.exitCode}: ${p.stderr.toString().trim()}`);
        cpu[i]!.push(Number(p.resourceUsage.cpuTime.total) / 1000);
        await Bun.sleep(60);
      }
    }
    console.log("commands, whole process: wall ms, CPU ms:");
    list.forEach(([name], i) => console.log(`  ${name.padEnd(24)} ${show(figure(wall[i]!))}  ${show(figure(cpu[i]!))}`));
  } finally {
    await d.stop();
    w.cleanup();
  }
}

try {
  await cpu();
  await signals();
  await commands();
} finally {
  cleanupAll();
}
