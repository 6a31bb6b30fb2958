/**
 * One daemon per town even when the lock file goes (issue 7, class 3), against dist/gtd: after
 * `rm daemon/daemon.lock` or `rm -r daemon/` the running daemon notices (an inotify watch on daemon/) and
 * re-takes the lock, so `status` still finds it and a second `gtd start` is refused; and when a second
 * daemon got the new lock first, the first one steps down at once, leaving that daemon's files alone.
 * Each test reports "daemons left after the lock is deleted" and how long the daemon took to notice.
 */
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { daemonPids, describePids, type Foreground, useGtdWorld } from "../helpers/gtd-cli.ts";
import { startDaemon } from "../helpers/e2e-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();

const retook = (why: string) => `Lock file ${w().paths.lockFile} was ${why}; re-took the lock and rewrote daemon.pid and state.json`;

/** A background daemon after its first heartbeat; the next is minutes away, so only the watch can notice. */
async function runningDaemon(): Promise<number> {
  const pid = await startDaemon(w());
  await w().waitForHeartbeats(1);
  return pid;
}

/** Delete with `remove`, then poll until the daemon logs that it re-took the lock; ms from the rm to the line. */
async function removeAndAwaitRetake(remove: () => void, why: string): Promise<number> {
  const t0 = performance.now();
  remove();
  await waitFor(() => w().logMessages().includes(retook(why)), { what: `"${retook(why)}" (log: ${w().logMessages().slice(-4).join(" | ")})` });
  return performance.now() - t0;
}

/** Everything a user would check: status finds the same daemon, starts are refused, one daemon process. */
async function stillOneDaemon(pid: number): Promise<void> {
  const st = await w().status();
  expect(st.code).toBe(0);
  expect(st.json).toMatchObject({ running: true, pid, stale_pid_file: null });
  expect(w().readPidFile()).toBe(String(pid));
  expect(w().readState()).toMatchObject({ running: true, pid });

  const second = await w().run(["start"]);
  expect(second.code).toBe(1);
  expect(second.stdout).toBe("");
  expect(second.stderr).toBe(`gtd: daemon already running (PID ${pid})\n`);
  const fg = await w().run(["start", "--foreground"], { timeoutMs: 10_000 });
  expect(fg.code).toBe(1);
  expect(fg.stderr).toBe(`gtd: daemon already running (PID ${pid})\n`);

  expect(daemonPids(w().town), describePids(daemonPids(w().town))).toEqual([pid]);
  // And it still acts: a SIGUSR1 pass is logged in the (possibly new) log.
  expect((await w().run(["signal"])).code).toBe(0);
  await w().waitForLog("Received SIGUSR1");
}

test("rm daemon/daemon.lock: the daemon re-takes it, status finds the same PID, a second start is refused", async () => {
  const pid = await runningDaemon();
  const ms = await removeAndAwaitRetake(() => rmSync(w().paths.lockFile), "deleted");
  await stillOneDaemon(pid);
  expect(w().logMessages().filter((m) => m.includes("re-took the lock"))).toEqual([retook("deleted")]);
  console.log(`[figure] rm daemon.lock: daemons left ${daemonPids(w().town).length}, noticed and re-taken in ${ms.toFixed(0)} ms`);
}, T);

test("rm -r daemon/: the directory is made again, the lock re-taken, daemon.pid and state.json rewritten", async () => {
  const pid = await runningDaemon();
  const ms = await removeAndAwaitRetake(() => rmSync(w().paths.daemonDir, { recursive: true }), `deleted with ${w().paths.daemonDir}`);
  await stillOneDaemon(pid);
  console.log(`[figure] rm -r daemon/: daemons left ${daemonPids(w().town).length}, noticed and re-taken in ${ms.toFixed(0)} ms`);
}, T);

test("a second daemon takes the new lock first: the first steps down at once, exit 0, the second's files untouched", async () => {
  const first: Foreground = w().foreground(["--heartbeat", "1h"]);
  await w().waitRunning(first.pid);
  await w().waitForLog("Heartbeat complete (#1)");
  // Frozen, the first cannot notice the rm before the second start: the race is decided, not hoped for.
  process.kill(first.pid, "SIGSTOP");
  rmSync(w().paths.lockFile);
  const second = await startDaemon(w());
  expect(second).not.toBe(first.pid);
  expect(await w().waitRunning(second)).toBe(second);
  await waitFor(() => w().readState()?.heartbeat_count === 1, { what: "the second daemon's first heartbeat" });
  const stateBefore = w().readState();
  expect(daemonPids(w().town).sort()).toEqual([first.pid, second].sort());

  process.kill(first.pid, "SIGCONT");
  // The queued inotify event wakes it; it finds the new lock held by the second and leaves.
  const code = await Promise.race([first.exited, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`first daemon did not step down; its stderr: ${first.stderr().slice(-400)}`)), 10_000))]);
  expect(code).toBe(0);
  expect(first.proc.signalCode).toBeNull();
  const line = `Lock file ${w().paths.lockFile} was replaced by another file and PID ${second} now holds the new one; stepping down, leaving its PID file and state alone`;
  await waitFor(() => first.stderr().includes(line), { what: `the step-down line on the first's stderr (${first.stderr().slice(-300)})` });
  expect(w().logMessages()).toContain(line);
  // The first wrote nothing on its way out: no "Daemon stopped", no running:false over the second's state.
  expect(first.stderr()).not.toContain("Daemon stopped");
  expect(w().readPidFile()).toBe(String(second));
  expect(w().readState()).toMatchObject({ running: true, pid: second, started_at: stateBefore.started_at });
  expect(await w().waitRunning(second)).toBe(second);
  expect(daemonPids(w().town)).toEqual([second]);
  console.log(`[figure] second daemon took the new lock first: daemons left ${daemonPids(w().town).length}`);
}, T);
