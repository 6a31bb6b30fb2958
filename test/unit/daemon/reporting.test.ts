/**
 * The daemon's reports beside the log, against a real datagram socket standing in for systemd: READY
 * after the first heartbeat then STATUS, RELOADING/READY, STOPPING, WATCHDOG only while the loop makes
 * progress; the metrics file after each heartbeat; one note when the executable is replaced.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import { createReporting, statusLine, watchdogDue } from "../../../src/daemon/reporting.ts";
import { formatGoTime } from "../../../src/gotime.ts";
import { emptyState } from "../../../src/state.ts";
import { newTickContext, type TickContext } from "../../../src/tick/context.ts";
import { townPaths } from "../../../src/town.ts";
import { fakePorts } from "../../helpers/fake-ports.ts";
import { notifySocket, type NotifySocket } from "../../helpers/notify-socket.ts";

let dir: string;
let sock: NotifySocket | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-reporting-"));
});
afterEach(() => {
  sock?.stop();
  sock = null;
  rmSync(dir, { recursive: true, force: true });
});

function heartbeatCtx(config: Config, count: number, deacon: "running" | "dead" | "missing"): TickContext {
  const ctx = newTickContext({ ports: fakePorts().ports, config, paths: townPaths(dir), state: { ...emptyState(), heartbeatCount: count } });
  ctx.sessions = new Map(deacon === "missing" ? [] : [["gt-deacon", { name: "gt-deacon", paneDead: deacon === "dead", paneCommand: "bash" }]]);
  ctx.decisions.push({ step: "pokeAgents", action: "poked", message: "Poked Deacon", data: { agent: "deacon" } });
  return ctx;
}

describe("reporting", () => {
  test("READY once the first heartbeat is done, STATUS after the next, RELOADING/READY, STOPPING", async () => {
    sock = await notifySocket(join(dir, "notify"));
    const logs: string[] = [];
    const exe = join(dir, "gtd");
    writeFileSync(exe, "v1");
    const r = createReporting({ env: { NOTIFY_SOCKET: sock.path }, pid: 1, paths: townPaths(dir), log: (l) => logs.push(l), config: defaultConfig, executable: exe, now: Date.now, saveState: () => {} });
    r.passStarted("heartbeat");
    r.passFinished("heartbeat", heartbeatCtx(defaultConfig(), 1, "running"), 5);
    r.passFinished("lifecycle", heartbeatCtx(defaultConfig(), 1, "running"), 5); // no STATUS for a lifecycle pass
    r.passFinished("heartbeat", heartbeatCtx(defaultConfig(), 2, "dead"), 5);
    r.reloading();
    r.reloaded();
    r.stopping();
    await sock.waitFor((m) => m === "STOPPING=1", "STOPPING=1");
    const got = sock.messages();
    expect(got[0]).toBe("READY=1\nSTATUS=Heartbeat #1: Deacon running, 0 lifecycle requests open");
    expect(got[1]).toBe("STATUS=Heartbeat #2: Deacon pane dead, 0 lifecycle requests open");
    expect(got[2]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    expect(got.slice(3)).toEqual(["READY=1\nSTATUS=Config reloaded", "STOPPING=1"]);
    expect(logs).toEqual([]);
    r.close();
  });

  test("WATCHDOG=1 reaches the socket at half the window while the loop is idle", async () => {
    sock = await notifySocket(join(dir, "notify"));
    const r = createReporting({ env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: "200000" }, pid: 1, paths: townPaths(dir), log: () => {}, config: defaultConfig, executable: join(dir, "none"), now: Date.now, saveState: () => {} });
    await sock.waitFor((m) => m === "WATCHDOG=1", "a ping while idle");
    r.close();
  });

  test("watchdogDue: idle always; in a pass only within the window since the last progress", () => {
    expect(watchdogDue(false, 10_000, 0, 1000)).toBe(true);
    expect(watchdogDue(true, 999, 0, 1000)).toBe(true);
    expect(watchdogDue(true, 1000, 0, 1000)).toBe(false);
    expect(watchdogDue(true, 50_000, 49_500, 1000)).toBe(true);
  });

  test("the metrics file after each heartbeat (relative to the town), and one warning when it cannot be written", () => {
    const logs: string[] = [];
    let config: Config = { ...defaultConfig(), metrics: { file: "gtd.prom" } };
    const r = createReporting({ env: {}, pid: 1, paths: townPaths(dir), log: (l) => logs.push(l), config: () => config, executable: join(dir, "none"), now: () => 1_700_000_000_000, saveState: () => {} });
    r.passFinished("heartbeat", heartbeatCtx(config, 1, "running"), 20);
    const text = readFileSync(join(dir, "gtd.prom"), "utf8");
    expect(text).toContain("gtd_heartbeats_total 1\n");
    expect(text).toContain('gtd_pokes_total{agent="deacon",result="poked"} 1\n');
    expect(text).toContain('gtd_agent_up{agent="deacon"} 1\n');
    config = { ...config, metrics: { file: join(dir, "missing-dir", "x", "gtd.prom") } };
    writeFileSync(join(dir, "missing-dir"), "a file where a directory should be");
    r.passFinished("heartbeat", heartbeatCtx(config, 2, "running"), 20);
    r.passFinished("heartbeat", heartbeatCtx(config, 3, "running"), 20);
    expect(logs.filter((l) => l.startsWith("Warning: cannot write the metrics file"))).toHaveLength(1);
  });

  test("a replaced executable is noticed once, logged and recorded in state", () => {
    const exe = join(dir, "gtd");
    writeFileSync(exe, "v1");
    const logs: string[] = [];
    let saves = 0;
    const r = createReporting({ env: {}, pid: 1, paths: townPaths(dir), log: (l) => logs.push(l), config: defaultConfig, executable: exe, now: () => 1_700_000_000_000, saveState: () => void saves++ });
    const ctx = heartbeatCtx(defaultConfig(), 1, "running");
    r.passFinished("heartbeat", ctx, 1);
    expect(logs).toEqual([]);
    rmSync(exe);
    writeFileSync(exe, "v2"); // a new file under the old name, as an install does
    r.passFinished("heartbeat", ctx, 1);
    r.passFinished("heartbeat", ctx, 1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`gtd's executable ${exe} has been replaced since this daemon started`);
    // The clock's instant in state.json's time format (local time, as every time there).
    expect(ctx.state.extra.executable_replaced).toEqual({ path: exe, noticed_at: formatGoTime(1_700_000_000_000) });
    expect(saves).toBe(1);
  });

  test("statusLine counts open requests", () => {
    const ctx = heartbeatCtx(defaultConfig(), 7, "missing");
    const entry = (done: boolean) => ({ attempts: 1, firstSeenMs: 0, lastSeenMs: 0, lastError: null, done });
    ctx.state.requests = new Map([["a", entry(false)], ["b", entry(true)], ["c", entry(false)]]);
    expect(statusLine(ctx)).toBe("Heartbeat #7: Deacon missing, 2 lifecycle requests open");
  });
});
