/**
 * Helpers for the end-to-end tests (on top of gtd-cli.ts): a background daemon, the fake agent's START
 * lines, the private server's sessions, a snapshot of a directory tree (to prove "changed nothing"), and
 * the tmux servers listening under a directory.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "bun:test";
import { DAEMON_STARTED, type GtdWorld } from "./gtd-cli.ts";
import type { TmuxEnv } from "./tmux-env.ts";
import { waitFor } from "./wait.ts";

/** `gtd start` (background) with the world's env plus `extraEnv`; returns the PID it printed. */
export async function startDaemon(w: GtdWorld, extraEnv: Record<string, string | undefined> = {}): Promise<number> {
  const r = await w.run(["start"], { extraEnv });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const m = DAEMON_STARTED.exec(r.stdout);
  expect(m).not.toBeNull();
  return Number(m![1]);
}

/** The fake agent's START lines for a session (test/fixtures/bin/fake-agent). */
export async function agentStarts(t: TmuxEnv, session: string): Promise<string[]> {
  return (await t.agentLog(session)).split("\n").filter((l) => l.startsWith("START "));
}

/** Wait until a session's fake agent has logged `n` START lines; returns them. */
export async function waitForStarts(t: TmuxEnv, session: string, n: number, timeoutMs = 10_000): Promise<string[]> {
  return waitFor(async () => {
    const s = await agentStarts(t, session);
    return s.length >= n ? s : null;
  }, { timeoutMs, what: `${n} START line(s) of ${session}` });
}

/** An agent already running in `session` (the fake agent, no GT_ROLE), as a user or `gt up` made it. */
export async function startAgentSession(t: TmuxEnv, session: string, cwd: string): Promise<string> {
  await t.port.newSession({ name: session, cwd, env: {}, argv: ["claude"] });
  await waitForStarts(t, session, 1);
  return (await t.tmux("display-message", "-p", "-t", `=${session}:`, "#{pane_pid}")).trim();
}

/** Session names on the private server ([] when it has none). */
export async function sessionNames(t: TmuxEnv): Promise<string[]> {
  const r = await t.tmuxResult("list-sessions", "-F", "#{session_name}");
  if (r.code !== 0) {
    if (/no sessions|no server running|error connecting/i.test(r.stderr)) return [];
    throw new Error(`tmux list-sessions: exit ${r.code}: ${r.stderr}`);
  }
  return r.stdout.split("\n").filter(Boolean).sort();
}

/**
 * Every entry under `root`, relative path → kind, mode, size, mtime and (for files) contents, so a
 * toEqual of two snapshots names exactly what was created, removed or touched.
 */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const head = `mode=${st.mode.toString(8)} mtime=${st.mtimeMs}`;
      const rel = relative(root, p);
      if (st.isDirectory()) {
        out[`${rel}/`] = head;
        walk(p);
      } else if (st.isSymbolicLink()) out[rel] = `${head} -> ${readlinkSync(p)}`;
      else if (st.isFile()) out[rel] = `${head} size=${st.size} ${readFileSync(p, "utf8")}`;
      else out[rel] = `${head} special`;
    }
  };
  walk(root);
  return out;
}

/**
 * Unix sockets bound to a path under `dir` (from /proc/net/unix: a listening tmux server shows here even
 * after its socket file was deleted) and the live processes holding them.
 */
export function socketsUnder(dir: string): { paths: string[]; pids: number[] } {
  const inodes = new Map<string, string>();
  for (const line of readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const path = f[7];
    if (path && (path === dir || path.startsWith(`${dir}/`))) inodes.set(`socket:[${f[6]}]`, path);
  }
  const pids = new Set<number>();
  if (inodes.size > 0) {
    for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) pids.add(Number(pid));
        } catch {}
      }
    }
  }
  return { paths: [...new Set(inodes.values())].sort(), pids: [...pids].sort((a, b) => a - b) };
}
