/**
 * supervise.agents through dist/gtd on real tmux: a witness listed there is created in its rig (the
 * directory lifecycle maps it to), with its role in the environment and its rig's theme, and when its pane
 * dies it is repaired in place: the pane re-spawned, the session (and its options) kept. Each test: its
 * own town and tmux server.
 */
import { expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sessionNames, startDaemon } from "../helpers/e2e-town.ts";
import { procAlive, useGtdWorld } from "../helpers/gtd-cli.ts";
import { FAST, logged, moody, runs, show, waitForRow, waitForRuns } from "../helpers/supervise-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 60_000;
const w = useGtdWorld();
const SESSION = "gt-gastown-witness";

test("a supervise.agents witness is created in its rig with its theme, and its dead pane is re-spawned in the same session", async () => {
  const rig = join(w().town, "gastown");
  mkdirSync(rig);
  const t = w().tmux;
  // As in a user's tmux.conf: a pane whose process ends stays, dead, instead of closing its session.
  await t.tmux("set-option", "-g", "remain-on-exit", "on");
  await startDaemon(w(), { ...FAST, GTD_SUPERVISE_AGENTS: "gastown-witness", GTD_AGENT_COMMAND: moody("read"), GTD_DEACON_COMMAND: moody("read") });

  const [first] = await waitForRuns(t, SESSION, 1);
  expect(first).toMatchObject({ argv: "read", cwd: rig, role: "witness" });
  expect(await sessionNames(t)).toEqual(["gt-deacon", SESSION]);
  expect(logged(w(), /gt-gastown-witness/)).toEqual(expect.arrayContaining([
    "gastown-witness session not running, starting gt-gastown-witness",
    "Started gastown-witness in gt-gastown-witness",
  ]));
  // The rig's theme (the original's palette: gastown is teal) and its status line, as lifecycle sets them.
  const options = async () => (await t.tmux("show-options", "-t", `=${SESSION}:`)).split("\n");
  expect(await options()).toEqual(expect.arrayContaining([
    'status-style "bg=#0d5c63,fg=#e0e0e0"',
    'status-left "[gastown/witness] witness "',
  ]));
  expect(await show(t, `=${SESSION}:`, "#{pane_current_path}")).toBe(rig);
  await waitForRow(w(), "gastown-witness", (r) => r.liveness === "running", "running");

  // Its pane dies: the in-pane loop is killed, and the agent with it.
  const sessionId = await show(t, `=${SESSION}:`, "#{session_id}");
  const paneId = await show(t, `=${SESSION}:`, "#{pane_id}");
  const loopPid = Number(await show(t, `=${SESSION}:`, "#{pane_pid}"));
  process.kill(loopPid, "SIGKILL");
  await waitFor(async () => (await show(t, `=${SESSION}:`, "#{pane_dead}")) === "1" || (await runs(t, SESSION)).length > 1, { what: "the pane dead" });

  // Repaired: the same pane re-spawned in the same session, the witness running in its rig again.
  const [, second] = await waitForRuns(t, SESSION, 2);
  expect(second).toMatchObject({ argv: "read", cwd: rig, role: "witness" });
  await waitFor(() => !procAlive(first!.pid), { what: `the first witness ${first!.pid} gone` });
  expect(await show(t, `=${SESSION}:`, "#{session_id} #{pane_id} #{pane_dead}")).toBe(`${sessionId} ${paneId} 0`);
  expect(Number(await show(t, `=${SESSION}:`, "#{pane_pid}"))).not.toBe(loopPid);
  expect(await options()).toContain('status-style "bg=#0d5c63,fg=#e0e0e0"');
  expect(logged(w(), /gastown-witness's pane/)).toEqual(["Restarting gastown-witness's pane in gt-gastown-witness: its pane is dead"]);
  expect(w().logMessages()).toContain("Restarted gastown-witness (gt-gastown-witness, its own pane only)");
  expect(logged(w(), /^Started gastown-witness/)).toHaveLength(1);
  await waitForRow(w(), "gastown-witness", (r) => r.liveness === "running", "running again");
}, T);
