/**
 * Whole heartbeats (runHeartbeat) against a real private tmux server with the fake agent as `claude`:
 * the Deacon is created, repaired and poked as a user would see it in the agent's own log.
 * Absence ("no HEARTBEAT arrived") is checked by typing a marker line afterwards and waiting for it:
 * input reaches the agent in order, so anything sent before the marker is in the log before it.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defaultConfig, type Config } from "../../src/config/index.ts";
import { formatGoTime } from "../../src/gotime.ts";
import { createProcessPort } from "../../src/proc-tree.ts";
import { emptyState, type DaemonState } from "../../src/state.ts";
import { Memory, newTickContext } from "../../src/tick/context.ts";
import { runHeartbeat } from "../../src/tick/pipeline.ts";
import { townStore } from "../../src/tick/town-store.ts";
import { townPaths, type TownPaths } from "../../src/town.ts";
import { fakeClock, fakeMailbox, fakeRunner, type FakeClock } from "../helpers/fake-ports.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

const MIN = 60_000;
const SLOW = 30_000;
const DEACON_TEXT = "HEARTBEAT: run your rounds";

let t: TmuxEnv;
let town: string;
let paths: TownPaths;
/** One daemon's worth of memory across the heartbeats of a test. */
let daemon: { state: DaemonState; memory: Memory; clock: FakeClock; logs: string[] };

beforeEach(async () => {
  t = await createTmuxEnv();
  town = await t.makeTown();
  paths = townPaths(town);
  // Starts at the real time: slot files carry real mtimes, which the cleanup step compares with "now".
  daemon = { state: emptyState(), memory: new Memory(), clock: fakeClock(Date.now()), logs: [] };
});
afterEach(async () => {
  await t.cleanup();
});


/** One heartbeat; returns the lines it logged. */
async function heartbeat(config: Config = defaultConfig()): Promise<string[]> {
  const from = daemon.logs.length;
  const ports = {
    clock: daemon.clock,
    sleep: async () => {},
    tmux: t.port,
    mailbox: fakeMailbox(),
    // The agent command is looked up on the harness PATH (where the fake claude is), not this process's.
    store: townStore(paths, { path: () => t.env.PATH }),
    procs: createProcessPort(),
    run: fakeRunner(),
    log: (m: string) => void daemon.logs.push(m),
  };
  await runHeartbeat(newTickContext({ ports, config, paths, state: daemon.state, memory: daemon.memory }));
  return daemon.logs.slice(from);
}

function deaconSeen(ageMs: number): void {
  mkdirSync(dirname(paths.deaconHeartbeat), { recursive: true });
  writeFileSync(paths.deaconHeartbeat, JSON.stringify({ timestamp: formatGoTime(daemon.clock.now() - ageMs) }));
}

const linesOf = async (session: string) =>
  (await t.agentLog(session)).split("\n").filter((l) => l.startsWith("LINE ")).map((l) => l.slice(5));

async function started(session: string, times = 1): Promise<string[]> {
  return waitFor(async () => {
    const starts = (await t.agentLog(session)).split("\n").filter((l) => l.startsWith("START "));
    return starts.length >= times ? starts : undefined;
  }, { what: `${times} START line(s) in ${session}` });
}

async function waitLine(session: string, text: string): Promise<string[]> {
  return waitFor(async () => {
    const lines = await linesOf(session);
    return lines.includes(text) ? lines : undefined;
  }, { what: `"${text}" in ${session}` });
}

let markers = 0;
/** Everything the agent in `session` has read so far, once a fresh marker line has arrived after it. */
async function everythingTyped(session: string): Promise<string[]> {
  const marker = `MARKER-${++markers}`;
  await t.port.sendLine(session, marker);
  const lines = await waitLine(session, marker);
  return lines.slice(0, lines.indexOf(marker)).filter((l) => !l.startsWith("MARKER-"));
}

async function agent(session: string): Promise<void> {
  await t.port.newSession({ name: session, cwd: town, env: {}, argv: ["claude"] });
  await started(session);
}

test("creates the Deacon: the loop runs the agent in the town root with GT_ROLE=deacon, themed", async () => {
  const lines = await heartbeat();
  expect(lines).toContain("Deacon session not running, starting...");
  expect(lines).toContain("Deacon session started successfully");
  expect(lines.some((l) => l.includes("not found"))).toBe(false);
  const [start] = await started("gt-deacon");
  expect(start).toBe(`START argv=--dangerously-skip-permissions cwd=${town} GT_ROLE=deacon session=gt-deacon`);
  expect((await t.tmux("show-options", "-t", "=gt-deacon:", "-v", "status-style")).trim()).toBe("bg=#2d1f3d,fg=#c0b0d0");
  expect((await t.tmux("show-options", "-t", "=gt-deacon:", "-v", "status-left")).trim()).toBe("[Deacon] health-check");
}, SLOW);

test("gt-deacon is created beside gt-deacon-old, and nothing is typed into -old", async () => {
  await agent("gt-deacon-old");
  const lines = await heartbeat();
  expect(lines).toContain("Deacon session started successfully");
  expect(lines).toContain("Poked Deacon (very stale, backoff now: 7m30s)");
  await waitLine("gt-deacon", DEACON_TEXT);
  expect(await everythingTyped("gt-deacon-old")).toEqual([]);
}, SLOW);

test("recreated after someone kills it", async () => {
  deaconSeen(0);
  await heartbeat();
  await started("gt-deacon");
  await t.tmux("kill-session", "-t", "=gt-deacon");
  daemon.clock.advance(5 * MIN);
  deaconSeen(0);
  const lines = await heartbeat();
  expect(lines).toContain("Deacon session not running, starting...");
  expect(lines).toContain("Deacon session started successfully");
  await started("gt-deacon", 2);
}, SLOW);

test("an existing gt-deacon is left alone", async () => {
  deaconSeen(0);
  await heartbeat();
  await started("gt-deacon");
  const created = await t.tmux("display-message", "-p", "-t", "=gt-deacon:", "#{session_created}");
  const lines = await heartbeat();
  expect(lines.filter((l) => l.includes("Deacon session"))).toEqual([]);
  expect(await t.tmux("display-message", "-p", "-t", "=gt-deacon:", "#{session_created}")).toBe(created);
}, SLOW);

test("a very stale Deacon gets exactly one poke within the backoff window, the next one after it", async () => {
  for (const minute of [0, 2, 4, 6]) {
    if (minute) daemon.clock.advance(2 * MIN);
    const lines = await heartbeat();
    expect(lines).toContain(minute === 0 ? "Poked Deacon (very stale, backoff now: 7m30s)" : "Deacon backoff in effect (interval: 7m30s), skipping poke");
  }
  await started("gt-deacon");
  expect(await everythingTyped("gt-deacon")).toEqual([DEACON_TEXT]);
  daemon.clock.advance(2 * MIN); // minute 8: 7m30s have passed
  expect(await heartbeat()).toContain("Poked Deacon (very stale, backoff now: 11m15s)");
  expect(await everythingTyped("gt-deacon")).toEqual([DEACON_TEXT, DEACON_TEXT]);
}, SLOW);

test("a fresh Deacon gets no poke", async () => {
  for (let i = 0; i < 3; i++) {
    deaconSeen(10_000);
    expect(await heartbeat()).toContain("Deacon is fresh, skipping poke");
    daemon.clock.advance(5 * MIN);
  }
  await started("gt-deacon");
  expect(await everythingTyped("gt-deacon")).toEqual([]);
}, SLOW);

test("pending typed input is cleared before the poke", async () => {
  deaconSeen(0);
  await heartbeat();
  await started("gt-deacon");
  await t.tmux("send-keys", "-t", "=gt-deacon:", "-l", "junk");
  rmSync(paths.deaconHeartbeat);
  expect(await heartbeat()).toContain("Poked Deacon (very stale, backoff now: 7m30s)");
  expect(await waitLine("gt-deacon", DEACON_TEXT)).toEqual([DEACON_TEXT]);
}, SLOW);

function withRig(): void {
  mkdirSync(join(town, "rigA", ".beads"), { recursive: true });
}

test("mayor and witness are poked when enabled", async () => {
  withRig();
  await agent("gt-mayor");
  await agent("gt-rigA-witness");
  deaconSeen(0);
  const config = defaultConfig();
  config.poke = { mayor: true, witnesses: true };
  const lines = await heartbeat(config);
  expect(lines).toContain("Poked Mayor (very stale, backoff now: 7m30s)");
  expect(lines).toContain("Poked witness for rigA (very stale, backoff now: 7m30s)");
  expect(await waitLine("gt-mayor", "HEARTBEAT: check your rigs")).toEqual(["HEARTBEAT: check your rigs"]);
  expect(await waitLine("gt-rigA-witness", "HEARTBEAT: check your workers")).toEqual(["HEARTBEAT: check your workers"]);
}, SLOW);

test("mayor and witness are not poked by default", async () => {
  withRig();
  await agent("gt-mayor");
  await agent("gt-rigA-witness");
  deaconSeen(0);
  const lines = await heartbeat();
  expect(lines.some((l) => /Mayor|witness/i.test(l))).toBe(false);
  expect(await everythingTyped("gt-mayor")).toEqual([]);
  expect(await everythingTyped("gt-rigA-witness")).toEqual([]);
}, SLOW);
