/**
 * `gtd demo` through dist/gtd: it makes a throwaway town under $TMPDIR with its own tmux server, starts
 * the Deacon (the bundled demo agent) and pokes it, and has the demo mayor ask for a cycle with a real
 * `gtd request cycle` (flag, mail through the demo's own little mailbox, SIGUSR1), which the daemon
 * carries out. Ctrl-C (SIGINT) ends it, removing the town, that server and every process it started. It
 * must never touch the user's tmux: TMUX_TMPDIR points at a directory that must stay empty.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createDemoTown } from "../../src/demo/town.ts";
import { createMailbox } from "../../src/lifecycle/mailbox.ts";
import { runCommand } from "../../src/proc.ts";
import { socketsUnder } from "../helpers/e2e-town.ts";
import { procAlive, spawnGtd, type Streamed } from "../helpers/gtd-cli.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
let t: TmuxEnv;
let tmp: string;
let userTmux: string;
let demo: Streamed | null;

beforeEach(async () => {
  t = await createTmuxEnv();
  tmp = join(t.root, "tmp");
  userTmux = join(t.root, "user-tmux");
  mkdirSync(tmp);
  mkdirSync(userTmux, { mode: 0o700 });
  demo = null;
});
afterEach(async () => {
  if (demo && demo.proc.exitCode === null && demo.proc.signalCode === null) demo.proc.kill("SIGKILL");
  // A demo killed before its own clean-up leaves its tmux server behind: take it down by its socket.
  for (const socket of socketsUnder(tmp).paths) await t.tmuxResult("-S", socket, "kill-server");
  for (const pid of [...socketsUnder(tmp).pids, ...processesNaming(tmp)]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await t.cleanup();
});

/** Live (non-zombie) processes with an argument naming `dir` or a path under it (agents, gtd request). */
function processesNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (argv.some((a) => a === dir || a.startsWith(`${dir}/`)) && procAlive(Number(name))) pids.push(Number(name));
  }
  return pids;
}

/** The harness env (fakes on PATH, no $TMUX), with TMPDIR for the town and a "user" TMUX_TMPDIR. */
function demoEnv(): Record<string, string | undefined> {
  // GTD_HEARTBEAT must not leak into the demo (it would say 1h).
  return { ...t.env, TMPDIR: tmp, TMUX_TMPDIR: userTmux, GTD_HEARTBEAT: "1h", GT_TOWN_ROOT: t.root };
}

async function demoTown(d: Streamed): Promise<string> {
  const town = await waitFor(() => /^Demo town: (.+)$/m.exec(d.stdout())?.[1], { what: `"Demo town:" on stdout (${d.stdout()}${d.stderr()})` });
  expect(realpathSync(join(town, ".."))).toBe(realpathSync(tmp));
  expect(town).toMatch(/\/gtd-demo-[^/]+$/);
  return town;
}

/** SIGINT, then: exit 0, the town, its tmux server and every process that named it are gone. */
async function interruptAndCheckNothingLeft(d: Streamed, town: string): Promise<void> {
  d.proc.kill("SIGINT");
  const code = await d.exited;
  expect(code).toBe(0);
  expect(d.stdout().trimEnd().split("\n").at(-1)).toBe("Demo finished; demo town removed.");
  expect(d.stderr()).toContain("Received signal interrupt, shutting down");
  expect(d.stderr()).toContain("Daemon stopped");
  expect(existsSync(town)).toBe(false);
  // kill-server has answered; the server's exit (closing its socket) and the agents' exit on its
  // SIGHUP follow at once.
  await waitFor(() => socketsUnder(town).paths.length === 0, { timeoutMs: 5_000, what: `no socket under ${town}` });
  expect(socketsUnder(town)).toEqual({ paths: [], pids: [] });
  await waitFor(() => processesNaming(town).length === 0, { timeoutMs: 5_000, what: `no process naming ${town} (${processesNaming(town)})` });
  expect(readdirSync(userTmux)).toEqual([]);
  expect(readdirSync(tmp)).toEqual([]);
}

const mayorStarts = (town: string) =>
  existsSync(join(town, "mayor", "agent.log")) ? readFileSync(join(town, "mayor", "agent.log"), "utf8").split("\n").filter((l) => l.startsWith("START ")) : [];

test("demo: the Deacon is started and poked, the mayor's cycle request is carried out; SIGINT leaves nothing behind", async () => {
  demo = spawnGtd(["demo", "--heartbeat", "1s", "--request-after", "1s"], { env: demoEnv(), cwd: t.root });
  const d = demo;
  const town = await demoTown(d);
  expect(d.stdout()).toContain(`Watch the Deacon: TMUX_TMPDIR=${join(town, ".tmux")} tmux attach -t gt-deacon`);
  expect(d.stdout()).toContain(`Watch the mayor:  TMUX_TMPDIR=${join(town, ".tmux")} tmux attach -t gt-mayor`);
  expect(d.stdout()).toContain("▶ The daemon starts: it finds no Deacon, starts one in gt-deacon and pokes it every 1s");

  // The daemon log (mirrored to stderr) shows the poke, and the demo agent in gt-deacon received it.
  await waitFor(() => /Poked Deacon/.test(d.stderr()), { what: `"Poked Deacon" on stderr (${d.stderr()})` });
  expect(d.stderr()).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Daemon starting \(PID \d+\)$/m);
  expect(d.stderr()).toContain("Deacon session started successfully");
  const received = join(town, "deacon", "received.log");
  await waitFor(() => existsSync(received) && readFileSync(received, "utf8").includes("received: HEARTBEAT: run your rounds"), {
    what: "the poke in the demo agent's received.log",
  });
  // The config of the environment did not leak in (GTD_HEARTBEAT would say 1h).
  expect(d.stderr()).toContain("Daemon running, heartbeat every 1s");

  // The mayor's cycle: announced, asked for by a real `gtd request`, carried out and closed.
  await waitFor(() => /^✓ The mayor runs again/m.test(d.stdout()), { what: `the mayor's restart on stdout (${d.stdout()}${d.stderr()})` });
  const stdout = d.stdout();
  expect(stdout).toContain("▶ In 1s the mayor asks for a cycle (gtd request cycle --as mayor)");
  expect(stdout).toContain(`  mayor$ ✓ Set requesting_cycle=true in ${join(town, "mayor", "state.json")}`);
  expect(stdout).toContain("  mayor$ ✓ Sent cycle request to deacon/");
  expect(stdout).toMatch(/^ {2}mayor\$ ✓ Signaled daemon \(PID \d+\) for immediate processing$/m);
  expect(stdout).toMatch(/^✓ The mayor runs again in a fresh gt-mayor session, \d+ ms after the daemon got the SIGUSR1$/m);
  expect(stdout.indexOf("▶ In 1s")).toBeLessThan(stdout.indexOf("  mayor$ ✓ Set"));
  const steps = [
    "Received SIGUSR1, processing lifecycle requests immediately",
    "Processing lifecycle request from mayor: cycle",
    "Verified agent mayor has requesting_cycle=true",
    "Killed session gt-mayor for restart",
    "Restarted session gt-mayor",
    "Cleared requesting_cycle for agent mayor",
    "Closed lifecycle message demo-1",
  ];
  await waitFor(() => d.stderr().includes(steps.at(-1)!), { what: `the close in the log (${d.stderr()})` });
  const at = steps.map((s) => d.stderr().indexOf(`${s}\n`));
  expect(at.every((i) => i >= 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(d.stderr()).not.toMatch(/Error|Warning/);

  // Two mayors: the one the demo started, and the fresh one gtd started in its place.
  const starts = mayorStarts(town);
  expect(starts).toHaveLength(2);
  for (const s of starts) expect(s).toMatch(new RegExp(`^START pid=\\d+ GT_ROLE=mayor GT_IDENTITY=mayor cwd=${town} at=`));
  const pids = starts.map((s) => Number(/pid=(\d+)/.exec(s)![1]));
  expect(pids[0]).not.toBe(pids[1]);
  // The old one got tmux's SIGHUP as its session was killed; it exits on it.
  await waitFor(() => !procAlive(pids[0]!), { timeoutMs: 5_000, what: `the first mayor (PID ${pids[0]}) gone` });
  expect(procAlive(pids[1]!)).toBe(true);
  // The request is done: flag cleared, mail closed (the demo's bd lists nothing open).
  expect(JSON.parse(readFileSync(join(town, "mayor", "state.json"), "utf8")).requesting_cycle).toBeUndefined();
  const inbox = await runCommand([join(town, ".demo-bin", "bd"), "mail", "inbox"], { timeoutMs: 5_000 });
  expect(JSON.parse(inbox.stdout)).toEqual([]);

  // Its tmux server listens under the demo town, and nothing under the user's TMUX_TMPDIR.
  const live = socketsUnder(town);
  expect(live.paths).toEqual([join(town, ".tmux", `tmux-${process.getuid!()}`, "default")]);
  expect(live.pids.length).toBeGreaterThan(0);
  expect(readdirSync(userTmux)).toEqual([]);
  expect(processesNaming(town).length).toBeGreaterThanOrEqual(2); // the demo Deacon and the mayor

  await interruptAndCheckNothingLeft(d, town);
}, T);

test("demo: SIGINT while the mayor's request is still to come ends it at once, with nothing left behind", async () => {
  demo = spawnGtd(["demo", "--heartbeat", "1s", "--request-after", "1h"], { env: demoEnv(), cwd: t.root });
  const d = demo;
  const town = await demoTown(d);
  await waitFor(() => d.stdout().includes("▶ In 1h the mayor asks for a cycle"), { what: `the announcement (${d.stdout()}${d.stderr()})` });
  await waitFor(() => mayorStarts(town).length === 1, { what: "the demo mayor's START line" });
  // Not hung on the pending wait: the request is an hour away, so the demo ending at all (and without the
  // mayor's request ever running) shows it; no clock reading needed.
  await interruptAndCheckNothingLeft(d, town);
  expect(d.stdout()).not.toContain("mayor$");
  expect(d.stderr()).not.toContain("SIGUSR1");
}, T);

test("demo: a bad --request-after is a usage error naming the flag, and creates nothing", async () => {
  demo = spawnGtd(["demo", "--request-after", "soon"], { env: demoEnv(), cwd: t.root });
  expect(await demo.exited).toBe(2);
  expect(demo.stderr()).toContain('--request-after: "soon" is not a duration');
  expect(readdirSync(tmp)).toEqual([]);
}, T);

test("demo bd: gtd's own mailbox port sends, lists and closes through it; hostile text comes back intact", async () => {
  process.env.TMPDIR = tmp;
  const town = createDemoTown("5s");
  delete process.env.TMPDIR;
  try {
    const mailbox = createMailbox({
      inbox: [town.bdPath, "mail", "inbox", "--identity", "deacon/", "--json"],
      close: [town.bdPath, "close", "{id}"],
      send: [town.bdPath, "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
      cwd: town.root,
      timeoutMs: 5_000,
      run: runCommand,
      env: { BD_ACTOR: "mayor" },
    });
    expect(await mailbox.inbox()).toEqual({ messages: [], skipped: [] });
    const marker = join(town.root, "pwned");
    const hostile = `LIFECYCLE: "q" \\ $(touch ${marker}) \`touch ${marker}\` ; touch ${marker} 'x' é 🚀`;
    await mailbox.send("deacon/", hostile, "line 1\nline 2\ttab\r\\n");
    await mailbox.send("deacon/", "LIFECYCLE: mayor requesting cycle", "body");
    const { messages, skipped } = await mailbox.inbox();
    expect(skipped).toEqual([]);
    expect(messages.map((m) => [m.id, m.title, m.sender, m.status])).toEqual([
      ["demo-1", hostile, "mayor", "open"],
      ["demo-2", "LIFECYCLE: mayor requesting cycle", "mayor", "open"],
    ]);
    expect(messages[0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The body is kept whole too (the port does not return it; read the inbox as JSON).
    const raw = await runCommand([town.bdPath, "mail", "inbox"], { timeoutMs: 5_000 });
    expect(JSON.parse(raw.stdout)[0].body).toBe("line 1\nline 2\ttab\r\\n");
    await mailbox.close("demo-1");
    expect((await mailbox.inbox()).messages.map((m) => m.id)).toEqual(["demo-2"]);
    await mailbox.close("demo-2");
    expect(await mailbox.inbox()).toEqual({ messages: [], skipped: [] });
    expect(existsSync(marker)).toBe(false);
    // Anything else is an error, not a silent success.
    const other = await runCommand([town.bdPath, "sync"], { timeoutMs: 5_000 });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("demo bd knows only");
  } finally {
    rmSync(town.root, { recursive: true, force: true });
  }
}, T);
