/**
 * processLifecycle end to end: real tmux (private server per test), the fake agent as `claude`, the fake
 * `bd` and `git` from the harness's bin/, the real mailbox and runner. Nothing is slept on: every wait is
 * a waitFor on something observable.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { defaultConfig } from "../../src/config/index.ts";
import { formatGoTime } from "../../src/gotime.ts";
import { createMailbox } from "../../src/lifecycle/mailbox.ts";
import { abortableSleep, systemClock, type Ports } from "../../src/ports.ts";
import { runCommand, type Runner } from "../../src/proc.ts";
import { createProcessPort } from "../../src/proc-tree.ts";
import { emptyState, type DaemonState } from "../../src/state.ts";
import { Memory, newTickContext } from "../../src/tick/context.ts";
import { runLifecyclePass } from "../../src/tick/pipeline.ts";
import { townStore } from "../../src/tick/town-store.ts";
import { townPaths } from "../../src/town.ts";
import { fakeCommands, readFakeLog } from "../helpers/fake-log.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

const SLOW = 30_000;

let t: TmuxEnv;
let town: string;
let env: Record<string, string | undefined>;
let lines: string[];
let inboxFile: string;
let bdLog: string;
let gitLog: string;

beforeEach(async () => {
  t = await createTmuxEnv();
  town = realpathSync(await t.makeTown());
  inboxFile = join(t.root, "inbox.json");
  bdLog = join(t.root, "bd.log");
  gitLog = join(t.root, "git.log");
  env = { ...t.env, FAKE_BD_LOG: bdLog, FAKE_BD_INBOX: inboxFile, FAKE_GIT_LOG: gitLog };
  lines = [];
});
afterEach(async () => {
  await t.cleanup();
});

/** One lifecycle pass, as the daemon runs it on SIGUSR1; `state` and `memory` carry over between passes. */
async function pass(state: DaemonState = emptyState(), memory = new Memory()) {
  const run: Runner = (argv, o) => runCommand(argv, { ...o, env: { ...env, ...o.env } });
  const cfg = defaultConfig();
  const ports: Ports = {
    clock: systemClock,
    sleep: abortableSleep,
    tmux: t.makePort(),
    mailbox: createMailbox({ ...cfg.mailbox, cwd: town, timeoutMs: 5000, run }),
    store: townStore(townPaths(town)),
    procs: createProcessPort(),
    run,
    log: (m) => void lines.push(m),
  };
  const ctx = newTickContext({ ports, config: cfg, paths: townPaths(town), state, memory });
  return runLifecyclePass(ctx);
}

const inbox = (msgs: Array<Record<string, unknown>>) => writeFileSync(inboxFile, JSON.stringify(msgs, null, 2));
const inboxIds = () => (JSON.parse(readFileSync(inboxFile, "utf8")) as Array<{ id: string }>).map((m) => m.id);
const bdCalls = () => readFakeLog(bdLog).filter((c) => !(c.argv[0] === "mail" && c.argv[1] === "inbox"));
const startLines = async (s: string) => (await t.agentLog(s)).split("\n").filter((l) => l.startsWith("START "));
const panePid = (s: string) => t.tmux("display-message", "-p", "-t", `=${s}:`, "#{pane_pid}");
const option = async (s: string, name: string) => (await t.tmux("show-options", "-v", "-t", `=${s}:`, name)).replace(/\n$/, "");

function writeJson(path: string, value: unknown) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

/** Starts the "old" agent in `s` (no GT_ROLE) and waits until it runs. */
async function oldAgent(s: string, cwd: string) {
  mkdirSync(cwd, { recursive: true });
  await t.port.newSession({ name: s, cwd, env: {}, argv: ["claude"] });
  await waitFor(async () => (await startLines(s)).length === 1, { what: `${s} START` });
  return panePid(s);
}

interface Agent {
  title: string;
  identity: string;
  role: string;
  session: string;
  state: (town: string) => string;
  workDir: (town: string) => string;
  statusLeft: string;
  style: string;
  presync: boolean;
}

const TEAL = "bg=#0d5c63,fg=#e0e0e0"; // AssignTheme("gastown")
const AGENTS: Agent[] = [
  { title: "mayor", identity: "mayor", role: "mayor", session: "gt-mayor", state: (d) => join(d, "mayor", "state.json"), workDir: (d) => d, statusLeft: "[Mayor] coordinator ", style: "bg=#3d3200,fg=#ffd700", presync: false },
  { title: "gastown-witness", identity: "gastown-witness", role: "witness", session: "gt-gastown-witness", state: (d) => join(d, "gastown", "witness", "state.json"), workDir: (d) => join(d, "gastown"), statusLeft: "[gastown/witness] witness ", style: TEAL, presync: false },
  { title: "gastown/refinery", identity: "gastown-refinery", role: "refinery", session: "gt-gastown-refinery", state: (d) => join(d, "gastown", "refinery", "state.json"), workDir: (d) => join(d, "gastown", "refinery", "rig"), statusLeft: "[gastown/refinery] refinery ", style: TEAL, presync: true },
  { title: "gastown-crew-joe", identity: "gastown-crew-joe", role: "crew", session: "gt-gastown-crew-joe", state: (d) => join(d, "gastown", "crew", "joe", "state.json"), workDir: (d) => join(d, "gastown", "crew", "joe"), statusLeft: "[gastown/crew] crew ", style: TEAL, presync: true },
];

describe.each(AGENTS)("$identity", (a) => {
  test.each(["cycle", "restart"] as const)("%s: killed, pre-synced if refinery/crew, recreated with GT_ROLE and theme, flag cleared, closed", async (action) => {
    const dir = a.workDir(town);
    const oldPid = await oldAgent(a.session, dir);
    writeJson(a.state(town), { [`requesting_${action}`]: true, requesting_time: "2025-12-20T18:23:00Z", keep: "me" });
    inbox([{ id: "m1", title: `LIFECYCLE: ${a.title} requesting ${action}`, status: "open", sender: "x" }]);
    await pass();

    const starts = await waitFor(async () => {
      const s = await startLines(a.session);
      return s.length === 2 ? s : undefined;
    }, { what: "the new agent's START" });
    expect(starts[0]).toContain("GT_ROLE=unset");
    expect(starts[1]).toBe(`START argv=--dangerously-skip-permissions cwd=${dir} GT_ROLE=${a.role} session=${a.session}`);
    expect(await panePid(a.session)).not.toBe(oldPid);
    expect(await option(a.session, "status-left")).toBe(a.statusLeft);
    expect(await option(a.session, "status-style")).toBe(a.style);
    expect(await option(a.session, "status-right")).toBe(`#(gt status-line --session=${a.session} 2>/dev/null) %H:%M`);

    expect(lines).toEqual(expect.arrayContaining([
      `Processing lifecycle request from ${a.title}: ${action}`,
      `Executing ${action} for session ${a.session}`,
      `Verified agent ${a.identity} has requesting_${action}=true`,
      `Killed session ${a.session} for restart`,
      `Restarted session ${a.session}`,
    ]));
    expect(JSON.parse(readFileSync(a.state(town), "utf8"))).toEqual({ requesting_time: "2025-12-20T18:23:00Z", keep: "me" });
    const sync = a.presync ? [{ argv: ["sync"], cwd: dir }] : [];
    expect(bdCalls()).toEqual([...sync, { argv: ["close", "m1"], cwd: town }]);
    expect(inboxIds()).toEqual([]);
    if (a.presync) {
      expect(fakeCommands(gitLog)).toEqual(["status --porcelain", "fetch origin", "symbolic-ref --short refs/remotes/origin/HEAD", "pull --rebase origin main"]);
      for (const c of readFakeLog(gitLog)) expect(c.cwd).toBe(dir);
    } else {
      expect(readFakeLog(gitLog)).toEqual([]);
    }
  }, SLOW);

  test("shutdown: killed, not recreated, closed", async () => {
    await oldAgent(a.session, a.workDir(town));
    writeJson(a.state(town), { requesting_shutdown: true });
    inbox([{ id: "s1", title: `LIFECYCLE: ${a.title} requesting shutdown`, status: "open" }]);
    await pass();
    expect(await t.port.hasSession(a.session)).toBe(false);
    expect(lines).toContain(`Killed session ${a.session}`);
    expect(await startLines(a.session)).toHaveLength(1);
    expect(JSON.parse(readFileSync(a.state(town), "utf8"))).toEqual({});
    expect(bdCalls()).toEqual([{ argv: ["close", "s1"], cwd: town }]);
    expect(readFakeLog(gitLog)).toEqual([]);
  }, SLOW);
});

describe("pre-sync", () => {
  test("the remote's default branch is pulled", async () => {
    env.FAKE_GIT_DEFAULT_BRANCH = "trunk";
    const dir = join(town, "gastown", "crew", "joe");
    mkdirSync(dir, { recursive: true });
    writeJson(join(dir, "state.json"), { requesting_cycle: true });
    inbox([{ id: "c1", title: "Lifecycle: gastown-crew-joe Requesting cycling", status: "open" }]);
    await pass();
    expect(fakeCommands(gitLog)).toContain("pull --rebase origin trunk");
    await waitFor(async () => (await startLines("gt-gastown-crew-joe")).length === 1, { what: "START" });
  }, SLOW);

  test("a dirty tree is not fetched or pulled; bd sync still runs", async () => {
    env.FAKE_GIT_DIRTY = " M src/main.go";
    const dir = join(town, "gastown", "refinery", "rig");
    mkdirSync(dir, { recursive: true });
    writeJson(join(town, "gastown", "refinery", "state.json"), { requesting_restart: true });
    inbox([{ id: "r1", title: "LIFECYCLE: gastown-refinery requesting restart", status: "open" }]);
    await pass();
    expect(fakeCommands(gitLog)).toEqual(["status --porcelain"]);
    expect(lines).toContain(`Skipping git pull in ${dir}: working tree has uncommitted changes`);
    expect(bdCalls()).toEqual([{ argv: ["sync"], cwd: dir }, { argv: ["close", "r1"], cwd: town }]);
    await waitFor(async () => (await startLines("gt-gastown-refinery")).length === 1, { what: "START" });
  }, SLOW);
});

describe("failures", () => {
  test("missing workdir fails before killing; retried, then closed after the limit", async () => {
    const oldPid = await oldAgent("gt-gastown-refinery", town); // the old agent ran elsewhere
    writeJson(join(town, "gastown", "refinery", "state.json"), { requesting_cycle: true });
    inbox([{ id: "r1", title: "LIFECYCLE: gastown-refinery requesting cycle", status: "open" }]);
    const dir = join(town, "gastown", "refinery", "rig");
    const error = `Error executing lifecycle action: working directory ${dir} does not exist (session gt-gastown-refinery left as it is)`;
    const state = emptyState();
    const memory = new Memory();
    for (const n of [1, 2]) {
      await pass(state, memory);
      expect(lines.filter((l) => l === error)).toHaveLength(n);
      expect(bdCalls()).toEqual([]);
    }
    await pass(state, memory);
    expect(lines.at(-2)).toBe(`Giving up on lifecycle request r1 from gastown-refinery after 3 attempts: ${error.slice("Error executing lifecycle action: ".length)}`);
    expect(bdCalls()).toEqual([{ argv: ["close", "r1"], cwd: town }]);
    expect(await panePid("gt-gastown-refinery")).toBe(oldPid);
    expect(readFakeLog(gitLog)).toEqual([]);
    // The ledger was saved as it went: attempts and the final state are on disk.
    const disk = JSON.parse(readFileSync(townPaths(town).stateFile, "utf8"));
    expect(disk.requests.r1).toMatchObject({ attempts: 3, done: true });
    await pass(state, memory);
    expect(lines.filter((l) => l === error)).toHaveLength(3);
  }, SLOW);

  test("an expired request is closed unexecuted", async () => {
    const oldPid = await oldAgent("gt-mayor", town);
    writeJson(join(town, "mayor", "state.json"), { requesting_cycle: true });
    inbox([{ id: "m1", title: "LIFECYCLE: mayor requesting cycle", status: "open", created_at: formatGoTime(Date.now() - 7 * 3_600_000) }]);
    await pass();
    expect(lines[0]).toMatch(/^Closing expired lifecycle request m1 from mayor \(cycle\) unexecuted: 7h0m\d+s old, older than 6h0m0s$/);
    expect(bdCalls()).toEqual([{ argv: ["close", "m1"], cwd: town }]);
    expect(await panePid("gt-mayor")).toBe(oldPid);
    expect(JSON.parse(readFileSync(join(town, "mayor", "state.json"), "utf8"))).toEqual({ requesting_cycle: true });
  }, SLOW);
});

describe("hostile titles", () => {
  test("$(…), ;, ../, control characters and 100 KB are never acted on and never run", async () => {
    const pwned = (n: number) => join(t.root, `pwned${n}`);
    const oldPid = await oldAgent("gt-mayor", town);
    const flags = { requesting_cycle: true, requesting_restart: true, requesting_shutdown: true };
    writeJson(join(town, "mayor", "state.json"), flags);
    const titles = [
      `LIFECYCLE: $(touch ${pwned(1)}) requesting cycle`,
      `LIFECYCLE: mayor; touch ${pwned(2)} requesting cycle`,
      `LIFECYCLE: mayor\`touch ${pwned(3)}\` requesting restart`,
      "LIFECYCLE: ../../mayor requesting cycle",
      "LIFECYCLE: gastown/../../x requesting shutdown",
      "LIFECYCLE: may\u001bor requesting cycle",
      "LIFECYCLE: mayor\nrequesting shutdown",
      `LIFECYCLE: mayor requesting cycle ${"A".repeat(100 * 1024)}`,
    ];
    const msgs = titles.map((title, i) => ({ id: `h${i}`, title, status: "open" }));
    msgs.push({ id: "h-sender", title: "LIFECYCLE: requesting cycle", status: "open", sender: `$(touch ${pwned(4)})` } as never);
    inbox(msgs);
    await pass();

    expect(lines.filter((l) => l.startsWith("Rejecting lifecycle request "))).toHaveLength(msgs.length);
    expect(lines.some((l) => /^(Processing|Executing|Killed|Restarted)/.test(l))).toBe(false);
    for (const l of lines) expect(l.length).toBeLessThan(400);
    expect(bdCalls().map((c) => c.argv)).toEqual(msgs.map((m) => ["close", m.id]));
    expect(inboxIds()).toEqual([]);
    for (const n of [1, 2, 3, 4]) expect(existsSync(pwned(n))).toBe(false);
    expect(readdirSync(town).sort()).toEqual(["daemon", "mayor"]);
    expect(await panePid("gt-mayor")).toBe(oldPid);
    expect((await t.tmux("list-sessions", "-F", "#{session_name}")).trim()).toBe("gt-mayor");
    expect((await t.agentLog("gt-mayor")).split("\n").filter((l) => l.startsWith("LINE "))).toEqual([]);
    expect(JSON.parse(readFileSync(join(town, "mayor", "state.json"), "utf8"))).toEqual(flags);
  }, SLOW);
});
