/**
 * Operator intent through dist/gtd on real tmux: a paused supervised agent (the mayor, in
 * supervise.agents and poked) is neither poked nor recreated across heartbeats, a lifecycle request
 * for it (LIFECYCLE mail through the fake bd) is refused with a log line, and `gtd resume` brings it
 * back by the next heartbeat. Each test: its own town and tmux server.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sessionNames, startDaemon } from "../helpers/e2e-town.ts";
import { useGtdWorld } from "../helpers/gtd-cli.ts";
import {
  afterHeartbeats, agentRow, EVERY_HEARTBEAT, FAST, heartbeats, linesRead, logged, moody, runs, waitForRow, waitForRuns,
} from "../helpers/supervise-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 120_000;
const w = useGtdWorld();

test("a paused agent is neither poked nor recreated, its lifecycle request is refused; gtd resume brings it back", async () => {
  const inboxFile = join(w().tmux.root, "inbox.json");
  // The CLI (pause, resume, request) reads the same config as the daemon: supervise.agents from the env.
  const env = {
    ...FAST,
    ...EVERY_HEARTBEAT,
    GTD_SUPERVISE_AGENTS: "mayor",
    GTD_POKE_MAYOR: "true",
    GTD_AGENT_COMMAND: moody("read"),
    GTD_DEACON_COMMAND: moody("read"),
    FAKE_BD_INBOX: inboxFile,
  };
  const gtd = (...args: string[]) => w().run(args, { extraEnv: env });
  const t = w().tmux;
  await startDaemon(w(), env);
  const [first] = await waitForRuns(t, "gt-mayor", 1);
  expect(first).toMatchObject({ argv: "read", cwd: w().town, role: "mayor" });
  // Pokes reach it while it is not paused.
  await waitFor(async () => (await linesRead(t, "gt-mayor")).length > 0, { timeoutMs: 30_000, what: "a poke to the mayor" });

  const paused = await gtd("pause", "mayor");
  expect(paused.stderr).toBe("");
  expect(paused.code).toBe(0);
  await w().waitForLog("Mayor is paused, skipping poke", 30_000);
  const mayorLines = (await linesRead(t, "gt-mayor")).length;
  const deaconLines = (await linesRead(t, "gt-deacon")).length;

  // Not poked: the Deacon takes two more pokes meanwhile, the mayor none (a running agent keeps running).
  await waitFor(async () => (await linesRead(t, "gt-deacon")).length >= deaconLines + 2, { timeoutMs: 60_000, what: "two more pokes to the Deacon" });
  expect((await linesRead(t, "gt-mayor")).length).toBe(mayorLines);
  expect(await agentRow(w(), "mayor")).toMatchObject({ liveness: "paused", paused: true });
  expect((await runs(t, "gt-mayor")).length).toBe(1);

  // Not recreated: its session ends, and heartbeat after heartbeat nothing brings it back.
  await t.tmux("kill-session", "-t", "=gt-mayor");
  await afterHeartbeats(w(), 5);
  expect(await sessionNames(t)).toEqual(["gt-deacon"]);
  expect(logged(w(), /^Started mayor in gt-mayor/)).toHaveLength(1);

  // Its lifecycle request is refused, with a line; the mail is closed, nothing is started.
  const req = await gtd("request", "restart", "--as", "mayor");
  expect(req.code).toBe(0);
  await w().waitForLog("Refusing lifecycle request fake-1 from mayor (restart): mayor is paused (gtd resume mayor)");
  await w().waitForLog("Closed lifecycle message fake-1");
  expect(w().bdCalls().filter((c) => c.argv[0] === "close").map((c) => c.argv[1])).toEqual(["fake-1"]);
  expect(await sessionNames(t)).toEqual(["gt-deacon"]);
  expect((await runs(t, "gt-mayor")).length).toBe(1);
  expect(logged(w(), /Restarted session gt-mayor|Killed session gt-mayor/)).toEqual([]);

  // gtd resume: back by the next heartbeat (the resume's own SIGUSR1 pass may be quicker still).
  const completed = heartbeats(w());
  const resumed = await gtd("resume", "mayor");
  expect(resumed.stderr).toBe("");
  expect(resumed.code).toBe(0);
  const [, second] = await waitForRuns(t, "gt-mayor", 2);
  expect(second).toMatchObject({ argv: "read", cwd: w().town, role: "mayor" });
  const msgs = w().logMessages();
  const started = msgs.lastIndexOf("Started mayor in gt-mayor");
  // The pass under way at the resume may have read paused.json before it; the one after cannot have.
  const deadline = msgs.indexOf(`Heartbeat complete (#${completed + 2})`);
  expect(started).toBeGreaterThan(msgs.indexOf("Started mayor in gt-mayor"));
  if (deadline >= 0) expect(started).toBeLessThan(deadline);
  expect(existsSync(join(w().town, "daemon", "supervise", "mayor.hold"))).toBe(false);
  await waitForRow(w(), "mayor", (r) => r.paused === false && r.liveness === "running", "running again");
  // And poked again.
  await waitFor(async () => (await linesRead(t, "gt-mayor")).length > mayorLines, { timeoutMs: 30_000, what: "a poke to the resumed mayor" });
}, T);
