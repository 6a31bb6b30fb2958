/**
 * The status contract against what daemonStatus really builds from a town's files (a held lock, a PID
 * file, state.json): it passes the valibot schema and the committed JSON Schema, schema_version first;
 * and the two schemas agree on what they refuse (a key added or missing, another version, a bad time).
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { StatusSchema, type Status } from "../../../src/contracts/status.ts";
import { tryLock, type LockHandle } from "../../../src/daemon/lock.ts";
import { daemonStatus, renderStatus } from "../../../src/daemon/status.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";
import { compile, committedSchema, schemaErrors, STATUS_KEY_PATHS, STATUS_KEYS, valueKeyPaths } from "../../helpers/contracts.ts";

let dir: string;
let paths: TownPaths;
let lock: LockHandle | null = null;
const validate = compile(committedSchema("status"));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-contract-"));
  paths = townPaths(dir);
});
afterEach(() => {
  lock?.release();
  lock = null;
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** This process as the daemon: it holds the lock, and state.json is written as the daemon writes it. */
function runningDaemon(extra: Record<string, unknown>): void {
  lock = tryLock(paths.lockFile);
  lock!.writeOwner(String(process.pid));
  writeFileSync(paths.pidFile, String(process.pid));
  const state = { running: true, pid: process.pid, started_at: "2026-11-25T12:00:00Z", last_heartbeat: "2026-11-25T12:00:01Z", heartbeat_count: 2, ...extra };
  writeFileSync(paths.stateFile, JSON.stringify(state, null, 2));
}

/** Both schemas' verdicts: true when valid. */
const verdicts = (x: unknown) => ({ valibot: v.safeParse(StatusSchema, x).success, jsonSchema: validate(x) });

function expectValid(s: Status): void {
  expect(v.safeParse(StatusSchema, s).issues).toBeUndefined();
  expect(schemaErrors(validate, s)).toBe("");
  expect(Object.keys(s)).toEqual(STATUS_KEYS);
}

function fullStatus(): Status {
  runningDaemon({
    heartbeat: "5m",
    next_heartbeat: "2026-11-25T12:05:00Z",
    executable_replaced: { path: "/usr/local/bin/gtd", noticed_at: "2026-11-25T12:00:30.5Z" },
    backoff: { deacon: { interval_ms: 450000, last_poke: "2026-11-25T12:00:01Z", misses: 1, last_activity: null } },
    requests: {
      "gt-a1": { attempts: 2, first_seen: "2026-11-25T12:00:00Z", last_seen: "2026-11-25T12:00:01Z", last_error: "state verification failed: x", done: false },
      "gt-b2": { attempts: 1, first_seen: "2026-11-25T12:00:00Z", last_seen: "2026-11-25T12:00:01Z", last_error: null, done: true },
    },
    supervise: {
      deacon: { liveness: "running", liveness_since: "2026-11-25T12:00:00Z", last_poke: "2026-11-25T12:00:01Z", unanswered: 1 },
      "gastown-witness": {
        liveness: "held",
        liveness_since: "2026-11-25T12:00:30Z",
        starts: ["2026-11-25T11:59:00Z", "2026-11-25T12:00:30Z"],
        delay_ms: 60000,
        held_until: "2026-11-25T13:00:30Z",
        held_why: "5 restarts within 15m0s, last exit status 1",
        stranded: true,
        deferred_why: "a person is typing in gt-gastown-witness",
      },
    },
  });
  return daemonStatus(paths, T0 + 61_000);
}

test("running, with every nested object filled: valid under both schemas, every key but the stale PID file's", () => {
  const s = fullStatus();
  expectValid(s);
  expect(s.schema_version).toBe(2);
  expect(s.agents.map((a) => [a.agent, a.session, a.liveness])).toEqual([["deacon", "gt-deacon", "running"], ["gastown-witness", "gt-gastown-witness", "held"]]);
  expect(valueKeyPaths(s).sort()).toEqual(STATUS_KEY_PATHS.filter((p) => !p.startsWith("stale_pid_file.")).sort());
  // JSON as printed, read back, is still valid (what a consumer sees).
  expect(schemaErrors(validate, JSON.parse(JSON.stringify(s, null, 2)))).toBe("");
});

test("not running, with a stale PID file and an unreadable state.json: valid", () => {
  mkdirSync(paths.daemonDir);
  writeFileSync(paths.pidFile, "not a pid\n");
  writeFileSync(paths.stateFile, "{ nope");
  const s = daemonStatus(paths, T0);
  expectValid(s);
  expect(s).toMatchObject({ running: false, pid: null, stale_pid_file: { pid: null, content: "not a pid\n" } });
  expect(typeof s.state_problem).toBe("string");
  expect(valueKeyPaths(s).sort()).toEqual([...STATUS_KEYS, "stale_pid_file.pid", "stale_pid_file.content", "requests.pending", "requests.done"].sort());
});

test("an empty town: valid", () => {
  expectValid(daemonStatus(paths, T0));
});

test("the two schemas refuse the same things: an extra key, a missing key, another version (the old 1 too), a bad time, count or liveness", () => {
  const s = fullStatus();
  expect(verdicts(s)).toEqual({ valibot: true, jsonSchema: true });
  const { town: _town, ...missing } = s;
  const bad: unknown[] = [
    { ...s, extra_key: 1 },
    missing,
    { ...s, schema_version: 1 },
    { ...s, started_at: "yesterday" },
    { ...s, uptime_ms: 1.5 },
    { ...s, pokes: [{ ...s.pokes[0], colour: "red" }] },
    { ...s, requests: { ...s.requests, pending: [{ id: "x", attempts: -1, last_error: null }] } },
    { ...s, executable_replaced: { path: "/x" } },
    { ...s, agents: [{ ...s.agents[0], liveness: "zombie" }] },
    { ...s, agents: [{ ...s.agents[0], colour: "red" }] },
    { ...s, agents: [{ ...s.agents[0], restart_delay_ms: -1 }] },
    { ...s, agents: [{ ...s.agents[0], since: "soon" }] },
  ];
  for (const x of bad) expect({ x, ...verdicts(x) }).toEqual({ x, valibot: false, jsonSchema: false });
});

test("a noticed_at in state.json that is not a time is reported as null; the human note is unchanged (no time)", () => {
  runningDaemon({ executable_replaced: { path: "/usr/local/bin/gtd", noticed_at: "soon" } });
  const s = daemonStatus(paths, T0 + 1000);
  expectValid(s);
  expect(s.executable_replaced).toEqual({ path: "/usr/local/bin/gtd", noticed_at: null });
  expect(renderStatus(s)).toContain("  Note: /usr/local/bin/gtd was replaced; restart the daemon to run the new one");
});

test("a gtd tick holds the lock: not running, its PID in tick_pid; valid", () => {
  lock = tryLock(paths.lockFile);
  lock!.writeOwner(`tick ${process.pid}`);
  const s = daemonStatus(paths, T0);
  expectValid(s);
  expect(s).toMatchObject({ running: false, pid: null, tick_pid: process.pid });
});
