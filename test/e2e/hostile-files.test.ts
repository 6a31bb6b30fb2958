/**
 * Files someone else put in the town, against dist/gtd (issue 7, classes 2, 4 and 7): a FIFO or a device
 * where gtd reads never blocks or bloats the daemon, SIGTERM still ends it at once; symlinks never lead it
 * to write, delete or trust anything outside the town; a huge bad value is never echoed whole.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { snapshotTree } from "../helpers/e2e-town.ts";
import { useGtdWorld, type Foreground } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 40_000;
const w = useGtdWorld();

function mkfifo(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
}

/** Peak resident memory of a live process, in MiB (VmHWM). */
function peakMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) / 1024;
}

/** SIGTERM, then the exit code; fails (naming the log) if it takes longer than `ms`. */
async function terminate(fg: Foreground, ms = 10_000): Promise<number> {
  fg.proc.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit ${ms}ms after SIGTERM; log: ${w().logMessages().slice(-5).join(" | ")}`)), ms);
  });
  try {
    return await Promise.race([fg.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A directory beside the town (removed with the test's temp root). */
function outsideDir(): string {
  const dir = join(w().tmux.root, "outside");
  mkdirSync(dir, { recursive: true });
  return dir;
}

test("a FIFO as deacon/heartbeat.json: heartbeats go on, one warning, SIGTERM exits at once", async () => {
  mkfifo(join(w().town, "deacon", "heartbeat.json"));
  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(3, 20_000);
  const warnings = w().logMessages().filter((m) => m.includes("heartbeat file is unusable"));
  expect(warnings).toEqual([
    `Warning: Deacon's heartbeat file is unusable (${join(w().town, "deacon", "heartbeat.json")} is a FIFO, not a regular file); counting it as very stale`,
  ]);
  expect(await terminate(fg)).toBe(0);
  expect(w().logMessages().at(-1)).toBe("Daemon stopped");
}, T);

test("a FIFO as config.json: start refuses at once with one line naming it", async () => {
  mkfifo(w().paths.configFile);
  const r = await w().run(["start"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`gtd: ${w().paths.configFile}: cannot read (${w().paths.configFile} is a FIFO, not a regular file) (it must be a readable JSON file, or absent)\n`);
}, T);

test("a FIFO as config.json at SIGHUP: the reload is refused, the daemon goes on and still stops on SIGTERM", async () => {
  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(1, 20_000);
  mkfifo(w().paths.configFile);
  fg.proc.kill("SIGHUP");
  await w().waitForLog(/^Config reload refused, keeping the current config: .*is a FIFO, not a regular file/);
  const after = (w().readState().heartbeat_count as number) + 2;
  await w().waitForHeartbeats(after, 20_000);
  expect(await terminate(fg)).toBe(0);
}, T);

test("/dev/zero behind config.json or heartbeat.json is refused without reading it", async () => {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  symlinkSync("/dev/zero", w().paths.configFile);
  const r = await w().run(["start"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("config.json is a character device, not a regular file");
  expect(r.stderr.length).toBeLessThan(400);

  Bun.spawnSync(["rm", w().paths.configFile]);
  mkdirSync(join(w().town, "deacon"), { recursive: true });
  symlinkSync("/dev/zero", join(w().town, "deacon", "heartbeat.json"));
  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(3, 20_000);
  expect(w().logMessages().some((m) => m.includes("heartbeat.json is a symbolic link, not read"))).toBe(true);
  // The Bun runtime alone is ~60 MiB; reading /dev/zero would be gigabytes.
  expect(peakMiB(fg.pid)).toBeLessThan(250);
  expect(await terminate(fg)).toBe(0);
}, T);

test("a 30 MB config.json and a 900 KB bad value: one short line, never the value", async () => {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.configFile, JSON.stringify({ heartbeat: "x".repeat(30_000_000) }));
  const big = await w().run(["start"]);
  expect(big.code).toBe(1);
  expect(big.stderr).toContain("is larger than 1048576 bytes");
  expect(big.stderr.length).toBeLessThan(400);

  writeFileSync(w().paths.configFile, JSON.stringify({ heartbeat: "y".repeat(900_000) }));
  const bad = await w().run(["start"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(`heartbeat = "${"y".repeat(80)}…" (900000 chars) is not valid`);
  expect(bad.stderr.length).toBeLessThan(400);
}, T);

test("a 10,000-character rig name is logged as a prefix and its length", async () => {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.configFile, JSON.stringify({ poke: { witnesses: true } }));
  writeFileSync(join(w().town, "mayor", "rigs.json"), JSON.stringify({ version: 1, rigs: { ["r".repeat(10_000)]: {} } }));
  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(2, 20_000);
  const warning = w().logMessages().find((m) => m.includes("ignored invalid rig name"));
  expect(warning).toContain("(10000 chars)");
  expect(Math.max(...w().logMessages().map((m) => m.length))).toBeLessThan(1000);
  expect(await terminate(fg)).toBe(0);
}, T);

test("daemon/notifications symlinked outside: nothing there is deleted or written, said once", async () => {
  const outside = outsideDir();
  writeFileSync(join(outside, "slot-gt-deacon-heartbeat.json"), "{}");
  writeFileSync(join(outside, "slot-precious-file.json"), "keep me");
  const old = new Date(Date.now() - 3_600_000);
  for (const f of ["slot-gt-deacon-heartbeat.json", "slot-precious-file.json"]) Bun.spawnSync(["touch", "-d", old.toISOString(), join(outside, f)]);
  mkdirSync(w().paths.daemonDir, { recursive: true });
  symlinkSync(outside, join(w().paths.daemonDir, "notifications"));
  const before = snapshotTree(outside);

  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(3, 20_000);
  await w().waitForLog(/^Poked Deacon/);
  expect(snapshotTree(outside)).toEqual(before);
  const refused = w().logMessages().filter((m) => m.startsWith("Refusing to use notification slots"));
  expect(refused).toHaveLength(1);
  expect(refused[0]).toContain("outside the town");
  expect(await terminate(fg)).toBe(0);
}, T);

test("a rig symlinked outside: gtd request refuses it; mailed anyway, the daemon refuses to act; nothing outside changes", async () => {
  const outside = outsideDir();
  mkdirSync(join(outside, "witness"));
  writeFileSync(join(outside, "witness", "state.json"), '{"requesting_cycle": true}');
  symlinkSync(outside, join(w().town, "gastown"));
  const before = snapshotTree(outside);

  const req = await w().run(["request", "cycle", "--as", "gastown-witness"]);
  expect(req.code).toBe(1);
  expect(req.stderr).toContain("refusing to write gastown-witness's state");
  expect(req.stderr).toContain("outside the town");

  const inbox = join(w().tmux.root, "inbox.json");
  writeFileSync(inbox, JSON.stringify([{ id: "m-1", title: "LIFECYCLE: gastown-witness requesting cycle", status: "open" }]));
  const fg = w().foreground([], { FAKE_BD_INBOX: inbox });
  await w().waitForLog(/refusing to act on gastown-witness: .*outside the town/);
  expect(snapshotTree(outside)).toEqual(before);
  const sessions = await w().tmux.tmuxResult("list-sessions", "-F", "#{session_name}");
  expect(sessions.stdout).not.toContain("gt-gastown-witness");
  expect(await terminate(fg)).toBe(0);
}, T);

test("an agent state.json symlinked to a file outside: the request is refused and the link stays a link", async () => {
  const outside = outsideDir();
  writeFileSync(join(outside, "state.json"), '{"requesting_cycle": true}');
  symlinkSync(join(outside, "state.json"), join(w().town, "mayor", "state.json"));
  const inbox = join(w().tmux.root, "inbox.json");
  writeFileSync(inbox, JSON.stringify([{ id: "m-2", title: "LIFECYCLE: mayor requesting cycle", status: "open" }]));
  const fg = w().foreground([], { FAKE_BD_INBOX: inbox });
  await w().waitForLog(/refusing to act on mayor: .*outside the town/);
  await waitFor(() => w().readState()?.heartbeat_count === 1, { what: "the first heartbeat saved" });
  expect(readFileSync(join(outside, "state.json"), "utf8")).toBe('{"requesting_cycle": true}');
  expect(Bun.spawnSync(["test", "-L", join(w().town, "mayor", "state.json")]).exitCode).toBe(0);
  const sessions = await w().tmux.tmuxResult("list-sessions", "-F", "#{session_name}");
  expect(sessions.stdout).not.toContain("gt-mayor");
  expect(await terminate(fg)).toBe(0);
}, T);

test("a FIFO as daemon.pid: status, stop and signal answer at once (not running), start still works", async () => {
  mkfifo(w().paths.pidFile);
  for (const cmd of [["status"], ["stop"], ["signal"]]) {
    const r = await w().run(cmd, { timeoutMs: 10_000 });
    expect(r.code).toBe(3);
  }
  Bun.spawnSync(["rm", w().paths.pidFile]);
  mkfifo(w().paths.pidFile);
  const fg = w().foreground([], { GTD_HEARTBEAT: "1s" });
  await w().waitForHeartbeats(1, 20_000);
  expect(w().readPidFile()).toBe(String(fg.pid)); // the FIFO was replaced by the real PID file
  expect(await terminate(fg)).toBe(0);
}, T);
