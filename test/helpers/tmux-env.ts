/**
 * A private, real tmux world per test: its own TMUX_TMPDIR (so its own server, never the user's), a bin/
 * with the fake executables first on PATH, and a port wired to that server.
 *
 * Why `env` instead of mutating process.env: createTmux takes an `env` option that is merged over
 * process.env for each tmux call, so tests in the same process (or file) cannot leak a TMUX_TMPDIR into
 * each other, and nothing has to be restored afterwards. Pass `env` to every subprocess a test starts
 * (runCommand's RunOptions.env, Bun.spawn's env). TMUX and TMUX_PANE are present with the value
 * `undefined`: Bun.spawn and runCommand both drop such keys, and in a merge over process.env they still
 * remove an inherited $TMUX, which tmux would otherwise prefer over TMUX_TMPDIR (the user's server).
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TmuxPort } from "../../src/ports.ts";
import { runCommand, type RunResult } from "../../src/proc.ts";
import { createTmux, type TmuxOptions } from "../../src/tmux.ts";

const FIXTURE_BIN = resolve(import.meta.dir, "../fixtures/bin");
const TIMEOUT_MS = 5_000;

export interface TmuxEnv {
  /** The test's temp dir; everything below is inside it and removed by cleanup(). */
  root: string;
  /** TMUX_TMPDIR of the private server. */
  tmuxTmpdir: string;
  /** Fake executables (fake-agent, also installed as `claude`), first on PATH. */
  bin: string;
  /** Where the fake agent writes `<session>.log` (FAKE_AGENT_LOG_DIR). */
  agentLogDir: string;
  /** process.env + TMUX_TMPDIR, PATH, FAKE_AGENT_LOG_DIR; TMUX/TMUX_PANE removed (see above). */
  env: Record<string, string | undefined>;
  /** A port on the private server with the default socket. */
  port: TmuxPort;
  /** Another port on this env (e.g. `{ socket: "other" }` or `{ enterDelayMs: 0 }`). */
  makePort(opts?: Partial<TmuxOptions>): TmuxPort;
  /** Runs tmux against the private server; returns stdout, throws with stderr on failure. */
  tmux(...args: string[]): Promise<string>;
  /** As tmux() but returns the result, for asserting failures. */
  tmuxResult(...args: string[]): Promise<RunResult>;
  /** The fake agent's log for a session ("" while it does not exist yet). */
  agentLog(session: string): Promise<string>;
  /** A town dir inside root (see createTownDir). */
  makeTown(name?: string): Promise<string>;
  /** Kills every tmux server under TMUX_TMPDIR (any -L socket) and removes root. */
  cleanup(): Promise<void>;
}

/** `<parent>/<name>/mayor/town.json` = `{"type":"town","version":1,"name":"t"}`; returns the town root. */
export async function createTownDir(parent: string, name = "town"): Promise<string> {
  const town = join(parent, name);
  await mkdir(join(town, "mayor"), { recursive: true });
  await writeFile(join(town, "mayor", "town.json"), JSON.stringify({ type: "town", version: 1, name: "t" }));
  return town;
}

export async function createTmuxEnv(): Promise<TmuxEnv> {
  // Under the system tmpdir: tmux socket paths must stay under ~100 bytes.
  const root = await mkdtemp(join(tmpdir(), "gtd-tmux-"));
  const tmuxTmpdir = join(root, "tmux");
  const bin = join(root, "bin");
  const agentLogDir = join(root, "agent-logs");
  await mkdir(tmuxTmpdir, { mode: 0o700 });
  await mkdir(bin);
  await mkdir(agentLogDir);
  for (const file of await readdir(FIXTURE_BIN)) {
    await copyFile(join(FIXTURE_BIN, file), join(bin, file));
    await chmod(join(bin, file), 0o755);
  }
  // The default agent command is `claude ...`: the fake answers to that name too.
  await copyFile(join(FIXTURE_BIN, "fake-agent"), join(bin, "claude"));
  await chmod(join(bin, "claude"), 0o755);

  const env: Record<string, string | undefined> = {
    ...process.env,
    TMUX_TMPDIR: tmuxTmpdir,
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    FAKE_AGENT_LOG_DIR: agentLogDir,
    TMUX: undefined,
    TMUX_PANE: undefined,
  };

  const tmuxResult = (...args: string[]) => runCommand(["tmux", ...args], { timeoutMs: TIMEOUT_MS, env });
  const tmux = async (...args: string[]) => {
    const r = await tmuxResult(...args);
    if (r.code !== 0) throw new Error(`tmux ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  // Pre-start the server so its global environment is this env (panes inherit PATH with bin/ first).
  // exit-empty off keeps it up with no sessions; a non-login bash as default-command keeps PATH, where
  // tmux's default login shell would re-run /etc/profile and reset it.
  await tmux("start-server", ";", "set-option", "-g", "exit-empty", "off", ";",
    "set-option", "-g", "default-command", "bash --noprofile --norc");

  const makePort = (opts: Partial<TmuxOptions> = {}) =>
    createTmux({ socket: null, timeoutMs: TIMEOUT_MS, env, ...opts });

  return {
    root,
    tmuxTmpdir,
    bin,
    agentLogDir,
    env,
    port: makePort(),
    makePort,
    tmux,
    tmuxResult,
    agentLog: (session) => readFile(join(agentLogDir, `${session}.log`), "utf8").catch(() => ""),
    makeTown: (name) => createTownDir(root, name),
    async cleanup() {
      const sockets = join(tmuxTmpdir, `tmux-${process.getuid?.() ?? 0}`);
      const names = await readdir(sockets).catch(() => [] as string[]);
      for (const name of names) await tmuxResult("-S", join(sockets, name), "kill-server");
      await rm(root, { recursive: true, force: true });
    },
  };
}
