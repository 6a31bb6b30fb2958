/**
 * For the supervision end-to-end tests (test/e2e/supervise-*.test.ts): short timings, the moody agent
 * (test/fixtures/bin/moody-agent) as a command, its START lines with the PID each run had, and what
 * the daemon says about an agent (status --json agents[], state.json's supervise record, log lines).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { GtdWorld } from "./gtd-cli.ts";
import type { TmuxEnv } from "./tmux-env.ts";
import { waitFor } from "./wait.ts";

/**
 * A heartbeat a second (the shortest there is), and restart delays at their lower bound (1s, the in-pane
 * loop sleeps whole seconds) so a crash loop takes seconds. The rest is set per test, where it matters.
 */
export const FAST: Record<string, string> = {
  GTD_HEARTBEAT: "1s",
  GTD_SUPERVISE_RESTART_BASE: "1s",
  GTD_SUPERVISE_RESTART_MAX: "2s",
};

/** Pokes due at every heartbeat (the Deacon's heartbeat file is never written, so it is always very stale). */
export const EVERY_HEARTBEAT: Record<string, string> = {
  GTD_BACKOFF_BASE: "1s",
  GTD_BACKOFF_MAX: "1s",
  GTD_SLOTS_MAX_AGE: "1s",
};

/** An agent command for the env (GTD_DEACON_COMMAND, GTD_AGENT_COMMAND): moody-agent in `mode`. */
export const moody = (mode: string) => JSON.stringify(["moody-agent", mode]);

export interface Start {
  argv: string;
  cwd: string;
  role: string;
  pid: number;
}

/** The moody agent's runs in a session, oldest first. */
export async function runs(t: TmuxEnv, session: string): Promise<Start[]> {
  const out: Start[] = [];
  for (const line of (await t.agentLog(session)).split("\n")) {
    const m = /^START argv=(.*) cwd=(.*) GT_ROLE=(\S*) session=\S* pid=(\d+)$/.exec(line);
    if (m) out.push({ argv: m[1]!, cwd: m[2]!, role: m[3]!, pid: Number(m[4]) });
  }
  return out;
}

/** Wait until a session has had at least `n` runs; returns them. */
export function waitForRuns(t: TmuxEnv, session: string, n: number, timeoutMs = 20_000): Promise<Start[]> {
  return waitFor(async () => {
    const r = await runs(t, session);
    return r.length >= n ? r : null;
  }, { timeoutMs, what: `${n} run(s) of the agent in ${session}` });
}

/** Lines the agent read (LINE ...) in a session. */
export async function linesRead(t: TmuxEnv, session: string): Promise<string[]> {
  return (await t.agentLog(session)).split("\n").filter((l) => l.startsWith("LINE "));
}

/** The agent's row in `gtd status --json` (agents[]), or undefined. */
export async function agentRow(w: GtdWorld, agent: string): Promise<Record<string, any> | undefined> {
  const { json } = await w.status();
  return (json.agents as Array<Record<string, any>> | undefined)?.find((a) => a.agent === agent);
}

/** Poll status --json until the agent's row satisfies `ok`; returns that row. */
export function waitForRow(w: GtdWorld, agent: string, ok: (row: Record<string, any>) => boolean, what: string, timeoutMs = 30_000) {
  let last: unknown;
  return waitFor(async () => {
    const row = await agentRow(w, agent);
    last = row;
    return row && ok(row) ? row : null;
  }, { timeoutMs, what: `${agent}: ${what} (last row: ${JSON.stringify(last)})` });
}

/** state.json's supervise record of an agent (what the daemon last judged), or undefined. */
export function record(w: GtdWorld, agent: string): Record<string, any> | undefined {
  return (w.readState()?.supervise as Record<string, Record<string, any>> | undefined)?.[agent];
}

/** Log messages (no time prefix) that match. */
export function logged(w: GtdWorld, re: RegExp): string[] {
  return w.logMessages().filter((m) => re.test(m));
}

/** heartbeat_count now; then `afterHeartbeats(w, n)` waits until n more have completed. */
export const heartbeats = (w: GtdWorld) => Number(w.readState()?.heartbeat_count ?? 0);

export async function afterHeartbeats(w: GtdWorld, n: number, timeoutMs = 30_000): Promise<void> {
  const target = heartbeats(w) + n;
  await w.waitForHeartbeats(target, timeoutMs);
}

/** daemon/config.json (nested keys, as in the README). */
export function writeConfig(w: GtdWorld, config: Record<string, unknown>): void {
  mkdirSync(w.paths.daemonDir, { recursive: true });
  writeFileSync(w.paths.configFile, JSON.stringify(config, null, 2));
}

/** A tmux format of a target (`=session:` or a pane id). */
export async function show(t: TmuxEnv, target: string, format: string): Promise<string> {
  return (await t.tmux("display-message", "-p", "-t", target, format)).trim();
}
