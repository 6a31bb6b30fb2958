import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { tryLock, type LockHandle } from "../../../src/daemon/lock.ts";
import { daemonStatus, renderStatus } from "../../../src/daemon/status.ts";
import { formatGoTime } from "../../../src/gotime.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";

let dir: string;
let paths: TownPaths;
let lock: LockHandle | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-status-"));
  paths = townPaths(dir);
});
afterEach(() => {
  lock?.release();
  lock = null;
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** state.json as the daemon writes it: the original's five keys, then gtd's (backoff, requests, ...) as given. */
function writeStateFile(fields: { pid: number; startedAtMs?: number; lastHeartbeatMs?: number; heartbeatCount?: number }, extra: Record<string, unknown>): void {
  const file = {
    running: true,
    pid: fields.pid,
    started_at: formatGoTime(fields.startedAtMs ?? null),
    last_heartbeat: formatGoTime(fields.lastHeartbeatMs ?? null),
    heartbeat_count: fields.heartbeatCount ?? 0,
    ...extra,
  };
  mkdirSync(dirname(paths.stateFile), { recursive: true });
  writeFileSync(paths.stateFile, JSON.stringify(file, null, 2));
}

function runningDaemon(extra: Record<string, unknown>): void {
  lock = tryLock(paths.lockFile);
  lock!.writeOwner(String(process.pid));
  writeFileSync(paths.pidFile, String(process.pid));
  writeStateFile({ pid: process.pid, startedAtMs: T0, lastHeartbeatMs: T0 + 1000, heartbeatCount: 2 }, extra);
}

test("running: backoff and lifecycle work in progress come from state.json, in JSON and in the human view", () => {
  runningDaemon({
    heartbeat: "5m",
    backoff: { deacon: { interval_ms: 450000, last_poke: "2026-11-25T12:00:01Z", misses: 1, last_activity: null } },
    requests: {
      "gt-a1": { attempts: 2, first_seen: "2026-11-25T12:00:00Z", last_seen: "2026-11-25T12:00:01Z", last_error: "state verification failed: x", done: false },
      "gt-b2": { attempts: 1, first_seen: "2026-11-25T12:00:00Z", last_seen: "2026-11-25T12:00:01Z", last_error: null, done: true },
    },
  });
  const s = daemonStatus(paths, T0 + 61_000);
  expect(s).toMatchObject({ running: true, pid: process.pid, heartbeat_count: 2, uptime_ms: 61_000, tick_pid: null });
  expect(s.pokes).toEqual([{ agent: "deacon", interval_ms: 450000, last_poke: expect.any(String), unanswered: 1 }]);
  expect(s.requests).toEqual({ pending: [{ id: "gt-a1", attempts: 2, last_error: "state verification failed: x" }], done: 1 });
  const lines = renderStatus(s);
  expect(lines[0]).toBe(`● Daemon is running (PID ${process.pid})`);
  expect(lines.some((l) => /^ {2}Pokes: deacon every 7m30s, last \d\d:\d\d:\d\d \(1 unanswered\)$/.test(l))).toBe(true);
  expect(lines).toContain("  Lifecycle requests: 1 pending, 1 handled");
  expect(lines).toContain("    gt-a1: 2 attempts, last error: state verification failed: x");
});

test("not running: no pokes or requests reported from an old state file; a stale PID file is named", () => {
  writeStateFile({ pid: 999999 }, { backoff: { deacon: { interval_ms: 1, last_poke: null, misses: 0 } } });
  writeFileSync(paths.pidFile, "999999");
  const s = daemonStatus(paths, T0);
  expect(s).toMatchObject({ running: false, pid: null, pokes: [], requests: { pending: [], done: 0 } });
  expect(s.stale_pid_file).toEqual({ pid: 999999, content: "999999" });
  expect(renderStatus(s)[0]).toBe("○ Daemon is not running");
});

test("on a terminal: pokes and requests as aligned tables, liveness in colour (NO_COLOR keeps the table, drops the colour)", () => {
  runningDaemon({
    heartbeat: "5m",
    backoff: {
      deacon: { interval_ms: 450000, last_poke: "2026-11-25T12:00:01Z", misses: 1, last_activity: null },
      "gastown-witness": { interval_ms: 300000, last_poke: null, misses: 0, last_activity: null },
    },
    requests: { "gt-a1": { attempts: 2, first_seen: "2026-11-25T12:00:00Z", last_seen: "2026-11-25T12:00:01Z", last_error: "boom", done: false } },
  });
  const s = daemonStatus(paths, T0 + 61_000);
  const colour = renderStatus(s, { table: true, color: true });
  expect(colour[0]).toBe(`\u001b[32m●\u001b[0m Daemon is running (PID ${process.pid})`);
  const plain = renderStatus(s, { table: true, color: false });
  expect(plain[0]).toBe(`● Daemon is running (PID ${process.pid})`);
  const at = plain.indexOf("  AGENT            POKE EVERY  LAST POKE  UNANSWERED");
  expect(at).toBeGreaterThan(0);
  expect(plain[at + 1]).toMatch(/^ {2}deacon {11}7m30s {7}\d\d:\d\d:\d\d {3}1$/);
  expect(plain[at + 2]).toBe("  gastown-witness  5m0s        -          0");
  expect(plain).toContain("    REQUEST  ATTEMPTS  LAST ERROR");
  expect(plain).toContain("    gt-a1    2         boom");
  expect(plain.join("\n")).not.toContain("\u001b[");
});
