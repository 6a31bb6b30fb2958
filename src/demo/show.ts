/**
 * What the demo shows once the daemon runs, as a list of events. Before each one the demo prints one
 * `▶` line saying what is about to happen; the daemon's own log (mirrored to stderr) shows what it did.
 */
import { existsSync, readFileSync } from "node:fs";
import { probeDaemon } from "../daemon/liveness.ts";
import { selfArgv } from "../daemon/launch.ts";
import { runCommand } from "../proc.ts";
import { readState } from "../state.ts";
import type { TownPaths } from "../town.ts";
import type { DemoTown } from "./town.ts";

export interface ShowOptions {
  town: DemoTown;
  paths: TownPaths;
  /** How long after the daemon is up the mayor asks for its cycle (`--request-after`). */
  requestAfterMs: number;
  /** As the user wrote it (`10s`), for the announcement. */
  requestAfterText: string;
  say: (line: string) => void;
  /** Aborted when the demo ends: every wait stops and a running `gtd request` is killed. */
  signal: AbortSignal;
}

/** How often the demo looks for the daemon being up and for the mayor's restart; the figure it prints is exact to this. */
const POLL_MS = 10;
/** `gtd request` answers in well under a second; this only bounds a wedged one. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How long to watch for the mayor's fresh start before saying it did not come. */
const RESTART_WATCH_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Polls `check` until it is true, the deadline passes (false) or the demo ends (false). */
async function until(check: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted && Date.now() < deadline) {
    if (check()) return true;
    await sleep(POLL_MS, signal);
  }
  return false;
}

function mayorStarts(o: ShowOptions): number {
  if (!existsSync(o.town.mayorLog)) return 0;
  return readFileSync(o.town.mayorLog, "utf8").split("\n").filter((l) => l.startsWith("START ")).length;
}

/**
 * The headline: an agent asks for a cycle the way a real one does (`gtd request cycle`: flag, mail,
 * SIGUSR1), and the daemon verifies, replaces the session and closes the mail within milliseconds.
 */
async function mayorAsksForCycle(o: ShowOptions): Promise<void> {
  o.say(`▶ In ${o.requestAfterText} the mayor asks for a cycle (gtd request cycle --as mayor): flag, mail, SIGUSR1; gtd then replaces its session …`);
  await sleep(o.requestAfterMs, o.signal);
  if (o.signal.aborted) return;
  const before = mayorStarts(o);
  const root = o.town.root;
  // As the mayor's own session would run it: its identity and town in the environment.
  const env = { GT_TOWN_ROOT: root, GT_ROLE: "mayor", GT_IDENTITY: "mayor", BD_ACTOR: "mayor" };
  // When the request's SIGUSR1 reaches this process (the daemon): the start of the figure shown below.
  // One more listener beside the daemon's; it only notes the time.
  let signalledAtMs: number | null = null;
  const noteSignal = () => (signalledAtMs ??= Date.now());
  process.on("SIGUSR1", noteSignal);
  let restarted = false;
  try {
    const r = await runCommand([...selfArgv(), "request", "cycle", "--as", "mayor", "--town", root], {
      cwd: root,
      env,
      timeoutMs: REQUEST_TIMEOUT_MS,
      signal: o.signal,
    });
    if (o.signal.aborted) return;
    for (const line of r.stdout.trimEnd().split("\n").filter(Boolean)) o.say(`  mayor$ ${line}`);
    if (r.code !== 0) {
      o.say(`✗ gtd request cycle failed (exit ${r.code ?? "killed"}): ${r.stderr.split("\n")[0] ?? ""}`);
      return;
    }
    restarted = await until(() => mayorStarts(o) > before, RESTART_WATCH_MS, o.signal);
  } finally {
    process.off("SIGUSR1", noteSignal);
  }
  if (restarted) {
    const after = signalledAtMs === null ? "" : `, ${Date.now() - signalledAtMs} ms after the daemon got the SIGUSR1`;
    o.say(`✓ The mayor runs again in a fresh gt-mayor session${after}`);
  } else if (!o.signal.aborted) {
    o.say(`✗ The mayor was not restarted within ${RESTART_WATCH_MS / 1000}s: see the log above`);
  }
}

// Next event, once the supervision issue lands: a crash-looping agent being held. It goes here, as
// `async function crashLoopingAgentIsHeld(o: ShowOptions)`, with its own ▶ line, and joins EVENTS.

/** The events, in order. */
const EVENTS: Array<(o: ShowOptions) => Promise<void>> = [mayorAsksForCycle];

/** This process holds the town and has finished its first heartbeat (the Deacon is up and poked). */
function daemonSettled(paths: TownPaths): boolean {
  const p = probeDaemon(paths);
  if (!p.running || p.pid !== process.pid) return false;
  const { state } = readState(paths.stateFile, Date.now(), { keepCorrupt: true });
  return state.running && state.pid === process.pid && state.heartbeatCount >= 1;
}

/**
 * Runs the events once the daemon has settled, so each ▶ line comes after the log of what went before;
 * returns early (quietly) when the demo ends.
 */
export async function runShow(o: ShowOptions): Promise<void> {
  const up = () => daemonSettled(o.paths);
  // No deadline worth having: the first heartbeat ends within its own timeouts, or the demo ends.
  while (!o.signal.aborted && !up()) await sleep(POLL_MS, o.signal);
  for (const event of EVENTS) {
    if (o.signal.aborted) return;
    await event(o);
  }
}
