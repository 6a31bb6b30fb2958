/**
 * The daemon's life as a user sees it through dist/gtd: start (background), PID and state files, the
 * log, status, a refused second start, stop, signal, town discovery, and the CLI's usage contract.
 * Each test has its own town and private tmux server (useGtdWorld).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { startDaemon } from "../helpers/e2e-town.ts";
import { daemonPids, describePids, procAlive, runGtd, useGtdWorld } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();

const goTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe("start, status, stop", () => {
  test("start writes the PID file, state and log; status reports it", async () => {
    const pid = await startDaemon(w());
    expect(w().readPidFile()).toBe(String(pid)); // decimal, no newline
    const state0 = w().readState();
    expect(state0.running).toBe(true);
    expect(state0.pid).toBe(pid);
    expect(state0.started_at).toMatch(goTime);
    // The original's keys first, in its order.
    expect(Object.keys(state0).slice(0, 5)).toEqual(["running", "pid", "started_at", "last_heartbeat", "heartbeat_count"]);

    const state = await w().waitForHeartbeats(1);
    expect(state.running).toBe(true);
    expect(state.pid).toBe(pid);
    await w().waitForLog("Heartbeat complete (#1)");
    const msgs = w().logMessages();
    const at = (s: string) => msgs.findIndex((m) => m.startsWith(s));
    const order = [`Daemon starting (PID ${pid})`, "Daemon running, heartbeat every 5m0s", "Heartbeat starting", "Heartbeat complete (#1)"].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(w().readLog()).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Daemon starting/);

    const human = await w().run(["status"]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe("");
    const lines = human.stdout.split("\n");
    expect(lines[0]).toBe(`● Daemon is running (PID ${pid})`);
    expect(lines).toContain(`  Town: ${w().town}`);
    expect(human.stdout).toMatch(/\n {2}Started: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(human.stdout).toMatch(/\n {2}Last heartbeat: \d\d:\d\d:\d\d \(#1\)/);

    const { code, json } = await w().status();
    expect(code).toBe(0);
    expect(json).toMatchObject({ running: true, pid, town: w().town, heartbeat_count: 1, heartbeat: "5m", stale_pid_file: null, state_problem: null });
    expect(json.started_at).toMatch(goTime);
    expect(json.last_heartbeat).toMatch(goTime);
    expect(json.next_heartbeat).toMatch(goTime);
    expect(typeof json.uptime_ms).toBe("number");
  }, T);

  test("a second start is refused and leaves exactly one daemon", async () => {
    const pid = await startDaemon(w());
    const r = await w().run(["start"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(new RegExp(`^gtd: daemon already running \\(PID ${pid}\\)\\n$`));
    expect(daemonPids(w().town)).toEqual([pid]);
    expect(await w().waitRunning(pid)).toBe(pid);
    expect(w().readPidFile()).toBe(String(pid));
  }, T);

  test("stop is graceful; afterwards stop, status and signal say not running (exit 3)", async () => {
    const pid = await startDaemon(w());
    const before = await w().waitForHeartbeats(1);
    await w().waitForLog("Heartbeat complete (#1)");

    const r = await w().run(["stop"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`✓ Daemon stopped (was PID ${pid})\n`);
    expect(existsSync(w().paths.pidFile)).toBe(false);
    const after = w().readState();
    expect(after.running).toBe(false);
    expect(after.pid).toBe(before.pid);
    expect(after.started_at).toBe(before.started_at);
    expect(after.heartbeat_count).toBe(before.heartbeat_count);
    const msgs = w().logMessages();
    const tail = ["Received signal terminated, shutting down", "Daemon shutting down", "Daemon stopped"].map((s) => msgs.indexOf(s));
    expect(tail.every((i) => i >= 0)).toBe(true);
    expect([...tail].sort((a, b) => a - b)).toEqual(tail);
    await waitFor(() => !procAlive(pid), { what: `PID ${pid} gone (${describePids([pid])})` });
    expect(daemonPids(w().town)).toEqual([]);

    const again = await w().run(["stop"]);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe("");
    expect(again.stderr).toMatch(/^gtd: daemon is not running \(.+\)\n$/);

    const st = await w().run(["status"]);
    expect(st.code).toBe(3);
    expect(st.stdout.split("\n")[0]).toBe("○ Daemon is not running");
    const js = await w().status();
    expect(js.code).toBe(3);
    expect(js.json).toMatchObject({ running: false, pid: null, stale_pid_file: null });

    const sig = await w().run(["signal"]);
    expect(sig.code).toBe(3);
    expect(sig.stderr).toMatch(/^gtd: daemon is not running/);
  }, T);
});

describe("signal", () => {
  test("SIGUSR1 runs exactly one lifecycle pass; the heartbeat count is unchanged", async () => {
    const pid = await startDaemon(w());
    await w().waitForLog("Heartbeat complete (#1)");
    const inbox0 = w().inboxCalls();
    expect(inbox0).toBe(1);

    const r = await w().run(["signal"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`PID ${pid}`);
    await w().waitForLog("Received SIGUSR1, processing lifecycle requests immediately");
    await waitFor(() => w().inboxCalls() === inbox0 + 1, { what: "one more inbox call" });
    const call = w().bdCalls().at(-1)!;
    expect(call.argv).toEqual(["mail", "inbox", "--identity", "deacon/", "--json"]);
    expect(call.cwd).toBe(w().town);
    expect(await w().waitRunning(pid)).toBe(pid);

    // Stopping ends every pass: the counts are final afterwards.
    expect((await w().run(["stop"])).code).toBe(0);
    expect(w().inboxCalls()).toBe(inbox0 + 1);
    expect(w().readState().heartbeat_count).toBe(1);
  }, T);
});

describe("town discovery", () => {
  test("start from <town>/rigA/crew/joe uses <town>", async () => {
    const sub = join(w().town, "rigA", "crew", "joe");
    mkdirSync(sub, { recursive: true });
    const r = await w().run(["start"], { cwd: sub });
    expect(r.code).toBe(0);
    const pid = Number(/PID (\d+)/.exec(r.stdout)![1]);
    expect(w().readPidFile()).toBe(String(pid));
    expect(existsSync(join(sub, "daemon"))).toBe(false);
    const st = await w().run(["status", "--json"], { cwd: sub });
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, pid, town: w().town });
    expect(daemonPids(w().town)).toEqual([pid]);
  }, T);

  test("outside any town: one error line, exit 1, nothing started", async () => {
    const outside = join(w().tmux.root, "elsewhere");
    mkdirSync(outside);
    const r = await w().run(["start"], { cwd: outside });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`gtd: not in a Gas Town workspace (looked for mayor/town.json above ${outside}; pass --town or set GT_TOWN_ROOT)\n`);
    expect(existsSync(join(outside, "daemon"))).toBe(false);
    expect(existsSync(w().paths.daemonDir)).toBe(false);
  }, T);
});

describe("usage", () => {
  test("unknown flag → exit 2 with one line, then the usage line", async () => {
    const r = await w().run(["start", "--forground"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^gtd: unknown option --forground for gtd start \(.+\)\nUSAGE gtd start \[OPTIONS\]\n$/);
    expect(existsSync(w().paths.pidFile)).toBe(false);
    expect((await w().run(["status", "--jsn"])).code).toBe(2);
  }, T);

  test("--town with no value is a usage error, not a silent fall-back to discovery", async () => {
    const r = await w().run(["status", "--town"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("gtd: --town needs a directory (e.g. --town ~/gt)\n");
  }, T);

  test("no arguments → usage, exit 2", async () => {
    const r = await runGtd([], { env: w().env, cwd: w().town });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/USAGE/);
    expect(r.stdout).toMatch(/start/);
    expect(r.stdout).not.toMatch(/\u001b\[/); // plain when not a terminal
  }, T);

  test("unknown command → exit 2", async () => {
    const r = await w().run(["strat"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gtd: unknown command "strat"/);
  }, T);

  test("a command named like an Object.prototype member is unknown too", async () => {
    for (const name of ["constructor", "__proto__", "toString"]) {
      const r = await w().run([name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toStartWith(`gtd: unknown command "${name}"`);
    }
  }, T);

  test("--version prints the package version, and the commit dist/gtd was built from (in a git checkout)", async () => {
    const r = await runGtd(["--version"], { env: w().env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S+( \([0-9a-f]{7}(-dirty)?\))?\n$/);
    expect(r.stdout.split(" ")[0]!.trim()).toBe(pkg.version);
  }, T);
});
