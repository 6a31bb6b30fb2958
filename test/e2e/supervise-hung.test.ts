/**
 * Hung agents through dist/gtd on real tmux, with the moody agent as the Deacon: one that hangs (alive,
 * never reads, never prints, never writes its heartbeat file) is restarted once the pokes rule says so
 * (3 unanswered pokes over supervise.hung.after) and only past supervise.grace, in its own pane, so a
 * pane a person added lives on; one that is idle but answers its pokes (its pane prints) is never
 * restarted, though its heartbeat file is never written. Each test: its own town and tmux server.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../helpers/e2e-town.ts";
import { procAlive, useGtdWorld } from "../helpers/gtd-cli.ts";
import {
  afterHeartbeats, agentRow, EVERY_HEARTBEAT, FAST, heartbeats, logged, moody, record, runs, show, waitForRuns, writeConfig,
} from "../helpers/supervise-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 120_000;
const w = useGtdWorld();
const SESSION = "gt-deacon";
const RESTARTS = /^Restarting Deacon's pane in gt-deacon: hung: (\d+) pokes in a row unanswered over (.+)$/;

test("a hung Deacon is left alone within its grace, then restarted once, in its own pane: a person's pane survives", async () => {
  // The grace comes from config.json so that a reload can end it: within it the hang is plain to see
  // (the pokes rule is met) and nothing may happen, however many heartbeats pass.
  writeConfig(w(), { supervise: { grace: "1h" } });
  const pid = await startDaemon(w(), { ...FAST, ...EVERY_HEARTBEAT, GTD_SUPERVISE_HUNG_AFTER: "2s", GTD_DEACON_COMMAND: moody("hang") });
  const t = w().tmux;
  const [first] = await waitForRuns(t, SESSION, 1);

  // A person splits the Deacon's window and works there.
  const human = (await t.tmux("split-window", "-d", "-P", "-F", "#{pane_id} #{pane_pid}", "-t", `=${SESSION}:`)).trim().split(" ");
  const [humanPane, humanPid] = [human[0]!, Number(human[1])];
  const agentPane = await show(t, `=${SESSION}:`, "#{pane_id}");
  const sessionId = await show(t, `=${SESSION}:`, "#{session_id}");
  expect(agentPane).not.toBe(humanPane);

  // The pokes rule is met: 3 pokes in a row unanswered, the first over hung.after (2s) before the last pass.
  await waitFor(() => {
    const r = record(w(), "deacon");
    const lastPass = Date.parse(String(w().readState().last_heartbeat));
    return r?.pid === first!.pid && r.unanswered >= 3 && lastPass - Date.parse(r.first_unanswered) >= 2_000;
  }, { timeoutMs: 60_000, what: "3 unanswered pokes over 2s" });
  // ... and within the grace nothing happens, heartbeat after heartbeat.
  await afterHeartbeats(w(), 3);
  expect((await runs(t, SESSION)).map((r) => r.pid)).toEqual([first!.pid]);
  expect(logged(w(), /^Restarting/)).toEqual([]);
  expect((await agentRow(w(), "deacon"))?.liveness).toBe("running");

  // The grace ends (a reload with a 1s grace): restarted at once, its own pane re-spawned.
  writeConfig(w(), { supervise: { grace: "1s" } });
  process.kill(pid, "SIGHUP");
  await w().waitForLog("Config reloaded");
  const after = await waitForRuns(t, SESSION, 2);
  expect(after[1]!.pid).not.toBe(first!.pid);
  expect(after[1]).toMatchObject({ argv: "hang", cwd: w().town, role: "deacon" });
  const restarted = logged(w(), RESTARTS);
  expect(restarted.length).toBe(1);
  expect(Number(RESTARTS.exec(restarted[0]!)![1])).toBeGreaterThanOrEqual(3);
  expect(w().logMessages()).toContain("Restarted Deacon (gt-deacon, its own pane only)");
  await waitFor(() => !procAlive(first!.pid), { what: `the hung process ${first!.pid} gone` });

  // The person's pane and its process are untouched; the session is the same one.
  expect(await show(t, humanPane, "#{pane_pid} #{pane_dead}")).toBe(`${humanPid} 0`);
  expect(procAlive(humanPid)).toBe(true);
  expect(await show(t, `=${SESSION}:`, "#{session_id} #{window_panes}")).toBe(`${sessionId} 2`);
  expect(await show(t, `=${SESSION}:`, "#{pane_id}")).toBe(agentPane);

  // Once: the new process is judged by its own pokes, from zero. Its first unanswered poke comes, and
  // still only the one restart (the old process's three never count against it).
  await waitFor(() => {
    const r = record(w(), "deacon");
    return r?.pid === after[1]!.pid && r.unanswered >= 1;
  }, { timeoutMs: 60_000, what: "the new process's first unanswered poke" });
  expect((await runs(t, SESSION)).length).toBe(2);
  expect(logged(w(), RESTARTS).length).toBe(1);
}, T);

test("an idle Deacon that answers its pokes (its pane prints) but never writes its heartbeat file is never restarted", async () => {
  // The same thresholds under which the hung Deacon above is restarted, and no grace to speak of.
  await startDaemon(w(), {
    ...FAST, ...EVERY_HEARTBEAT, GTD_SUPERVISE_HUNG_AFTER: "2s", GTD_SUPERVISE_GRACE: "1s", GTD_DEACON_COMMAND: moody("echo"),
  });
  const t = w().tmux;
  const [only] = await waitForRuns(t, SESSION, 1);
  const pokedFrom = heartbeats(w());
  // Six pokes to this process: each is judged before the next goes out, so five judged, more than the
  // three in a row that would make it hung, over far more than hung.after and the grace.
  // (A restart ends the wait at once: the assertions below then say what went wrong.)
  await waitFor(() => logged(w(), /^Restarting/).length > 0 || logged(w(), /^Poked Deacon/).length >= 7, { timeoutMs: 90_000, what: "seven pokes" });
  await afterHeartbeats(w(), 1);

  expect((await runs(t, SESSION)).map((r) => r.pid)).toEqual([only!.pid]);
  expect(logged(w(), /^Restarting|hung/)).toEqual([]);
  // Its pokes count as answered (one judged silent on a stalled machine would still be far from three).
  expect(record(w(), "deacon")!.unanswered).toBeLessThan(3);
  const row = (await agentRow(w(), "deacon"))!;
  expect(row).toMatchObject({ liveness: "running", restarts: 0 });
  expect(heartbeats(w()) - pokedFrom).toBeGreaterThanOrEqual(7);
  // It did answer on its screen, and never wrote the heartbeat file.
  expect(await t.tmux("capture-pane", "-p", "-t", `=${SESSION}:`)).toContain(" ok");
  expect(existsSync(join(w().town, "deacon", "heartbeat.json"))).toBe(false);
}, T);
