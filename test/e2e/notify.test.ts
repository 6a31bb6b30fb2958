/**
 * The daemon under a stand-in for systemd (a real Unix datagram socket as NOTIFY_SOCKET), against
 * dist/gtd: READY=1 after the first heartbeat, STATUS= after each, WATCHDOG=1 pings, RELOADING=1 then
 * READY=1 around SIGHUP, STOPPING=1 at SIGTERM; the metrics file after each heartbeat; and a replaced
 * executable noticed once in the log and in status.
 */
import { expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error: the parser ships no types
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";
import { notifySocket } from "../helpers/notify-socket.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 40_000;
const w = useGtdWorld();

test("sd_notify: READY after the first heartbeat, STATUS, WATCHDOG, RELOADING/READY, STOPPING", async () => {
  const sock = await notifySocket(join(w().tmux.root, "notify.sock"));
  try {
    const fg = w().foreground([], { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: "2000000", GTD_HEARTBEAT: "1s" });
    const ready = await sock.waitFor((m) => m.startsWith("READY=1"), "READY=1");
    expect(ready).toBe("READY=1\nSTATUS=Heartbeat #1: Deacon running, 0 lifecycle requests open");
    // READY comes once the first heartbeat is done: state.json already says so.
    expect(w().readState().heartbeat_count).toBeGreaterThanOrEqual(1);
    await sock.waitFor((m) => m.startsWith("STATUS=Heartbeat #2"), "STATUS after the second heartbeat");
    await sock.waitFor((m) => m === "WATCHDOG=1", "a watchdog ping");
    fg.proc.kill("SIGHUP");
    await sock.waitFor((m) => m.startsWith("RELOADING=1\nMONOTONIC_USEC="), "RELOADING=1");
    await sock.waitFor((m) => m === "READY=1\nSTATUS=Config reloaded", "READY=1 after the reload");
    fg.proc.kill("SIGTERM");
    expect(await fg.exited).toBe(0);
    expect(sock.messages()).toContain("STOPPING=1");
    expect(sock.messages().filter((m) => m.startsWith("READY=1\nSTATUS=Heartbeat"))).toHaveLength(1);
  } finally {
    sock.stop();
  }
}, T);

test("metrics.file: a Prometheus text file after each heartbeat, parsed by an exposition-format parser", async () => {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.configFile, JSON.stringify({ heartbeat: "1s", metrics: { file: "daemon/gtd.prom" } }));
  const fg = w().foreground();
  const file = join(w().town, "daemon", "gtd.prom");
  const families = await waitFor(() => {
    try {
      const parsed = parsePrometheusTextFormat(readFileSync(file, "utf8")) as Array<{ name: string; metrics: Array<{ value?: string; labels?: Record<string, string> }> }>;
      const byName = Object.fromEntries(parsed.map((f) => [f.name, f]));
      return Number(byName.gtd_heartbeats_total?.metrics[0]?.value) >= 2 ? byName : null;
    } catch {
      return null;
    }
  }, { what: "a metrics file with two heartbeats", timeoutMs: 20_000 });
  expect(families.gtd_pokes_total!.metrics.some((m) => m.labels?.agent === "deacon" && m.labels?.result === "poked")).toBe(true);
  expect(families.gtd_agent_up!.metrics).toEqual([{ value: "1", labels: { agent: "deacon" } }]);
  expect(families.gtd_pass_duration_seconds).toBeDefined();
  fg.proc.kill("SIGTERM");
  expect(await fg.exited).toBe(0);
}, T);

test("an upgraded executable is noticed once: a log line and a note in status; the daemon keeps running", async () => {
  const bin = join(w().tmux.root, "upgrade");
  mkdirSync(bin);
  const exe = join(bin, "gtd");
  copyFileSync(GTD, exe);
  const proc = Bun.spawn([exe, "start", "--foreground", "--town", w().town], { cwd: w().town, env: { ...w().env, GTD_HEARTBEAT: "1s" } as Record<string, string>, stdout: "ignore", stderr: "ignore" });
  w().track(proc.pid);
  await w().waitRunning(proc.pid);
  await w().waitForHeartbeats(1);
  copyFileSync(GTD, `${exe}.new`);
  renameSync(`${exe}.new`, exe); // as an install replaces a binary
  await w().waitForLog(`gtd's executable ${exe} has been replaced since this daemon started`);
  const st = await w().status();
  expect(st.code).toBe(0);
  expect(st.json.executable_replaced).toMatchObject({ path: exe });
  const human = await w().run(["status"]);
  expect(human.stdout).toContain(`Note: ${exe} was replaced`);
  await w().waitForHeartbeats((w().readState().heartbeat_count as number) + 2);
  expect(w().logMessages().filter((m) => m.includes("has been replaced"))).toHaveLength(1);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, T);
