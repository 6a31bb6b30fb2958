/**
 * The floor of a Bun daemon: the least a compiled Bun program can spend on gtd's heartbeat, so the
 * bench can say how much of gtd's cost is the runtime's and how much is gtd's own.
 *
 * Each heartbeat does the I/O a heartbeat of gtd does with a fresh Deacon and nothing to act on: two log
 * lines appended, the session list (one tmux call), the Deacon's heartbeat.json read and parsed, the
 * inbox (one bd call) parsed, state.json written through a temp file and a rename. Commands are spawned
 * directly with Bun.spawn (no shell), as the original's exec.Command does. SIGUSR1 reads the inbox.
 * BENCH_FLOOR_SPAWN=shell spawns through `bash -c`, as zx did, to measure what the shell costs.
 *
 *   floor-daemon --town DIR --heartbeat 1s
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const argv = process.argv.slice(2);
const arg = (name: string) => argv[argv.indexOf(name) + 1] ?? "";
const town = arg("--town");
const m = /^(\d+)(ms|s|m)$/.exec(arg("--heartbeat") || "5m");
const heartbeatMs = m ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as "ms" | "s" | "m"] : 300_000;
const shell = process.env.BENCH_FLOOR_SPAWN === "shell";
const daemonDir = join(town, "daemon");
mkdirSync(daemonDir, { recursive: true });
const logFile = join(daemonDir, "daemon.log");
const stateFile = join(daemonDir, "state.json");
const state = { running: true, pid: process.pid, started_at: new Date().toISOString(), last_heartbeat: "", heartbeat_count: 0 };

function log(line: string): void {
  appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

function saveState(): void {
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${stateFile}.tmp`, stateFile);
}

async function run(cmd: string[]): Promise<string> {
  const p = Bun.spawn(shell ? ["bash", "-c", 'exec "$@"', "bash", ...cmd] : cmd, { cwd: town, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return out;
}

async function inbox(): Promise<number> {
  const out = await run(["bd", "mail", "inbox", "--identity", "deacon/", "--json"]);
  try {
    const list = JSON.parse(out) as unknown;
    return Array.isArray(list) ? list.length : 0;
  } catch {
    return 0;
  }
}

let busy = Promise.resolve();
function queue(work: () => Promise<void>): void {
  busy = busy.then(work, work);
}

async function heartbeat(): Promise<void> {
  log("Heartbeat starting");
  const panes = await run(["tmux", "list-panes", "-a", "-F", "#{session_name}\t#{pane_dead}\t#{pane_current_command}"]);
  const sessions = new Set(panes.split("\n").map((l) => l.split("\t")[0]));
  let fresh = false;
  try {
    const hb = JSON.parse(readFileSync(join(town, "deacon", "heartbeat.json"), "utf8")) as { timestamp?: string };
    fresh = Date.now() - Date.parse(hb.timestamp ?? "") < 120_000;
  } catch {}
  if (sessions.has("gt-deacon") && fresh) log("Deacon is fresh, skipping poke");
  await inbox();
  state.heartbeat_count++;
  state.last_heartbeat = new Date().toISOString();
  saveState();
  log(`Heartbeat complete (#${state.heartbeat_count})`);
}

process.on("SIGUSR1", () => queue(async () => void (await inbox())));
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    state.running = false;
    saveState();
    process.exit(0);
  });
}
saveState();
const startedMs = Date.now();
let n = 0;
// Ticks at start + k × interval, as gtd's schedule does, never drifting with the heartbeat's length.
function arm(): void {
  n++;
  setTimeout(() => {
    queue(heartbeat);
    arm();
  }, Math.max(0, startedMs + n * heartbeatMs - Date.now()));
}
queue(heartbeat);
arm();
