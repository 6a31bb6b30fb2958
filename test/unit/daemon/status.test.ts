import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { tryLock, type LockHandle } from "../../../src/daemon/lock.ts";
import { daemonStatus, renderStatus } from "../../../src/daemon/status.ts";
import { formatGoTime } from "../../../src/gotime.ts";
import { superviseFiles } from "../../../src/supervise-files.ts";
import { PLAIN } from "../../../src/text-table.ts";
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

describe("supervised agents", () => {
  const supervise = {
    deacon: { liveness: "running", liveness_since: "2026-11-25T12:00:00Z", last_poke: "2026-11-25T12:00:49Z", unanswered: 0 },
    mayor: {
      liveness: "held",
      liveness_since: "2026-11-25T12:00:30Z",
      starts: ["2026-11-25T11:59:00Z", "2026-11-25T11:59:30Z", "2026-11-25T12:00:00Z"],
      delay_ms: 120000,
      held_until: "2026-11-25T13:00:30Z",
      held_why: "5 restarts within 15m0s, last exit status 1",
      last_poke: null,
      unanswered: 2,
      stranded: true,
      deferred_why: "a person was active at gt-mayor 5s ago",
    },
    "gastown-witness": { liveness: "napping", liveness_since: null },
    // state.json is hand-editable: a record under a name that is no agent has no row.
    "not an agent": { liveness: "running" },
    "gastown/refinery": { liveness: "running" },
  };
  const NOW = T0 + 61_000;

  test("one row per record, the Deacon first; paused from paused.json; the Deacon's session as configured", () => {
    runningDaemon({ supervise });
    superviseFiles(paths).writePaused(["mayor"]);
    const s = daemonStatus(paths, NOW, { deaconSession: "hq-deacon" });
    expect(s.agents).toEqual([
      {
        agent: "deacon", session: "hq-deacon", liveness: "running", since: expect.stringMatching(/^2026-11-25T/), restarts: 0, restart_delay_ms: 0,
        held_until: null, held_why: null, paused: false, last_poke: expect.any(String), unanswered: 0, stranded: false, deferred_why: null,
      },
      // A liveness gtd does not know reads as missing.
      {
        agent: "gastown-witness", session: "gt-gastown-witness", liveness: "missing", since: null, restarts: 0, restart_delay_ms: 0,
        held_until: null, held_why: null, paused: false, last_poke: null, unanswered: 0, stranded: false, deferred_why: null,
      },
      {
        agent: "mayor", session: "gt-mayor", liveness: "held", since: expect.any(String), restarts: 3, restart_delay_ms: 120000,
        held_until: expect.any(String), held_why: "5 restarts within 15m0s, last exit status 1", paused: true, last_poke: null, unanswered: 2,
        stranded: true, deferred_why: "a person was active at gt-mayor 5s ago",
      },
    ]);
    expect(Date.parse(s.agents[2]!.held_until!)).toBe(Date.parse("2026-11-25T13:00:30Z"));
    // Without the config's word, the default session.
    expect(daemonStatus(paths, NOW).agents[0]!.session).toBe("gt-deacon");
  });

  test("no records: no rows (a town that supervises nothing beyond the Deacon gets its row once the daemon has one)", () => {
    runningDaemon({});
    expect(daemonStatus(paths, NOW).agents).toEqual([]);
    expect(renderStatus(daemonStatus(paths, NOW), PLAIN, NOW).some((l) => l.includes("Agent"))).toBe(false);
  });

  test("not running: no rows from an old state file, even with paused agents", () => {
    writeStateFile({ pid: 999999 }, { supervise });
    superviseFiles(paths).writePaused(["mayor"]);
    expect(daemonStatus(paths, NOW).agents).toEqual([]);
  });

  test("on a pipe: one line per agent, every time with its age", () => {
    runningDaemon({ supervise });
    superviseFiles(paths).writePaused(["mayor"]);
    const lines = renderStatus(daemonStatus(paths, NOW), PLAIN, NOW);
    const at = (ms: number) => clock(ms);
    expect(lines).toContain(`  Agent deacon (gt-deacon): running since ${at(T0)} (1m1s ago); 0 restarts; last poke ${at(T0 + 49_000)} (12s ago)`);
    expect(lines).toContain(
      `  Agent mayor (gt-mayor): held since ${at(T0 + 30_000)} (31s ago); 3 restarts, delay 2m0s; paused (gtd resume); ` +
        `held until ${at(T0 + 3_630_000)} (in 59m29s): 5 restarts within 15m0s, last exit status 1; 2 pokes unanswered; ` +
        "last poke stranded on the input line; poke deferred: a person was active at gt-mayor 5s ago",
    );
    expect(lines).toContain("  Agent gastown-witness (gt-gastown-witness): missing; 0 restarts");
  });

  test("on a terminal: a table, liveness coloured, every time with its age", () => {
    runningDaemon({ supervise });
    const plain = renderStatus(daemonStatus(paths, NOW), { table: true, color: false }, NOW);
    const head = plain.findIndex((l) => l.startsWith("  AGENT  "));
    expect(plain[head]).toMatch(/^ {2}AGENT +SESSION +LIVENESS +SINCE +RESTARTS +DELAY +LAST POKE +NOTE$/);
    expect(plain[head + 1]).toMatch(new RegExp(`^ {2}deacon +gt-deacon +running +${clock(T0)} \\(1m1s ago\\) +0 +- +${clock(T0 + 49_000)} \\(12s ago\\)$`));
    expect(plain[head + 2]).toMatch(/^ {2}gastown-witness +gt-gastown-witness +missing +- +0 +- +-$/);
    expect(plain[head + 3]).toMatch(new RegExp(`^ {2}mayor +gt-mayor +held +${clock(T0 + 30_000)} \\(31s ago\\) +3 +2m0s +- +held until ${clock(T0 + 3_630_000)} \\(in 59m29s\\): 5 restarts`));
    const colour = renderStatus(daemonStatus(paths, NOW), { table: true, color: true }, NOW);
    expect(colour.some((l) => l.includes("\u001b[32mrunning\u001b[0m"))).toBe(true);
    expect(colour.some((l) => l.includes("\u001b[33mheld\u001b[0m"))).toBe(true);
  });
});

const two = (n: number) => String(n).padStart(2, "0");
/** Local wall-clock time, as status shows it. */
function clock(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
