/**
 * Crash loops through dist/gtd on real tmux: an agent that dies at once (the moody agent in crash mode,
 * exit status 7) is restarted by its in-pane loop with the growing delay, counted by gtd, and held after
 * the fifth restart (supervise.crashLoop.restarts, default 5): the hold shows in `status --json`, nothing
 * starts while it lasts, it decays after supervise.crashLoop.hold, and `gtd reset` ends it at once.
 * Each test: its own town and tmux server.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../helpers/e2e-town.ts";
import { useGtdWorld } from "../helpers/gtd-cli.ts";
import { afterHeartbeats, agentRow, FAST, logged, moody, runs, waitForRow, waitForRuns } from "../helpers/supervise-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 120_000;
const w = useGtdWorld();
const GO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const HELD_WHY = /^(\d+) restarts within 1m0s, last exit status 7$/;

/** The delays the in-pane loop announced, in seconds, oldest first (the pane's whole history). */
async function loopDelays(session: string): Promise<number[]> {
  const screen = await w().tmux.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", `=${session}:`);
  return [...screen.matchAll(/exited \(status \d+\)\. Restarting in (\d+)s\.\.\./g)].map((m) => Number(m[1]));
}

const holdFile = (id: string) => join(w().town, "daemon", "supervise", `${id}.hold`);

/** Waits for the hold and checks what status --json, the hold file and the log say about it; returns the runs so far. */
async function expectHeld(agent: string, session: string) {
  const row = await waitForRow(w(), agent, (r) => r.liveness === "held", "held after a crash loop", 60_000);
  // Five restarts (default crashLoop.restarts) within the window put it on hold; the count a pass sees
  // can only overshoot if two exits fall between two passes of a loaded machine.
  const count = Number(HELD_WHY.exec(row.held_why)?.[1]);
  expect(row.held_why).toMatch(HELD_WHY);
  expect(count).toBeGreaterThanOrEqual(5);
  expect(row).toMatchObject({ agent, session, restarts: count, paused: false });
  expect(row.held_until).toMatch(GO_TIME);
  expect(Date.parse(row.held_until)).toBeGreaterThan(Date.parse(row.since));
  expect(existsSync(holdFile(agent))).toBe(true);
  expect(logged(w(), /^Holding /)).toContain(
    `Holding ${agent === "deacon" ? "Deacon" : agent}: ${row.held_why}; not restarting it for ${agent === "deacon" ? "6s" : "1h0m0s"} (gtd reset ${agent} to retry now)`,
  );
  const started = (await runs(w().tmux, session)).length;
  expect(started).toBeGreaterThanOrEqual(count);
  return { row, started };
}

test("a crash-looping Deacon is held after the fifth restart; the hold shows in status --json and decays after crashLoop.hold", async () => {
  await startDaemon(w(), {
    ...FAST,
    GTD_SUPERVISE_CRASH_LOOP_WITHIN: "1m",
    GTD_SUPERVISE_CRASH_LOOP_HOLD: "6s",
    GTD_DEACON_COMMAND: moody("crash:7"),
  });
  const { row, started } = await expectHeld("deacon", "gt-deacon");
  expect(Date.parse(row.held_until) - Date.parse(row.since)).toBe(6_000);
  // The loop's own delay grew from restart.base (1s) and stopped at restart.max (2s).
  const delays = await loopDelays("gt-deacon");
  expect(delays.slice(0, 3)).toEqual([1, 2, 2]);
  expect(Math.max(...delays)).toBe(2);

  // The hold decays by itself: said, the hold file goes, the loop runs the agent again, and status
  // shows no hold (until the next five crashes, some seconds later).
  await w().waitForLog("Deacon's crash-loop hold is over; it may run again", 30_000);
  await waitForRuns(w().tmux, "gt-deacon", started + 1);
  await waitFor(() => !existsSync(holdFile("deacon")), { what: "the hold file removed" });
  const released = await waitForRow(w(), "deacon", (r) => r.liveness !== "held", "no longer held");
  expect(released).toMatchObject({ held_until: null, held_why: null });
  expect(released.restarts).toBeLessThan(5);
}, T);

test("a held supervise.agents agent stays held for crashLoop.hold (1h) until gtd reset clears it", async () => {
  // gtd reset reads supervise.agents too: the same env for it as for the daemon.
  const env = {
    ...FAST,
    GTD_SUPERVISE_AGENTS: "mayor",
    GTD_SUPERVISE_CRASH_LOOP_WITHIN: "1m",
    GTD_AGENT_COMMAND: moody("crash:7"),
    GTD_DEACON_COMMAND: moody("read"),
  };
  await startDaemon(w(), env);
  const { row, started } = await expectHeld("mayor", "gt-mayor");
  expect(Date.parse(row.held_until) - Date.parse(row.since)).toBe(3_600_000);
  // Held: the loop waits on the hold file; no run starts across several heartbeats (the loop's own
  // delay, 2s, ends within them).
  await afterHeartbeats(w(), 4);
  expect((await runs(w().tmux, "gt-mayor")).length).toBe(started);
  expect((await agentRow(w(), "mayor"))?.liveness).toBe("held");

  const r = await w().run(["reset", "mayor"], { extraEnv: env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  await w().waitForLog("Reset mayor: hold, restart count and delay cleared (gtd reset)");
  // Cleared: the hold file goes, the loop runs the agent again, and status says so.
  await waitForRuns(w().tmux, "gt-mayor", started + 1);
  expect(existsSync(holdFile("mayor"))).toBe(false);
  const after = (await runs(w().tmux, "gt-mayor")).at(-1)!;
  expect(after).toMatchObject({ argv: "crash:7", cwd: w().town, role: "mayor" });
  // It crashes again, so it will be held again after five more: the reset's row comes first.
  const cleared = await waitForRow(w(), "mayor", (x) => x.held_until === null, "the hold cleared");
  expect(cleared.held_why).toBeNull();
  expect(cleared.liveness).not.toBe("held");
  expect(cleared.restarts).toBeLessThan(5);
}, T);

test("an agent that exits after a stable run is restarted at the base delay each time (restart.resetAfter), never held", async () => {
  // Runs of 2s count as stable (resetAfter 1s), and a 5s window never holds five starts.
  await startDaemon(w(), {
    ...FAST,
    GTD_SUPERVISE_RESTART_RESET_AFTER: "1s",
    GTD_SUPERVISE_CRASH_LOOP_WITHIN: "5s",
    GTD_DEACON_COMMAND: moody("exit-after:2:4"),
  });
  const all = await waitForRuns(w().tmux, "gt-deacon", 4, 60_000);
  expect(all.map((r) => r.argv)).toEqual(["exit-after:2:4", "exit-after:2:4", "exit-after:2:4", "exit-after:2:4"]);
  expect(new Set(all.map((r) => r.pid)).size).toBe(4);
  const delays = await loopDelays("gt-deacon");
  expect(delays.length).toBeGreaterThanOrEqual(3);
  expect(new Set(delays)).toEqual(new Set([1]));
  expect(await w().tmux.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "=gt-deacon:")).toContain("Deacon exited (status 4). Restarting in 1s...");
  // Counted as restarts, never a crash loop.
  await waitForRow(w(), "deacon", (r) => r.restarts >= 1, "its restarts counted");
  expect(logged(w(), /^Holding /)).toEqual([]);
  expect(existsSync(holdFile("deacon"))).toBe(false);
}, T);
