/**
 * `gtd demo` through dist/gtd: it makes a throwaway town under $TMPDIR with its own tmux server, starts
 * the Deacon (the bundled demo agent) and pokes it; Ctrl-C (SIGINT) ends it, removing the town and that
 * server. It must never touch the user's tmux: TMUX_TMPDIR points at a directory that must stay empty.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { socketsUnder } from "../helpers/e2e-town.ts";
import { spawnGtd, type Streamed } from "../helpers/gtd-cli.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
let t: TmuxEnv;
let tmp: string;
let userTmux: string;
let demo: Streamed | null;

beforeEach(async () => {
  t = await createTmuxEnv();
  tmp = join(t.root, "tmp");
  userTmux = join(t.root, "user-tmux");
  mkdirSync(tmp);
  mkdirSync(userTmux, { mode: 0o700 });
  demo = null;
});
afterEach(async () => {
  if (demo && demo.proc.exitCode === null && demo.proc.signalCode === null) demo.proc.kill("SIGKILL");
  // A demo killed before its own clean-up leaves its tmux server behind: take it down by its socket.
  for (const socket of socketsUnder(tmp).paths) await t.tmuxResult("-S", socket, "kill-server");
  for (const pid of socketsUnder(tmp).pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await t.cleanup();
});

test("demo: the Deacon is started and poked; SIGINT ends it, removing the town and its tmux server", async () => {
  // The harness env (fakes on PATH, no $TMUX), with TMPDIR for the town and a "user" TMUX_TMPDIR.
  const env = { ...t.env, TMPDIR: tmp, TMUX_TMPDIR: userTmux, GTD_HEARTBEAT: "1h", GT_TOWN_ROOT: t.root };
  demo = spawnGtd(["demo", "--heartbeat", "1s"], { env, cwd: t.root });
  const d = demo;

  const town = await waitFor(() => /^Demo town: (.+)$/m.exec(d.stdout())?.[1], { what: `"Demo town:" on stdout (${d.stdout()}${d.stderr()})` });
  expect(realpathSync(join(town, ".."))).toBe(realpathSync(tmp));
  expect(town).toMatch(/\/gtd-demo-[^/]+$/);
  expect(d.stdout()).toContain(`Watch the Deacon: TMUX_TMPDIR=${join(town, ".tmux")} tmux attach -t gt-deacon`);

  // The daemon log (mirrored to stderr) shows the poke, and the demo agent in gt-deacon received it.
  await waitFor(() => /Poked Deacon/.test(d.stderr()), { what: `"Poked Deacon" on stderr (${d.stderr()})` });
  expect(d.stderr()).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Daemon starting \(PID \d+\)$/m);
  expect(d.stderr()).toContain("Deacon session started successfully");
  const received = join(town, "deacon", "received.log");
  await waitFor(() => existsSync(received) && readFileSync(received, "utf8").includes("received: HEARTBEAT: run your rounds"), {
    what: "the poke in the demo agent's received.log",
  });
  // The config of the environment did not leak in (GTD_HEARTBEAT would say 1h).
  expect(d.stderr()).toContain("Daemon running, heartbeat every 1s");

  // Its tmux server listens under the demo town, and nothing under the user's TMUX_TMPDIR.
  const live = socketsUnder(town);
  expect(live.paths).toEqual([join(town, ".tmux", `tmux-${process.getuid!()}`, "default")]);
  expect(live.pids.length).toBeGreaterThan(0);
  expect(readdirSync(userTmux)).toEqual([]);

  d.proc.kill("SIGINT");
  const code = await d.exited;
  expect(code).toBe(0);
  expect(d.stdout().trimEnd().split("\n").at(-1)).toBe("Demo finished; demo town removed.");
  expect(d.stderr()).toContain("Received signal interrupt, shutting down");
  expect(d.stderr()).toContain("Daemon stopped");
  expect(existsSync(town)).toBe(false);
  // kill-server has answered; the server's exit (closing its socket) follows at once.
  await waitFor(() => socketsUnder(town).paths.length === 0, { timeoutMs: 5_000, what: `no socket under ${town}` });
  expect(socketsUnder(town)).toEqual({ paths: [], pids: [] });
  expect(readdirSync(userTmux)).toEqual([]);
  expect(readdirSync(tmp)).toEqual([]);
}, T);
