/**
 * What supervision reads from and does to a real tmux server: the agent pane's facts in the session list,
 * attached clients, respawn-pane, and the verified poke (one private server per test, see tmux-env.ts).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../../src/proc.ts";
import { createProcessPort } from "../../src/proc-tree.ts";
import { createTmux, TmuxError } from "../../src/tmux.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

let t: TmuxEnv;
const spawned: Array<{ kill(): void }> = [];
beforeEach(async () => {
  t = await createTmuxEnv();
});
afterEach(async () => {
  for (const p of spawned.splice(0)) p.kill();
  await t.cleanup();
});

/** Starts the fake agent in `name` and waits for its START line. */
async function agent(name: string, env: Record<string, string> = {}, cwd = t.root): Promise<void> {
  await t.port.newSession({ name, cwd, env, argv: ["claude"] });
  await waitFor(async () => (await t.agentLog(name)).includes("START"), { what: `${name} START` });
}

const info = async (name: string) => waitFor(async () => (await t.port.sessions()).get(name), { what: `session ${name}` });
const logLines = async (name: string) => (await t.agentLog(name)).split("\n").filter((l) => l.startsWith("LINE ")).map((l) => l.slice(5));
const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
/** Alive and not a zombie (a zombie still has a /proc entry). */
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

describe("sessions(): the agent pane", () => {
  test("pid, id and activity of the pane the session was created with", async () => {
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    const s = await info("s");
    expect(cmdline(s.panePid as number)).toEqual(["sleep", "600"]);
    expect(await t.tmux("display-message", "-p", "-t", "=s:", "#{pane_id} #{window_activity}")).toBe(`${s.paneId} ${(s.activityMs as number) / 1000}\n`);
    expect(s).toMatchObject({ paneDead: false, deadStatus: null, inMode: false, panes: 1 });
  });

  test("panes a person adds (split, split before, a window first) count, but the agent pane stays the same", async () => {
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    const first = await info("s");
    await t.tmux("split-window", "-t", "=s:", "--", "cat");
    await t.tmux("split-window", "-b", "-t", "=s:", "--", "cat");
    await t.tmux("new-window", "-b", "-t", "=s:", "--", "cat");
    const now = await info("s");
    expect(now.panes).toBe(4);
    expect({ id: now.paneId, pid: now.panePid, command: now.paneCommand }).toEqual({ id: first.paneId, pid: first.panePid, command: "sleep" });
    // tmux's own notion of "first" (window 0, pane 0) is now someone else's pane.
    expect(await t.tmux("display-message", "-p", "-t", "=s:0.0", "#{pane_id}")).not.toBe(`${first.paneId}\n`);
  });

  test("copy mode sets inMode; a dead pane gives its exit status", async () => {
    await t.tmux("set-option", "-g", "remain-on-exit", "on");
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    await t.port.newSession({ name: "d", cwd: t.root, env: {}, argv: ["sh", "-c", "exit 3"] });
    await t.tmux("copy-mode", "-t", "=s:");
    const m = await waitFor(async () => {
      const all = await t.port.sessions();
      return all.get("d")?.paneDead ? all : undefined;
    }, { what: "dead pane" });
    expect(m.get("s")).toMatchObject({ inMode: true, paneDead: false, deadStatus: null });
    expect(m.get("d")).toMatchObject({ inMode: false, paneDead: true, deadStatus: 3 });
    await t.tmux("send-keys", "-t", "=s:", "-X", "cancel");
    expect((await t.port.sessions()).get("s")?.inMode).toBe(false);
  });

  test("a command name with tabs and newlines is kept whole and cannot forge a session", async () => {
    const forged = "x\nforged\t%1\t1\t0\t\t0\t1\tsleep";
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["bash", "-c", 'exec -a "$1" sleep 600', "bash", forged] });
    await t.tmux("split-window", "-t", "=s:", "--", "cat");
    const m = await waitFor(async () => {
      const all = await t.port.sessions();
      return all.get("s")?.paneCommand === forged ? all : undefined;
    }, { what: "the renamed process" });
    expect([...m.keys()]).toEqual(["s"]);
    expect(m.get("s")?.panes).toBe(2);
  });
});

describe("sessionsAndClients()", () => {
  test("none without a server or without clients; the sessions as sessions() lists them", async () => {
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    const listed = await t.port.sessionsAndClients();
    expect(listed.clients).toEqual([]);
    expect(listed.sessions).toEqual(await t.port.sessions());
    expect([...listed.sessions.keys()]).toEqual(["s"]);
    await t.tmux("kill-server");
    expect(await t.port.sessionsAndClients()).toEqual({ sessions: new Map(), clients: [] });
  });

  test("a terminal and a control-mode client, each with its session and last activity", async () => {
    for (const name of ["a", "b", "quiet"]) await t.port.newSession({ name, cwd: t.root, env: {}, argv: ["sleep", "600"] });
    const fromMs = Math.floor(Date.now() / 1000) * 1000;
    // A terminal: `script` gives the client a pty, as a person's terminal would.
    spawned.push(Bun.spawn(["script", "-q", "-c", "tmux attach -t =a", "/dev/null"], { env: t.env, stdin: "pipe", stdout: "ignore", stderr: "ignore" }));
    // Control mode (iTerm2's tmux integration) is a person too.
    spawned.push(Bun.spawn(["tmux", "-C", "attach", "-t", "=b"], { env: t.env, stdin: "pipe", stdout: "ignore", stderr: "ignore" }));
    const clients = await waitFor(async () => {
      const c = (await t.port.sessionsAndClients()).clients;
      return c.length === 2 ? c : undefined;
    }, { what: "two clients" });
    expect(clients.map((c) => c.session).sort()).toEqual(["a", "b"]);
    for (const c of clients) {
      // client_activity has second resolution: at or after the second the test attached, not in the future.
      expect(c.activityMs as number).toBeGreaterThanOrEqual(fromMs);
      expect(c.activityMs as number).toBeLessThanOrEqual(Date.now());
    }
  });
});

describe("respawnPane", () => {
  test("restarts only the agent pane, as it was started; a person's pane and the session survive", async () => {
    const town = await t.makeTown();
    await agent("gt-deacon", { GT_ROLE: "deacon" }, town);
    await t.tmux("split-window", "-t", "=gt-deacon:", "--", "sleep", "600");
    const before = await info("gt-deacon");
    const human = Number(await t.tmux("display-message", "-p", "-t", "=gt-deacon:", "#{pane_pid}"));
    expect(human).not.toBe(before.panePid);

    expect(await t.port.respawnPane(before.paneId as string)).toEqual({ ok: true });
    const starts = await waitFor(async () => {
      const s = (await t.agentLog("gt-deacon")).split("\n").filter((l) => l.startsWith("START "));
      return s.length === 2 ? s : undefined;
    }, { what: "second START" });
    expect(starts[1]).toBe(starts[0] as string);
    expect(starts[1]).toBe(`START argv= cwd=${town} GT_ROLE=deacon session=gt-deacon`);
    await waitFor(() => !alive(before.panePid as number), { what: "old agent gone" });
    const after = await info("gt-deacon");
    expect({ id: after.paneId, panes: after.panes }).toEqual({ id: before.paneId, panes: 2 });
    expect(after.panePid).not.toBe(before.panePid);
    expect(alive(human)).toBe(true);
  });

  test("a dead pane comes back, running its command again", async () => {
    await t.tmux("set-option", "-g", "remain-on-exit", "on");
    // Fails the first time, runs the second: so the respawned pane stays up for the assertion.
    const once = 'if [ -e "$1" ]; then exec sleep 600; fi; : > "$1"; exit 3';
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sh", "-c", once, "sh", join(t.root, "ran")] });
    const dead = await waitFor(async () => {
      const s = (await t.port.sessions()).get("s");
      return s?.paneDead ? s : undefined;
    }, { what: "dead pane" });
    expect(dead.deadStatus).toBe(3);
    expect(await t.port.respawnPane(dead.paneId as string)).toEqual({ ok: true });
    const back = await waitFor(async () => {
      const s = (await t.port.sessions()).get("s");
      return s?.paneCommand === "sleep" ? s : undefined;
    }, { what: "sleep in the respawned pane" });
    expect(back).toMatchObject({ paneId: dead.paneId, paneDead: false, deadStatus: null });
  });

  test("a bad pane id never reaches tmux; a missing pane or server is classified", async () => {
    const calls: string[][] = [];
    const recording = createTmux({ socket: null, timeoutMs: 1000, run: async (argv) => (calls.push(argv), ok()) });
    for (const id of ["gt-deacon", "%1;", "%", "", "=s:", "%1 %2", "%1\n"]) {
      const out = await recording.respawnPane(id);
      expect(out).toMatchObject({ ok: false, kind: "failed" });
      if (!out.ok) expect(out.error).toContain("invalid tmux pane id");
    }
    expect(calls).toEqual([]);
    expect(await t.port.respawnPane("%999")).toMatchObject({ ok: false, kind: "no-session" });
    await t.tmux("kill-server");
    expect(await t.port.respawnPane("%0")).toMatchObject({ ok: false, kind: "no-server" });
  });
});

function ok(): RunResult {
  return { code: 0, stdout: "", stderr: "", timedOut: false, notFound: false };
}

describe("proc-tree on real processes", () => {
  test("finds a sleep started by the bash in a pane; gone when it ends", async () => {
    const procs = createProcessPort();
    const fromMs = Date.now();
    await t.port.newSession({ name: "sh", cwd: t.root, env: {}, argv: ["bash", "--noprofile", "--norc"] });
    const pane = (await info("sh")).panePid as number;
    await t.tmux("send-keys", "-t", "=sh:", "-l", "--", "sleep 600");
    await t.tmux("send-keys", "-t", "=sh:", "Enter");
    const found = await waitFor(() => procs.agentUnder(pane, "sleep"), { what: "sleep under the pane" });
    expect(cmdline(found.pid)).toEqual(["sleep", "600"]);
    expect(found.pid).not.toBe(pane);
    // Boot time has second resolution: the start lies within a second or two of the test's clock.
    expect(found.startedAtMs).toBeGreaterThanOrEqual(fromMs - 2000);
    expect(found.startedAtMs).toBeLessThanOrEqual(Date.now() + 2000);
    expect(procs.agentUnder(pane, "/usr/bin/sleep")).toEqual(found);
    expect(procs.agentUnder(pane, "bash")?.pid).toBe(pane);
    expect(procs.agentUnder(pane, "claude")).toBeNull();
    await t.tmux("send-keys", "-t", "=sh:", "C-c");
    await waitFor(() => procs.agentUnder(pane, "sleep") === null, { what: "sleep gone" });
  });

  test("the fake agent (a `#!/usr/bin/env bash` script) is found by its script path", async () => {
    await agent("gt-deacon");
    const pane = (await info("gt-deacon")).panePid as number;
    expect(createProcessPort().agentUnder(pane, "claude")?.pid).toBe(pane);
  });
});
