/**
 * Where the daemon's own CPU per heartbeat goes: the daemon from source under Bun's sampling profiler
 * (--cpu-prof; a compiled binary cannot be profiled this way) on a bench town with a 1 s heartbeat.
 * Only the samples between heartbeat 2 and the last are counted (start-up, module loading and the
 * first JIT are excluded), and each is billed to its leaf function (self) and to every distinct frame
 * on its stack (inclusive), per heartbeat. The cgroup figure beside it says how much of the daemon's
 * CPU the JS samples cover (the rest is the runtime's own threads: GC, JIT, allocator).
 *
 *   npx bun bench/profile.ts [--heartbeats 60] [--agents N] [--interval-us 250] [--top 25]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpuDelta } from "./cpu.ts";
import { startDaemon, type Subject } from "./daemon.ts";
import { cleanupAll, createWorld, findTools } from "./world.ts";

const { values: args } = parseArgs({
  options: {
    heartbeats: { type: "string", default: "60" },
    agents: { type: "string" },
    "interval-us": { type: "string", default: "250" },
    top: { type: "string", default: "25" },
  },
});
const heartbeats = Number(args.heartbeats);
const top = Number(args.top);
const root = join(import.meta.dir, "..");

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function frameName(n: Node): string {
  const f = n.callFrame;
  const file = f.url.replace(`file://${root}/`, "").replace(/^file:\/\//, "");
  return `${f.functionName || "(anonymous)"} ${file}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ""}`;
}

function fileOf(n: Node): string {
  const url = n.callFrame.url.replace(`file://${root}/`, "");
  const nm = /node_modules\/([^/]+)/.exec(url);
  return nm ? `node_modules/${nm[1]}` : url || n.callFrame.functionName;
}

function analyse(p: Profile, fromUs: number, toUs: number, intervalUs: number, beats: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const files = new Map<string, number>();
  let t = p.startTime;
  let counted = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    counted++;
    const leaf = byId.get(p.samples[i]!)!;
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    add(self, frameName(leaf));
    add(files, fileOf(leaf));
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!);
      if (!seen.has(name)) add(incl, name);
      seen.add(name);
    }
  }
  const perBeat = (count: number) => ((count * intervalUs) / 1000 / beats).toFixed(2).padStart(7);
  const list = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, c]) => `${perBeat(c)} ms  ${k}`).join("\n");
  return [
    `samples in the window: ${counted} × ${intervalUs} µs = ${perBeat(counted).trim()} ms per heartbeat of JS-visible time`,
    "",
    "self time per heartbeat (leaf function):",
    list(self),
    "",
    "inclusive time per heartbeat (function on the stack):",
    list(incl),
    "",
    "self time per heartbeat by file / package:",
    list(files),
  ].join("\n");
}

async function main(): Promise<void> {
  const world = createWorld(findTools(), args.agents === undefined ? null : Number(args.agents));
  const profDir = join(world.root, "prof");
  const intervalUs = Number(args["interval-us"]);
  const subject: Subject = {
    name: "gtd",
    argv: (town, hb) => [
      process.execPath, "--cpu-prof", `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${intervalUs}`,
      join(root, "src", "main.ts"), "start", "--foreground", "--town", town, "--heartbeat", hb,
    ],
  };
  try {
    const d = await startDaemon(subject, world, { heartbeat: "1s" });
    const first = await d.waitHeartbeat(2, 60_000);
    const c0 = d.counters();
    console.error(`profile: sampling ${heartbeats} heartbeats of the daemon from source`);
    for (let n = 22; n < 2 + heartbeats; n += 20) {
      await d.waitHeartbeat(n, 60_000);
      world.refresh();
    }
    const last = await d.waitHeartbeat(2 + heartbeats, heartbeats * 3000 + 30_000);
    const c1 = d.counters();
    await d.stop();
    const beats = last.count - first.count;
    const cpu = cpuDelta(c0, c1);
    const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no profile written in ${profDir}`);
    const p = JSON.parse(readFileSync(join(profDir, file), "utf8")) as Profile;
    console.log(`daemon from source, ${beats} heartbeats: ${(cpu.totalMs / beats).toFixed(2)} ms CPU per heartbeat with children, ${(cpu.ownMs / beats).toFixed(2)} ms its own`);
    console.log(analyse(p, first.atMs * 1000, last.atMs * 1000, intervalUs, beats));
  } finally {
    world.cleanup();
    cleanupAll();
  }
}

await main();
