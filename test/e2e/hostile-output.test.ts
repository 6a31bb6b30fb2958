/**
 * A `bd` that floods its output, or leaves children behind, against the compiled daemon (issue 7, class 1).
 * Before the output cap, a `bd mail inbox` writing endlessly on stdout or stderr grew gtd by about 1 GB a
 * second until it died of OOM. Now the inbox command is killed at the cap (src/proc.ts), one error line
 * names the cap, the heartbeats go on, and the daemon stops cleanly. The fake bd floods with
 * FAKE_BD_FLOOD and leaves a `sleep 1000` behind on every call with FAKE_BD_BACKGROUND.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../helpers/e2e-town.ts";
import { procAlive, procState, useGtdWorld } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 60_000;
const w = useGtdWorld();
/** Generous: the daemon idles near 40 MiB and a flood costs at most the 16 MiB cap a few times over. */
const PEAK_LIMIT_KIB = 400 * 1024;
/** Heartbeats watched under the flood: each one runs the flooding inbox command once. */
const HEARTBEATS = 6;

/** A /proc/<pid>/status field in kB (VmHWM = peak resident memory), or null once the process is gone. */
function statusKiB(pid: number, field: "VmHWM" | "VmRSS"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** PIDs the fake bd wrote to its FAKE_BD_BACKGROUND file, one per call so far. */
function backgroundPids(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
}

for (const stream of ["stdout", "stderr"] as const) {
  const cap = stream === "stdout" ? "16 MiB" : "1 MiB";
  test(`endless ${stream} from bd mail inbox: bounded memory, one error naming the cap, heartbeats go on`, async () => {
    const bg = join(w().tmux.root, "bd-background.pids");
    const pid = await startDaemon(w(), { FAKE_BD_FLOOD: stream, FAKE_BD_BACKGROUND: bg, GTD_HEARTBEAT: "1s" });

    // Watch the peak while the heartbeats run; stop watching at once if it passes the limit, so that
    // without the cap the test fails in a second instead of exhausting the machine.
    let peakKiB = 0;
    await waitFor(
      () => {
        peakKiB = Math.max(peakKiB, statusKiB(pid, "VmHWM") ?? 0);
        if (peakKiB > PEAK_LIMIT_KIB || !procAlive(pid)) return true;
        const s = w().readState();
        return s !== null && (s.heartbeat_count as number) >= HEARTBEATS && w().inboxCalls() >= HEARTBEATS;
      },
      { timeoutMs: 40_000, what: `${HEARTBEATS} heartbeats under the flood (log: ${w().logMessages().slice(-4).join(" | ")})` },
    );
    console.log(`hostile-output: daemon peak memory (VmHWM) under endless ${stream}: ${(peakKiB / 1024).toFixed(1)} MiB`);
    expect(procAlive(pid)).toBe(true);
    expect(peakKiB).toBeLessThan(PEAK_LIMIT_KIB);

    // One line for the failure (rate-limited as any inbox error), naming the command and the cap.
    const errors = w().logMessages().filter((m) => m.startsWith("Error reading lifecycle mail"));
    expect(errors).toEqual([
      `Error reading lifecycle mail: mailbox inbox (bd mail inbox --identity deacon/ --json) failed: output exceeded ${cap} on ${stream}, killed`,
    ]);

    // Each call's background child is gone once the call is over: all but the newest call's have ended.
    for (const p of backgroundPids(bg)) w().track(p);
    await waitFor(() => backgroundPids(bg).slice(0, -1).every((p) => !procAlive(p)), {
      timeoutMs: 5000,
      what: `background children of ended bd calls gone (${backgroundPids(bg).map((p) => `${p}:${procState(p)}`).join(",")})`,
    });

    // Still stoppable, cleanly: `gtd stop` for the stdout flood, a plain SIGTERM for the stderr one.
    if (stream === "stdout") {
      const r = await w().run(["stop"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(`✓ Daemon stopped (was PID ${pid})\n`);
    } else {
      process.kill(pid, "SIGTERM");
      await waitFor(() => !procAlive(pid), { timeoutMs: 10_000, what: `daemon ${pid} gone after SIGTERM` });
    }
    await w().waitForLog("Daemon stopped");
    expect(w().readState()).toMatchObject({ running: false, pid });
    expect(existsSync(w().paths.pidFile)).toBe(false);
    expect((await w().status()).code).toBe(3);
    for (const p of backgroundPids(bg)) w().track(p);
    await waitFor(() => backgroundPids(bg).every((p) => !procAlive(p)), { timeoutMs: 5000, what: "every background child gone after stop" });
  }, T);
}

test("a bd that answers but leaves a child behind: the child ends with the call, passes do not wait on it", async () => {
  const bg = join(w().tmux.root, "bd-background.pids");
  const pid = await startDaemon(w(), { FAKE_BD_BACKGROUND: bg, GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(3, 20_000);
  for (const p of backgroundPids(bg)) w().track(p);
  expect(backgroundPids(bg).length).toBeGreaterThanOrEqual(3);
  // Before the fix every `sleep 1000` stayed, one more per call.
  await waitFor(() => backgroundPids(bg).slice(0, -1).every((p) => !procAlive(p)), {
    timeoutMs: 5000,
    what: `background children of ended bd calls gone (${backgroundPids(bg).map((p) => `${p}:${procState(p)}`).join(",")})`,
  });
  expect(w().logMessages().filter((m) => m.startsWith("Error"))).toEqual([]);
  console.log(`hostile-output: daemon peak memory (VmHWM) without a flood: ${((statusKiB(pid, "VmHWM") ?? 0) / 1024).toFixed(1)} MiB`);
  const r = await w().run(["stop"]);
  expect(r.stdout).toBe(`✓ Daemon stopped (was PID ${pid})\n`);
  for (const p of backgroundPids(bg)) w().track(p);
  await waitFor(() => backgroundPids(bg).every((p) => !procAlive(p)), { timeoutMs: 5000, what: "every background child gone after stop" });
}, T);
