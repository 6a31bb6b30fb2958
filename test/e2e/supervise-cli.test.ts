/**
 * The operator's commands through dist/gtd: `gtd pause`, `resume`, `restart` and `reset` write what the
 * daemon reads (daemon/supervise/), exit 0/1/2/3 as documented, name the agents gtd knows when given one it
 * does not, and wake a running daemon (its log says "Received SIGUSR1"). And `status` shows the supervised
 * agents: `agents[]` in --json and a table on a terminal. Each test: its own town and tmux server.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { LIVENESS } from "../../src/contracts/status.ts";
import { startDaemon } from "../helpers/e2e-town.ts";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 40_000;
const w = useGtdWorld();
/** The mayor and a witness are supervised too; a long heartbeat, so a pass that runs at once is the signal's. */
const SUPERVISED = { GTD_SUPERVISE_AGENTS: "mayor,gastown-witness" };

const dir = () => join(w().town, "daemon", "supervise");
const paused = () => JSON.parse(readFileSync(join(dir(), "paused.json"), "utf8")).paused as string[];
const hold = (id: string) => existsSync(join(dir(), `${id}.hold`));
const requests = () => (existsSync(join(dir(), "requests")) ? readdirSync(join(dir(), "requests")).sort() : []);
const received = () => w().logMessages().filter((m) => m.startsWith("Received SIGUSR1")).length;

async function gtd(args: string[], extraEnv: Record<string, string> = SUPERVISED) {
  return w().run(args, { extraEnv });
}

test("no daemon: pause writes paused.json and the hold file at once (0700 directory), exit 0, and says when it takes effect", async () => {
  const r = await gtd(["pause", "mayor"]);
  expect(r).toEqual({
    code: 0,
    stdout:
      "✓ Paused mayor: not created, restarted or poked until gtd resume\n" +
      "  A running agent keeps running; when it exits, it is not started again\n" +
      "○ The daemon is not running: the pause holds from its start\n",
    stderr: "",
  });
  expect(paused()).toEqual(["mayor"]);
  expect(hold("mayor")).toBe(true);
  expect(statSync(dir()).mode & 0o777).toBe(0o700);
  // Again: nothing changes, still exit 0. Other forms of the name are the same agent.
  expect(await gtd(["pause", "Mayor"])).toEqual({ code: 0, stdout: "✓ mayor was already paused\n", stderr: "" });

  const all = await gtd(["pause", "--all"]);
  expect(all.code).toBe(0);
  expect(all.stdout).toStartWith("✓ Paused deacon, gastown-witness: not created, restarted or poked until gtd resume (mayor already paused)\n");
  expect(paused()).toEqual(["deacon", "gastown-witness", "mayor"]);
  expect(["deacon", "mayor", "gastown-witness"].map(hold)).toEqual([true, true, true]);
}, T);

test("no daemon: resume removes from paused.json (the hold stays for the daemon to lift), --all resumes every paused one", async () => {
  await gtd(["pause", "--all"]);
  const one = await gtd(["resume", "gastown/witness"]);
  expect(one).toEqual({
    code: 0,
    stdout: "✓ Resumed gastown-witness: the daemon brings it back at its next pass\n○ The daemon is not running: it comes back when it starts (gtd start)\n",
    stderr: "",
  });
  expect(paused()).toEqual(["deacon", "mayor"]);
  // Only the daemon knows whether it holds the agent itself (a crash loop), so only it removes the hold.
  expect(hold("gastown-witness")).toBe(true);
  expect((await gtd(["resume", "gastown-witness"])).stdout).toBe("✓ gastown-witness was not paused\n");
  const all = await gtd(["resume", "--all"]);
  expect(all.code).toBe(0);
  expect(all.stdout).toStartWith("✓ Resumed deacon, mayor: the daemon brings them back at its next pass\n");
  expect(paused()).toEqual([]);
  expect((await gtd(["resume", "--all"])).stdout).toBe("✓ No agent was paused\n");
}, T);

test("pauses and resumes run at once lose nothing: each one's change is in paused.json", async () => {
  const crew = ["a", "b", "c", "d", "e"].map((n) => `gastown-crew-${n}`);
  const env = { GTD_SUPERVISE_AGENTS: ["mayor", ...crew].join(",") };
  const paused1 = await Promise.all(["mayor", ...crew].map((id) => gtd(["pause", id], env)));
  expect(paused1.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
  expect(paused()).toEqual([...crew, "mayor"]);
  const resumed = await Promise.all(crew.slice(0, 3).map((id) => gtd(["resume", id], env)));
  expect(resumed.map((r) => r.code)).toEqual([0, 0, 0]);
  expect(paused()).toEqual([...crew.slice(3), "mayor"]);
}, T);

test("an unknown agent is an error (exit 1) that names the agents gtd knows; nothing is written", async () => {
  for (const args of [["pause", "gastown-refinery"], ["resume", "nobody-witness"], ["restart", "mayor"], ["reset", "../../etc"]]) {
    const r = await gtd(args, {});
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
    expect(r.stderr).toMatch(/^gtd: unknown agent "[^"]+"( \(.*\))?: gtd supervises deacon \(name one of them, or add it to supervise\.agents in daemon\/config\.json\)\n$/);
  }
  const withAgents = await gtd(["pause", "gastown-refinery"]);
  expect(withAgents.stderr).toContain("gtd supervises deacon, mayor, gastown-witness");
  expect(existsSync(dir())).toBe(false);
}, T);

test("usage: no agent, an agent and --all, a second agent, an unknown flag: exit 2", async () => {
  for (const args of [["pause"], ["resume"], ["pause", "mayor", "--all"], ["restart"], ["reset", "mayor", "deacon"], ["pause", "--al"], ["restart", "--all"]]) {
    const r = await gtd(args);
    expect({ args, code: r.code, out: r.stdout }).toEqual({ args, code: 2, out: "" });
    expect(r.stderr).toStartWith("gtd: ");
  }
  expect(existsSync(dir())).toBe(false);
}, T);

test("restart and reset with no daemon: exit 3, one line, and no request left behind", async () => {
  for (const kind of ["restart", "reset"]) {
    const r = await gtd([kind, "deacon"]);
    expect(r).toEqual({ code: 3, stdout: "", stderr: `gtd: daemon is not running: nothing would ${kind} deacon (start it with gtd start)\n` });
  }
  expect(requests()).toEqual([]);
}, T);

test("restart of a paused agent is refused (exit 1); reset of one is not refused for being paused", async () => {
  await gtd(["pause", "mayor"]);
  const r = await gtd(["restart", "mayor"]);
  expect(r).toEqual({ code: 1, stdout: "", stderr: "gtd: mayor is paused: a paused agent is never restarted (gtd resume mayor first)\n" });
  expect((await gtd(["reset", "mayor"])).code).toBe(3);
  expect(requests()).toEqual([]);
}, T);

test("a running daemon is woken by each command (its log says Received SIGUSR1), and said so", async () => {
  const pid = await startDaemon(w(), { ...SUPERVISED, GTD_HEARTBEAT: "1h" });
  await w().waitForLog("Heartbeat complete (#1)");
  const before = received();
  const pause = await gtd(["pause", "deacon"]);
  expect(pause.code).toBe(0);
  expect(pause.stdout).toEndWith(`✓ Signalled the daemon (PID ${pid}): it acts now\n`);
  expect(hold("deacon")).toBe(true);
  await waitFor(() => received() === before + 1, { what: "the pause's SIGUSR1 in the log" });

  const resume = await gtd(["resume", "deacon"]);
  expect(resume.stdout).toEndWith(`✓ Signalled the daemon (PID ${pid}): it acts now\n`);
  await waitFor(() => received() === before + 2, { what: "the resume's SIGUSR1 in the log" });

  const reset = await gtd(["reset", "mayor"]);
  expect(reset).toEqual({
    code: 0,
    stdout: `✓ Asked the daemon (PID ${pid}) to reset mayor: restart delay back to base, crash-loop count and hold cleared\n  gtd logs shows what it did; gtd status shows the agent\n`,
    stderr: "",
  });
  await waitFor(() => received() === before + 3, { what: "the reset's SIGUSR1 in the log" });
  const restart = await gtd(["restart", "deacon"]);
  expect(restart.code).toBe(0);
  expect(restart.stdout).toStartWith(`✓ Asked the daemon (PID ${pid}) to restart deacon now`);
  await waitFor(() => received() === before + 4, { what: "the restart's SIGUSR1 in the log" });
}, T);

test("status --json: one agents row per supervised agent the daemon has a record for, the Deacon first, with the pause", async () => {
  await startDaemon(w(), { GTD_HEARTBEAT: "1h" });
  const { json } = await waitFor(async () => {
    const s = await w().status();
    return s.json.agents?.length ? s : null;
  }, { what: "an agents row in status --json" });
  expect(json.schema_version).toBe(2);
  const row = json.agents[0];
  expect(json.agents).toEqual([
    {
      agent: "deacon", session: "gt-deacon", liveness: row.liveness, since: expect.any(String), restarts: expect.any(Number),
      restart_delay_ms: expect.any(Number), held_until: null, held_why: null, paused: false, last_poke: row.last_poke,
      unanswered: expect.any(Number), stranded: false, deferred_why: null,
    },
  ]);
  expect(LIVENESS).toContain(row.liveness);
  expect(row.last_poke === null || typeof row.last_poke === "string").toBe(true);
  await gtd(["pause", "deacon"], {});
  const after = await w().status();
  expect(after.json.agents[0]).toMatchObject({ agent: "deacon", paused: true });
}, T);

test("status on a terminal: the agents as a table, every time with its age; on a pipe, one line per agent", async () => {
  const pid = await startDaemon(w(), { GTD_HEARTBEAT: "1h" });
  await waitFor(async () => (await w().status()).json.agents?.length, { what: "an agents row" });
  const t = w().tmux;
  await t.tmux("new-session", "-d", "-s", "view", "-x", "200", "-y", "40", "-c", w().town, ";", "set-option", "-t", "=view:", "remain-on-exit", "on");
  await t.tmux("respawn-pane", "-k", "-t", "=view:", "-c", w().town, "--", "env", "NO_COLOR=1", GTD, "status");
  const screen = await waitFor(async () => {
    if ((await t.tmux("display-message", "-p", "-t", "=view:", "#{pane_dead}")).trim() !== "1") return null;
    return t.tmux("capture-pane", "-p", "-S", "-", "-t", "=view:");
  }, { what: "gtd status in a terminal" });
  expect(screen).toContain(`● Daemon is running (PID ${pid})`);
  expect(screen).toMatch(/\n {2}AGENT +SESSION +LIVENESS +SINCE +RESTARTS +DELAY +LAST POKE +NOTE\n/);
  expect(screen).toMatch(/\n {2}deacon +gt-deacon +[a-z]+ +\d\d:\d\d:\d\d \(\d+s ago\) +\d+ /);

  const piped = await w().run(["status"]);
  expect(piped.stdout).not.toContain("AGENT");
  expect(piped.stdout).toMatch(/\n {2}Agent deacon \(gt-deacon\): [a-z]+ since \d\d:\d\d:\d\d \(\d+s ago\); \d+ restarts?/);
}, T);
