/**
 * Benchmarks: start-up of the commands hooks call often, the cost of one heartbeat (wall, CPU including
 * subprocesses, subprocess count) and the daemon's resident memory. Prints medians; machines here are
 * noisy, so compare ratios between runs, not single numbers.
 *
 *   npx bun scripts/bench.ts [--runs 20]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../src/config/index.ts";
import { buildPorts } from "../src/daemon/wiring.ts";
import { runCommand, type Runner } from "../src/proc.ts";
import { emptyState } from "../src/state.ts";
import { newTickContext } from "../src/tick/context.ts";
import { runHeartbeat } from "../src/tick/pipeline.ts";
import { townPaths } from "../src/town.ts";

const root = join(import.meta.dir, "..");
const gtd = join(root, "dist", "gtd");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** CPU time of this process's reaped children, from /proc/self/stat (cutime + cstime), in ms. */
function childCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[13]) + Number(f[14]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const town = mkdtempSync(join(tmpdir(), "gtd-bench-"));
const tmuxDir = join(town, ".tmux");
mkdirSync(join(town, "mayor"), { recursive: true });
mkdirSync(join(town, "deacon"), { recursive: true });
mkdirSync(tmuxDir);
writeFileSync(join(town, "mayor", "town.json"), '{"type":"town","version":1,"name":"bench"}');
process.env.TMUX_TMPDIR = tmuxDir;
delete process.env.TMUX;

try {
  spawnSync(process.execPath, [join(root, "scripts", "build.ts"), "--if-stale"], { stdio: "inherit" });
  console.log(`gtd bench: ${RUNS} runs each, medians (${new Date().toISOString()})`);

  // 1. Start-up of the commands scripts and hooks call often.
  for (const args of [["--version"], ["status", "--town", town], ["signal", "--town", town], ["config", "--town", town]]) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      spawnSync(gtd, args, { stdio: "ignore" });
      times.push(performance.now() - t0);
    }
    console.log(`  gtd ${args[0]!.padEnd(10)} start-up  ${fmt(median(times))}`);
  }

  // 2. One heartbeat in process against a real tmux server: a Deacon that exists and is fresh
  //    (the steady state), with an empty mailbox.
  spawnSync("tmux", ["start-server", ";", "set-option", "-g", "exit-empty", "off"]);
  spawnSync("tmux", ["new-session", "-d", "-s", "gt-deacon", "-c", town, "sleep", "100000"]);
  const config = defaultConfig();
  config.mailbox.inbox = ["echo", "null"];
  let calls = 0;
  const counting: Runner = (argv, o) => {
    calls++;
    return runCommand(argv, o);
  };
  const paths = townPaths(town);
  const ports = { ...buildPorts(config, paths, () => {}), run: counting };
  const { createTmux } = await import("../src/tmux.ts");
  const { createMailbox } = await import("../src/lifecycle/mailbox.ts");
  ports.tmux = createTmux({ socket: null, timeoutMs: 5000, run: counting });
  ports.mailbox = createMailbox({ inbox: config.mailbox.inbox, close: config.mailbox.close, send: config.mailbox.send, cwd: town, timeoutMs: 5000, run: counting });
  const state = emptyState();
  const walls: number[] = [];
  const cpus: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    writeFileSync(join(town, "deacon", "heartbeat.json"), JSON.stringify({ timestamp: new Date().toISOString() }));
    calls = 0;
    const c0 = selfCpuMs() + childCpuMs();
    const t0 = performance.now();
    await runHeartbeat(newTickContext({ ports, config, paths, state }));
    walls.push(performance.now() - t0);
    cpus.push(selfCpuMs() + childCpuMs() - c0);
    counts.push(calls);
  }
  console.log(`  heartbeat (fresh deacon)  wall ${fmt(median(walls))}, cpu ${fmt(median(cpus))} (with subprocesses), ${median(counts)} subprocesses`);
  console.log("    the original: 27 ms CPU with 3 subprocesses per heartbeat (reference figure)");

  // 3. Resident memory of a foreground daemon after a few heartbeats.
  // 1s: the shortest heartbeat gtd accepts; ten of them take about 9 s.
  const daemon = Bun.spawn([gtd, "start", "--foreground", "--town", town, "--heartbeat", "1s"], {
    stdout: "ignore",
    stderr: "ignore",
    env: { ...process.env, GTD_MAILBOX_INBOX: '["echo","null"]' },
  });
  const deadline = Date.now() + 20_000;
  let rssKb = 0;
  while (Date.now() < deadline) {
    await Bun.sleep(200);
    try {
      const st = JSON.parse(readFileSync(join(town, "daemon", "state.json"), "utf8"));
      if (st.heartbeat_count >= 10) {
        rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))?.[1] ?? 0);
        break;
      }
    } catch {
      // Not written yet.
    }
  }
  daemon.kill("SIGTERM");
  await daemon.exited;
  console.log(`  daemon RSS after 10 heartbeats  ${(rssKb / 1024).toFixed(1)} MiB`);
} finally {
  spawnSync("tmux", ["kill-server"]);
  rmSync(town, { recursive: true, force: true });
}
