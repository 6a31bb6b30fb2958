/**
 * `gtd tick` through dist/gtd: the dry run plans a whole heartbeat (create the Deacon, poke it, carry out
 * a lifecycle request) and changes nothing at all (no tmux session, no file under the town created or
 * touched, no mail closed); the real tick does it; a real tick beside a running daemon is refused, a dry
 * run is not. Each test: its own town and private tmux server (useGtdWorld).
 */
import { beforeEach, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useGtdWorld } from "../helpers/gtd-cli.ts";
import { agentStarts, sessionNames, snapshotTree, startDaemon, waitForStarts } from "../helpers/e2e-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();
let inboxFile: string;
let env: Record<string, string>;

beforeEach(() => {
  inboxFile = join(w().tmux.root, "inbox.json");
  env = { FAKE_BD_INBOX: inboxFile };
  // A pending request, so the plan includes a restart and a close that a dry run must not carry out.
  writeFileSync(join(w().town, "mayor", "state.json"), JSON.stringify({ requesting_cycle: true, keep: "me" }, null, 2));
  writeFileSync(inboxFile, JSON.stringify([{ id: "m1", title: "LIFECYCLE: mayor requesting cycle", status: "open", sender: "mayor" }]));
});

const notInbox = () => w().bdCalls().filter((c) => !(c.argv[0] === "mail" && c.argv[1] === "inbox"));
const pick = (d: Array<Record<string, any>>) => d.map((x) => `${x.step}:${x.action}`);

test("--dry-run --json: the plan creates and pokes the Deacon and restarts the Mayor; nothing changes", async () => {
  const before = snapshotTree(w().town);
  const inboxBefore = readFileSync(inboxFile, "utf8");
  const r = await w().run(["tick", "--dry-run", "--json"], { extraEnv: env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const plan = JSON.parse(r.stdout);
  expect(plan).toMatchObject({ dry_run: true, town: w().town });
  expect(pick(plan.decisions)).toEqual([
    "ensureDeacon:would-create",
    "pokeAgents:would-poke",
    "processLifecycle:processing",
    "processLifecycle:executing",
    "processLifecycle:verified",
    "processLifecycle:would-restart",
    "processLifecycle:would-clear",
    "processLifecycle:would-close",
  ]);
  expect(plan.decisions[0]).toMatchObject({
    message: "Deacon session not running, would start gt-deacon (dry run: not created)",
    data: { session: "gt-deacon", cwd: w().town, command: ["claude", "--dangerously-skip-permissions"] },
  });
  expect(plan.decisions[1]).toMatchObject({ data: { session: "gt-deacon", freshness: "very-stale", text: "HEARTBEAT: run your rounds" } });
  expect(plan.decisions[1].message).toMatch(/^Would poke Deacon \(very stale, backoff now: 7m30s\)/);
  expect(plan.decisions[7]).toMatchObject({ message: "(dry run) would close message m1" });

  // Nothing changed: no session, no file under the town, no agent started, nothing closed or sent.
  expect(await sessionNames(w().tmux)).toEqual([]);
  expect(snapshotTree(w().town)).toEqual(before);
  expect(readdirSync(w().tmux.agentLogDir)).toEqual([]);
  expect(w().bdCalls().map((c) => c.argv)).toEqual([["mail", "inbox", "--identity", "deacon/", "--json"]]);
  expect(readFileSync(inboxFile, "utf8")).toBe(inboxBefore);

  // The human view prints the same decisions, each marked, and changes nothing either.
  const h = await w().run(["tick", "--dry-run"], { extraEnv: env });
  expect(h.code).toBe(0);
  const lines = h.stdout.trimEnd().split("\n");
  expect(lines.every((l) => l.startsWith("[dry-run] "))).toBe(true);
  expect(lines).toContain("[dry-run] Deacon session not running, would start gt-deacon (dry run: not created)");
  expect(lines).toContain("[dry-run] (dry run) would close message m1");
  expect(await sessionNames(w().tmux)).toEqual([]);
  expect(snapshotTree(w().town)).toEqual(before);
  expect(notInbox()).toEqual([]);
}, T);

test("a real tick creates gt-deacon with GT_ROLE=deacon, pokes it, counts the heartbeat", async () => {
  const r = await w().run(["tick"], { extraEnv: env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split("\n");
  expect(lines).toEqual(expect.arrayContaining([
    "Deacon session not running, starting...",
    "Deacon session started successfully",
    "Poked Deacon (very stale, backoff now: 7m30s)",
    "Restarted session gt-mayor",
    "Closed lifecycle message m1",
    "Heartbeat complete (#1)",
  ]));
  expect(await sessionNames(w().tmux)).toEqual(["gt-deacon", "gt-mayor"]);
  const [start] = await waitForStarts(w().tmux, "gt-deacon", 1);
  expect(start).toBe(`START argv=--dangerously-skip-permissions cwd=${w().town} GT_ROLE=deacon session=gt-deacon`);
  await waitFor(async () => (await w().tmux.agentLog("gt-deacon")).includes("LINE HEARTBEAT: run your rounds\n"), { what: "the poke" });
  expect((await waitForStarts(w().tmux, "gt-mayor", 1))[0]).toContain("GT_ROLE=mayor");
  expect(notInbox().map((c) => c.argv)).toEqual([["close", "m1"]]);
  const state = w().readState();
  expect(state).toMatchObject({ running: false, heartbeat_count: 1 });
  expect(typeof state.last_heartbeat).toBe("string");

  // The next tick counts on; the Deacon exists and its backoff holds, so nothing else happens.
  const r2 = await w().run(["tick"], { extraEnv: env });
  expect(r2.code).toBe(0);
  expect(r2.stdout).toContain("Deacon backoff in effect (interval: 7m30s), skipping poke");
  expect(w().readState().heartbeat_count).toBe(2);
  expect(await agentStarts(w().tmux, "gt-deacon")).toHaveLength(1);
  expect(notInbox()).toHaveLength(1);
}, T);

test("beside a running daemon: a real tick is refused naming its PID; a dry run is allowed and changes nothing", async () => {
  const pid = await startDaemon(w(), env);
  await w().waitForLog("Heartbeat complete (#1)");
  await w().waitForLog("Closed lifecycle message m1");
  const sessions = await sessionNames(w().tmux);
  expect(sessions).toEqual(["gt-deacon", "gt-mayor"]);
  const before = snapshotTree(w().town);
  const calls = w().bdCalls().length;

  const r = await w().run(["tick"], { extraEnv: env });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(new RegExp(`^gtd: the daemon \\(PID ${pid}\\) owns this town's heartbeat \\(.+\\)\\n$`));
  expect(w().bdCalls()).toHaveLength(calls);

  // A second request arrives; the dry run plans it but neither acts nor closes.
  writeFileSync(join(w().town, "mayor", "state.json"), JSON.stringify({ requesting_restart: true }));
  writeFileSync(inboxFile, JSON.stringify([{ id: "m2", title: "LIFECYCLE: mayor requesting restart", status: "open" }]));
  const before2 = snapshotTree(w().town);
  const d = await w().run(["tick", "--dry-run", "--json"], { extraEnv: env });
  expect(d.stderr).toBe("");
  expect(d.code).toBe(0);
  const plan = JSON.parse(d.stdout);
  expect(plan.dry_run).toBe(true);
  expect(pick(plan.decisions)).toContain("processLifecycle:would-close");
  expect(snapshotTree(w().town)).toEqual(before2);
  expect(Object.keys(before2).sort()).toEqual(Object.keys(before).sort());
  expect(await sessionNames(w().tmux)).toEqual(sessions);
  expect(await agentStarts(w().tmux, "gt-mayor")).toHaveLength(1);
  expect(notInbox().map((c) => c.argv)).toEqual([["close", "m1"]]);
  expect(await w().waitRunning(pid)).toBe(pid);
}, T);
