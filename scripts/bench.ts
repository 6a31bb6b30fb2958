/**
 * npm run bench: gtd against the original Go daemon (when it can be built) and against the floor of a
 * compiled Bun binary, in one run, on fake towns with private tmux servers. Prints the tables and writes
 * bench/results.json and bench/cpu-per-heartbeat.svg (with --quick: bench/quick/, not committed).
 * Method and figures: BENCHMARKS.md. Timing lives here, never in tests.
 *
 *   npx bun scripts/bench.ts [--quick] [--only cpu,calls,memory,idle,commands,scaling]
 *                            [--agents 0,10,100] [--original <gastown clone>] [--no-original]
 *                            [--gtd <binary>] [--out <dir>]
 *
 * --gtd measures another build of gtd (an experiment: e.g. built with --compile-exec-argv=--smol) in
 * place of dist/gtd, which is then neither built nor touched; give it an --out of its own.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildFloor, buildFloorDaemon, buildOriginal, type OriginalBuild } from "../bench/builds.ts";
import { floorSubject, gtdSubject, originalSubject, type Subject } from "../bench/daemon.ts";
import { callRuns, cpuRounds, memoryRun, scaling, type Context, type Plan } from "../bench/heartbeat.ts";
import { commands, idleAndSignals } from "../bench/process.ts";
import { formatTables, machine, type Results } from "../bench/report.ts";
import { cpuChart } from "../bench/svg.ts";
import { cleanupAll, findTools } from "../bench/world.ts";

const PHASES = ["cpu", "calls", "memory", "idle", "commands", "scaling"] as const;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    agents: { type: "string" },
    original: { type: "string" },
    "no-original": { type: "boolean", default: false },
    gtd: { type: "string" },
    out: { type: "string" },
  },
});

/** Full: about 12 minutes on 2 cores. Quick: about 2, enough to see that every phase works. */
const plan: Plan & { idleWindows: number; idleWindowSeconds: number; signals: number; commandRuns: number } = args.quick
  ? { rounds: 1, heartbeats: 8, countHeartbeats: 3, memoryHeartbeats: 15, agents: [0, 10, 100], scalingHeartbeats: 5, idleWindows: 3, idleWindowSeconds: 3, signals: 8, commandRuns: 8 }
  : { rounds: 3, heartbeats: 30, countHeartbeats: 5, memoryHeartbeats: 100, agents: [0, 10, 100], scalingHeartbeats: 20, idleWindows: 6, idleWindowSeconds: 10, signals: 30, commandRuns: 30 };
if (args.agents) plan.agents = args.agents.split(",").map(Number);
const only = new Set(args.only ? args.only.split(",") : PHASES);
for (const p of only) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only: unknown phase ${p} (phases: ${PHASES.join(", ")})`);

const root = join(import.meta.dir, "..");
const outDir = args.out ?? (args.quick ? join(root, "bench", "quick") : join(root, "bench"));
const gtd = args.gtd ?? join(root, "dist", "gtd");
const log = (line: string) => console.error(line);

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

function sh(argv: string[]): string {
  return Bun.spawnSync(argv, { cwd: root, stdout: "pipe", stderr: "pipe" }).stdout.toString().trim();
}

async function main(): Promise<void> {
  const started = performance.now();
  log(`bench: building ${args.gtd ? "" : "dist/gtd (if stale), "}the Bun floors and the original`);
  if (!args.gtd) {
    const build = Bun.spawnSync([process.execPath, join(root, "scripts", "build.ts"), "--if-stale"], { stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) throw new Error("building dist/gtd failed");
  }
  const floorBun = buildFloor();
  const floorDaemon = buildFloorDaemon();
  const original: OriginalBuild = args["no-original"] ? { ok: false, why: "--no-original" } : buildOriginal(args.original);
  if (!original.ok) log(`bench: the original is not measured: ${original.why}`);

  const subjects: Subject[] = [gtdSubject(gtd), ...(original.ok ? [originalSubject(original.daemon)] : []), floorSubject(floorDaemon)];
  const notes: string[] = [];
  const ctx: Context = { tools: findTools(), subjects, notes, log };
  const m = machine(original.ok ? original.go : null);
  const dirty = sh(["git", "status", "--porcelain", "--", "src", "package.json"]) !== "";
  const results: Results = {
    version: 1,
    date: new Date().toISOString(),
    quick: args.quick ?? false,
    durationSeconds: 0,
    machine: m,
    gtd: { binary: args.gtd ?? "dist/gtd", version: sh([gtd, "--version"]), commit: `${sh(["git", "rev-parse", "--short", "HEAD"])}${dirty ? " + uncommitted changes" : ""}` },
    original: original.ok ? { built: true, commit: original.commit, source: original.source } : { built: false, why: original.why },
    method: { cpuAccounting: "", heartbeat: "1s for the per-heartbeat figures, 5m for idle, signals and commands", notes },
    figures: { cpuPerHeartbeat: {}, subprocessesPerHeartbeat: {}, sigusr1ToInboxMs: {}, memory: {}, idle: {}, commands: {}, scaling: [] },
  };
  const F = results.figures;

  let cgroup = true;
  if (only.has("cpu")) {
    log("bench: CPU per heartbeat (fresh Deacon, 1s heartbeat), alternating rounds");
    const r = await cpuRounds(ctx, plan);
    F.cpuPerHeartbeat = r.cpu;
    cgroup = r.cgroup;
  }
  if (only.has("calls")) F.subprocessesPerHeartbeat = await callRuns(ctx, plan);
  if (only.has("memory")) F.memory = await memoryRun(ctx, plan);
  if (only.has("idle")) {
    const r = await idleAndSignals(ctx, { windows: plan.idleWindows, windowSeconds: plan.idleWindowSeconds, signals: plan.signals });
    F.idle = r.idle;
    F.sigusr1ToInboxMs = r.sigusr1Ms;
  }
  if (only.has("commands")) {
    const floors: Record<string, string> = { "floor (bun)": floorBun, ...(original.ok ? { "floor (go)": original.floorGo } : {}) };
    F.commands = await commands(ctx, { runs: plan.commandRuns, gtd, floors });
  }
  if (only.has("scaling")) F.scaling = await scaling(ctx, plan);

  results.method.cpuAccounting = cgroup
    ? "a cgroup per daemon (every process it starts, exited ones included, ns); the daemon's own share from its threads' schedstat (ns); children = the difference"
    : "no cgroup could be made: /proc ticks (10 ms), per-heartbeat figures are means over windows of 10 heartbeats";
  m.loadavg.end = loadavg()[0]!;
  results.durationSeconds = Math.round((performance.now() - started) / 1000);

  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  if (F.scaling.length > 0) {
    const sub = `1 s heartbeat; agents live and fresh: watched, never restarted or poked; ${m.nproc} cores`;
    writeFileSync(join(outDir, "cpu-per-heartbeat.svg"), cpuChart(F.scaling, "CPU per heartbeat against the number of agents", sub));
  }
  console.log(formatTables(results));
  log(`bench: wrote ${join(outDir, "results.json")} in ${results.durationSeconds} s`);
}

main()
  .catch((err: unknown) => {
    cleanupAll();
    console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  })
  .then(() => cleanupAll());
