/**
 * One daemon per town, race-free (design: "Defects fixed"): concurrent starts leave exactly one daemon;
 * a kill -9'd daemon never blocks the next start; a PID file naming an unrelated live process is never
 * signalled and never counts as running; a second foreground daemon leaves the first one's files alone.
 * And the lock, the log and daemon/ never lead outside the town (issue 7, class 4): a symlinked lock or
 * log, or a daemon/ that resolves elsewhere, is refused with one line naming it, and what it points at is
 * byte-for-byte unchanged; a log replaced by a link while running costs one warning, never the daemon.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonPids, describePids, procAlive, procState, startedPid, useGtdWorld } from "../helpers/gtd-cli.ts";
import { startDaemon } from "../helpers/e2e-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();

test("six concurrent starts: exactly one daemon, the others name it", async () => {
  const results = await Promise.all(Array.from({ length: 6 }, () => w().run(["start"], { timeoutMs: 20_000 })));
  const winners = results.filter((r) => r.code === 0);
  const losers = results.filter((r) => r.code !== 0);
  const report = JSON.stringify(results);
  expect(winners.length, report).toBe(1);
  const pid = startedPid(winners[0]!.stdout);
  expect(Number.isInteger(pid), report).toBe(true);
  expect(winners[0]!.stderr).toBe("");
  for (const r of losers) {
    expect(r.code, report).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr, report).toMatch(new RegExp(`^gtd: daemon already running \\(PID ${pid}\\)`));
    expect(r.stderr.trimEnd().split("\n").length).toBe(1);
  }
  expect(await w().waitRunning(pid)).toBe(pid);
  expect(w().readPidFile()).toBe(String(pid));
  // Losing children exit on their own; only the winner is left.
  await waitFor(() => daemonPids(w().town).length === 1, { what: `one daemon process (${describePids(daemonPids(w().town))})` });
  expect(daemonPids(w().town)).toEqual([pid]);
  expect(w().readState()).toMatchObject({ running: true, pid });
}, T);

test("after kill -9 the next start works with no manual cleanup", async () => {
  const first = await w().run(["start"]);
  expect(first.code).toBe(0);
  const pid1 = startedPid(first.stdout);
  await w().waitForHeartbeats(1);
  process.kill(pid1, "SIGKILL");
  await waitFor(() => !procAlive(pid1), { what: `PID ${pid1} dead (${describePids([pid1])})` });

  // The crash left its PID file and running:true behind; the lock went with the process.
  const st = await w().status();
  expect(st.code).toBe(3);
  expect(st.json.running).toBe(false);
  expect(st.json.stale_pid_file).toMatchObject({ pid: pid1 });

  const pid2 = await startDaemon(w());
  expect(pid2).not.toBe(pid1);
  expect(await w().waitRunning(pid2)).toBe(pid2);
  expect(w().readPidFile()).toBe(String(pid2));
  expect(w().readState()).toMatchObject({ running: true, pid: pid2 });
  expect(daemonPids(w().town)).toEqual([pid2]);
}, T);

test("a PID file naming an unrelated live process: never signalled, never running", async () => {
  const sleeper = Bun.spawn(["sleep", "300"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  w().track(sleeper.pid);
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.pidFile, String(sleeper.pid));

  const human = await w().run(["status"]);
  expect(human.code).toBe(3);
  expect(human.stdout.split("\n")[0]).toBe("○ Daemon is not running");
  expect(human.stdout).toMatch(/Stale PID file/);
  expect(human.stdout).toContain(String(sleeper.pid));
  const st = await w().status();
  expect(st.code).toBe(3);
  expect(st.json).toMatchObject({ running: false, pid: null, stale_pid_file: { pid: sleeper.pid } });

  const stop = await w().run(["stop", "--timeout", "1s"]);
  expect(stop.code).toBe(3);
  expect(stop.stdout).toBe("");
  const sig = await w().run(["signal"]);
  expect(sig.code).toBe(3);
  expect(sig.stdout).toBe("");
  // The file is reported, not removed, and its process is untouched.
  expect(w().readPidFile()).toBe(String(sleeper.pid));
  expect(procAlive(sleeper.pid)).toBe(true);
  expect(sleeper.exitCode).toBeNull();
  expect(sleeper.signalCode).toBeNull();

  const pid = await startDaemon(w());
  expect(pid).not.toBe(sleeper.pid);
  expect(w().readPidFile()).toBe(String(pid));
  expect(await w().waitRunning(pid)).toBe(pid);
  expect((await w().status()).json.stale_pid_file).toBeNull();

  // Still the same sleep, still running, never signalled.
  expect(procState(sleeper.pid)).toMatch(/^[RS]$/);
  expect(sleeper.exitCode).toBeNull();
  expect(sleeper.signalCode).toBeNull();
}, T);

test("a second start --foreground while one runs exits 1 and leaves the first's PID file", async () => {
  const first = await w().run(["start"]);
  expect(first.code).toBe(0);
  const pid = startedPid(first.stdout);
  await w().waitForHeartbeats(1);
  const stateBefore = w().readState();

  const second = await w().run(["start", "--foreground"], { timeoutMs: 10_000 });
  expect(second.code).toBe(1);
  expect(second.stdout).toBe("");
  expect(second.stderr).toMatch(new RegExp(`^gtd: daemon already running \\(PID ${pid}\\)\\n$`));
  expect(w().readPidFile()).toBe(String(pid));
  expect(await w().waitRunning(pid)).toBe(pid);
  expect(daemonPids(w().town)).toEqual([pid]);
  const stateAfter = w().readState();
  expect(stateAfter.pid).toBe(pid);
  expect(stateAfter.started_at).toBe(stateBefore.started_at);
  expect(stateAfter.running).toBe(true);
  // The refused daemon wrote nothing to the log as if it had started.
  expect(w().logMessages().filter((m) => m.startsWith("Daemon starting")).length).toBe(1);
}, T);

/** A file outside the town (beside it, in the world's temp root) with known bytes, and a check on them. */
function outsideFile(): { path: string; unchanged(): void } {
  const path = join(w().tmux.root, "outside.txt");
  const bytes = "precious: not gtd's to truncate or append to\n";
  writeFileSync(path, bytes);
  const mtimeMs = statSync(path).mtimeMs;
  return {
    path,
    unchanged() {
      expect(readFileSync(path, "utf8")).toBe(bytes);
      expect(statSync(path).mtimeMs).toBe(mtimeMs);
    },
  };
}

for (const foreground of [false, true]) {
  const how = foreground ? "start --foreground" : "start";
  const args = foreground ? ["start", "--foreground"] : ["start"];

  test(`${how} with daemon/daemon.lock a symlink to a file outside: refused naming it; that file unchanged`, async () => {
    const outside = outsideFile();
    mkdirSync(w().paths.daemonDir, { recursive: true });
    symlinkSync(outside.path, w().paths.lockFile);
    const r = await w().run(args, { timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `gtd: refusing lock file ${w().paths.lockFile}: it is a symbolic link (remove it; gtd only locks a regular file of its own inside the town)\n`,
    );
    outside.unchanged();
    expect(daemonPids(w().town)).toEqual([]);
    expect(existsSync(w().paths.pidFile)).toBe(false);
  }, T);

  test(`${how} with daemon/daemon.log a symlink to a file outside: refused naming it; that file unchanged`, async () => {
    const outside = outsideFile();
    mkdirSync(w().paths.daemonDir, { recursive: true });
    symlinkSync(outside.path, w().paths.logFile);
    const r = await w().run(args, { timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `gtd: refusing log file ${w().paths.logFile}: it is a symbolic link (remove it; gtd logs only to a regular file of its own inside the town)\n`,
    );
    outside.unchanged();
    expect(daemonPids(w().town)).toEqual([]);
    expect(existsSync(w().paths.pidFile)).toBe(false);
  }, T);

  test(`${how} with daemon/ a symlink to a directory outside the town: refused naming it; nothing written there`, async () => {
    const elsewhere = join(w().tmux.root, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, w().paths.daemonDir);
    const r = await w().run(args, { timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gtd: refusing ${w().paths.daemonDir}: ${w().paths.daemonDir} resolves to ${elsewhere}, outside the town ${w().town} (daemon/ must be a directory inside the town; remove the link)\n`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(daemonPids(w().town)).toEqual([]);
  }, T);
}

test("daemon.log replaced by a symlink while running: one warning, the daemon carries on, the outside file unchanged", async () => {
  const fg = w().foreground();
  await w().waitRunning(fg.pid);
  await w().waitForLog("Heartbeat complete (#1)");
  const outside = outsideFile();
  rmSync(w().paths.logFile);
  symlinkSync(outside.path, w().paths.logFile);
  const warning = `Warning: not writing to the log: ${w().paths.logFile} is a symbolic link; only to stderr until it is replaced by a regular file`;
  const received = () => fg.stderr().split("\n").filter((l) => l.endsWith("Received SIGUSR1, processing lifecycle requests immediately")).length;
  for (let i = 1; i <= 3; i++) {
    fg.proc.kill("SIGUSR1");
    await waitFor(() => received() === i, { what: `SIGUSR1 #${i} on the mirror (${fg.stderr().slice(-300)})` });
  }
  expect(fg.stderr().split("\n").filter((l) => l.endsWith(warning)).length).toBe(1);
  outside.unchanged();
  expect(await w().waitRunning(fg.pid)).toBe(fg.pid);
  fg.proc.kill("SIGTERM");
  expect(await fg.exited).toBe(0);
  outside.unchanged();
}, T);
