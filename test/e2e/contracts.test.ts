/**
 * The machine contracts as a script meets them: the real output of dist/gtd (`status --json` with the
 * daemon stopped and running, `tick --json`, `tick --dry-run --json`) validated by a real JSON Schema
 * validator (ajv) against the committed schemas/*.schema.json, with the exact key set pinned: a key
 * added to or dropped from the output without the contract (and test/helpers/contracts.ts) fails here.
 * Each test: its own town and private tmux server (useGtdWorld).
 */
import { expect, test } from "bun:test";
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  compile, committedSchema, schemaErrors, STATUS_KEY_PATHS, STATUS_KEYS, TICK_KEY_PATHS, TICK_KEYS, TICK_OPEN_PATHS, valueKeyPaths,
} from "../helpers/contracts.ts";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";

const T = 40_000;
const w = useGtdWorld();
const validStatus = compile(committedSchema("status"));
const validTick = compile(committedSchema("tick"));
const sorted = (xs: string[]) => [...xs].sort();

/** Run a --json command; exit code and the parsed object, with stderr empty. */
async function json(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; out: Record<string, any> }> {
  const r = await w().run(args, { extraEnv });
  expect(r.stderr).toBe("");
  return { code: r.code, out: JSON.parse(r.stdout) };
}

/** A LIFECYCLE request for the Mayor in the fake inbox; `flag` sets requesting_cycle, so it can succeed. */
function mayorRequest(flag: boolean): Record<string, string> {
  const inbox = join(w().tmux.root, "inbox.json");
  writeFileSync(join(w().town, "mayor", "state.json"), JSON.stringify(flag ? { requesting_cycle: true } : {}, null, 2));
  writeFileSync(inbox, JSON.stringify([{ id: "m1", title: "LIFECYCLE: mayor requesting cycle", status: "open", sender: "mayor" }]));
  return { FAKE_BD_INBOX: inbox };
}

test("status --json, no daemon: valid, exit 3, schema_version first, the top-level keys only", async () => {
  const { code, out } = await json(["status", "--json"]);
  expect(code).toBe(3);
  expect(schemaErrors(validStatus, out)).toBe("");
  expect(Object.keys(out)).toEqual(STATUS_KEYS);
  expect(out).toMatchObject({ schema_version: 2, running: false, pid: null, town: w().town, stale_pid_file: null, agents: [] });
  expect(sorted(valueKeyPaths(out))).toEqual(sorted([...STATUS_KEYS, "requests.pending", "requests.done"]));
}, T);

test("status --json, no daemon but a stale PID file: valid, the stale file's keys too", async () => {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.pidFile, "4242x");
  const { code, out } = await json(["status", "--json"]);
  expect(code).toBe(3);
  expect(schemaErrors(validStatus, out)).toBe("");
  expect(out.stale_pid_file).toEqual({ pid: null, content: "4242x" });
  expect(sorted(valueKeyPaths(out))).toEqual(sorted([...STATUS_KEYS, "stale_pid_file.pid", "stale_pid_file.content", "requests.pending", "requests.done"]));
}, T);

test("status --json, running with pokes, a failing request, a replaced executable and the Deacon's agents row: valid, every key but the stale file's", async () => {
  // The request fails its verification on every heartbeat and stays pending: far from its attempt limit.
  const env = { ...mayorRequest(false), GTD_HEARTBEAT: "1s", GTD_REQUESTS_MAX_ATTEMPTS: "1000" };
  // Started from a copy, so the copy can be replaced as an upgrade would (the daemon then says so).
  const exe = join(w().tmux.root, "upgrade", "gtd");
  mkdirSync(join(w().tmux.root, "upgrade"));
  copyFileSync(GTD, exe);
  const proc = Bun.spawn([exe, "start", "--foreground", "--town", w().town], { cwd: w().town, env: { ...w().env, ...env } as Record<string, string>, stdout: "ignore", stderr: "ignore" });
  w().track(proc.pid);
  await w().waitRunning(proc.pid);
  await w().waitForLog(/^Poked Deacon/);
  await w().waitForLog("Heartbeat complete (#1)");
  copyFileSync(GTD, `${exe}.new`);
  renameSync(`${exe}.new`, exe);
  // Noticed after the next heartbeat.
  await w().waitForLog(`gtd's executable ${exe} has been replaced since this daemon started`);

  const { code, out } = await json(["status", "--json"]);
  expect(code).toBe(0);
  expect(schemaErrors(validStatus, out)).toBe("");
  expect(Object.keys(out)).toEqual(STATUS_KEYS);
  expect(out).toMatchObject({ schema_version: 2, running: true, pid: proc.pid, heartbeat: "1s", executable_replaced: { path: exe } });
  expect(out.pokes.map((p: { agent: string }) => p.agent)).toEqual(["deacon"]);
  expect(out.agents.map((a: { agent: string }) => a.agent)).toEqual(["deacon"]);
  expect(out.requests.pending).toEqual([{ id: "m1", attempts: expect.any(Number), last_error: expect.any(String) }]);
  expect(sorted(valueKeyPaths(out))).toEqual(sorted(STATUS_KEY_PATHS.filter((p) => !p.startsWith("stale_pid_file."))));
  // The human view is rendered from the same object and says nothing of the contract's version.
  const human = await w().run(["status"]);
  expect(human.stdout).toStartWith(`● Daemon is running (PID ${proc.pid})\n`);
  expect(human.stdout).not.toContain("schema");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, T);

test("tick --dry-run --json and tick --json: valid, schema_version first, every key (data where a decision has it)", async () => {
  const env = mayorRequest(true);
  const plan = await json(["tick", "--dry-run", "--json"], env);
  expect(plan.code).toBe(0);
  expect(schemaErrors(validTick, plan.out)).toBe("");
  expect(Object.keys(plan.out)).toEqual(TICK_KEYS);
  // The count the planned pass would reach; nothing is saved.
  expect(plan.out).toMatchObject({ schema_version: 1, dry_run: true, town: w().town, heartbeat_count: 1 });
  expect(sorted(valueKeyPaths(plan.out, TICK_OPEN_PATHS))).toEqual(sorted(TICK_KEY_PATHS));

  const real = await json(["tick", "--json"], env);
  expect(real.code).toBe(0);
  expect(schemaErrors(validTick, real.out)).toBe("");
  expect(Object.keys(real.out)).toEqual(TICK_KEYS);
  expect(real.out).toMatchObject({ schema_version: 1, dry_run: false, town: w().town, heartbeat_count: 1 });
  expect(real.out.decisions.map((d: { action: string }) => d.action)).toEqual(expect.arrayContaining(["created", "poked", "restarted", "cleared", "closed"]));
  expect(sorted(valueKeyPaths(real.out, TICK_OPEN_PATHS))).toEqual(sorted(TICK_KEY_PATHS));
}, T);
