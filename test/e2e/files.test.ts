/**
 * The daemon's files and settings through dist/gtd: a corrupt state.json is set aside (never fatal); a
 * bad config is refused before anything is spawned; `gtd config` names each value's source; cron and
 * duration heartbeats tick; `gtd logs` shows the tail and follows new lines.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonPids, spawnGtd, startedPid, useGtdWorld } from "../helpers/gtd-cli.ts";
import { startDaemon } from "../helpers/e2e-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();

function writeDaemonFile(name: string, text: string): void {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(join(w().paths.daemonDir, name), text);
}

test("a corrupt state.json is kept aside, reported, and replaced", async () => {
  writeDaemonFile("state.json", '{"running": tru');
  const pid = await startDaemon(w());
  const aside = readdirSync(w().paths.daemonDir).filter((f) => f.startsWith("state.json.corrupt-"));
  expect(aside.length).toBe(1);
  expect(readFileSync(join(w().paths.daemonDir, aside[0]!), "utf8")).toBe('{"running": tru');
  const warning = w().logMessages().find((m) => m.startsWith("Warning:") && m.includes("state.json"));
  expect(warning).toBeDefined();
  expect(warning).toContain(aside[0]!);
  const state = await w().waitForHeartbeats(1);
  expect(state).toMatchObject({ running: true, pid, heartbeat_count: 1 });
  const st = await w().status();
  expect(st.code).toBe(0);
  expect(st.json.state_problem).toBeNull();
}, T);

for (const [config, names] of [
  ['{"heartbeat":"5x"}', "heartbeat"],
  ['{"bogus":1}', "bogus"],
] as const) {
  test(`config ${config}: start refuses with one line naming "${names}"; nothing spawned`, async () => {
    writeDaemonFile("config.json", config);
    const r = await w().run(["start"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^gtd: /);
    expect(lines[0]).toContain(names);
    expect(existsSync(w().paths.pidFile)).toBe(false);
    expect(existsSync(w().paths.stateFile)).toBe(false);
    expect(daemonPids(w().town)).toEqual([]);
    expect((await w().status()).code).toBe(3);
    expect(w().bdCalls()).toEqual([]);
    expect(await w().tmux.tmux("list-sessions", "-F", "#S").catch(() => "")).toBe("");
    // --foreground refuses the same way.
    const fg = await w().run(["start", "--foreground"], { timeoutMs: 10_000 });
    expect(fg.code).toBe(1);
    expect(fg.stderr.trimEnd().split("\n")).toEqual(lines);
    expect(existsSync(w().paths.pidFile)).toBe(false);
  }, T);
}

test("gtd config --json names each value's source", async () => {
  const r = await w().run(["config", "--json"], { extraEnv: { GTD_HEARTBEAT: "30s" } });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const cfg = JSON.parse(r.stdout);
  expect(cfg.file).toBe(w().paths.configFile);
  expect(cfg.settings.heartbeat).toMatchObject({ value: "30s", source: "env GTD_HEARTBEAT", env: "GTD_HEARTBEAT" });
  expect(cfg.settings["backoff.base"]).toMatchObject({ value: "5m", source: "default" });

  writeDaemonFile("config.json", '{"backoff":{"base":"1m"}}');
  const r2 = await w().run(["config", "--json"]);
  expect(r2.code).toBe(0);
  const cfg2 = JSON.parse(r2.stdout);
  expect(cfg2.settings["backoff.base"]).toMatchObject({ value: "1m", source: "config.json" });
  expect(cfg2.settings.heartbeat).toMatchObject({ value: "5m", source: "default" });

  const human = await w().run(["config"], { extraEnv: { GTD_HEARTBEAT: "30s" } });
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/^heartbeat\s+"30s"\s+\(env GTD_HEARTBEAT\)$/m);
}, T);

test('a 6-field cron heartbeat ("* * * * * *") ticks every second', async () => {
  const r = await w().run(["start", "--heartbeat", "* * * * * *"]);
  expect(r.code).toBe(0);
  const state = await w().waitForHeartbeats(3, 20_000);
  expect(state.heartbeat).toBe("* * * * * *");
  expect(w().logMessages()).toContain('Daemon running, heartbeat on cron "* * * * * *"');
  expect((await w().status()).json.heartbeat_count).toBeGreaterThanOrEqual(3);
}, T);

test("a 1s duration heartbeat ticks", async () => {
  const r = await w().run(["start"], { extraEnv: { GTD_HEARTBEAT: "1s" } });
  expect(r.code).toBe(0);
  await w().waitForHeartbeats(3, 15_000);
  expect(w().logMessages()).toContain("Daemon running, heartbeat every 1s");
  await w().waitForLog("Heartbeat complete (#3)");
}, T);

test("gtd logs -n 2 prints the last two lines", async () => {
  const missing = await w().run(["logs"]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toMatch(/^gtd: no log file found at /);

  expect((await w().run(["start"])).code).toBe(0);
  await w().waitForLog("Heartbeat complete (#1)");
  expect((await w().run(["stop"])).code).toBe(0);
  const all = w().readLog().split("\n").filter(Boolean);
  expect(all.length).toBeGreaterThan(2);

  const r = await w().run(["logs", "-n", "2"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(`${all.slice(-2).join("\n")}\n`);
  const long = await w().run(["logs", "--lines", "1000"]);
  expect(long.stdout).toBe(`${all.join("\n")}\n`);
  expect((await w().run(["logs", "-n", "x"])).code).toBe(2);
}, T);

test("gtd logs -f prints new lines as they are written", async () => {
  const r = await w().run(["start"]);
  expect(r.code).toBe(0);
  const pid = startedPid(r.stdout);
  await w().waitForLog("Heartbeat complete (#1)");

  const { proc, stdout: out } = spawnGtd(["logs", "-f", "-n", "1"], { cwd: w().town, env: w().env });
  w().track(proc.pid);
  try {
    await waitFor(() => out().includes("Heartbeat complete (#1)"), { what: "the last line first" });
    expect(out()).not.toContain("SIGUSR1");
    expect((await w().run(["signal"])).code).toBe(0);
    await waitFor(() => out().includes("Received SIGUSR1, processing lifecycle requests immediately"), { what: "followed SIGUSR1 line" });
    expect((await w().run(["stop"])).code).toBe(0);
    await waitFor(() => out().includes(`Daemon stopped`), { what: "followed shutdown lines" });
    expect(out()).toContain("Received signal terminated, shutting down");
    expect(daemonPids(w().town)).not.toContain(pid);
    expect(proc.exitCode).toBeNull(); // still following
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, T);

test("after a log rotation the daemon's stderr points at the new daemon.log, not the rotated one", async () => {
  // Launched by `gtd start`, stderr is the log; crash output after a rotation must not go to .1 or a
  // deleted file.
  // A 300-byte log rotates every two heartbeats or so (each logs about 160 bytes).
  const pid = await startDaemon(w(), { GTD_HEARTBEAT: "1s", GTD_LOG_MAX_SIZE: "300" });
  await waitFor(() => existsSync(`${w().paths.logFile}.2`), { timeoutMs: 20_000, what: "two rotations" });
  const target = await waitFor(() => {
    const t = readlinkSync(`/proc/${pid}/fd/2`);
    return t === w().paths.logFile ? t : null;
  }, { what: "fd 2 on daemon.log" });
  expect(target).toBe(w().paths.logFile);
}, T);

test("temp files a crash left in daemon/ are removed at start, and said; a fresh one is spared", async () => {
  writeDaemonFile(".state.json.999.1.tmp", '{"running": tr');
  writeDaemonFile(".state.json.999.2.tmp", "in flight");
  const old = new Date(Date.now() - 10 * 60_000);
  utimesSync(join(w().paths.daemonDir, ".state.json.999.1.tmp"), old, old);
  await startDaemon(w());
  expect(existsSync(join(w().paths.daemonDir, ".state.json.999.1.tmp"))).toBe(false);
  expect(existsSync(join(w().paths.daemonDir, ".state.json.999.2.tmp"))).toBe(true);
  expect(w().logMessages().some((m) => m.startsWith("Removed leftover temp file") && m.endsWith(".state.json.999.1.tmp"))).toBe(true);
}, T);
