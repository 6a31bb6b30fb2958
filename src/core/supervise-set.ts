/**
 * Who gtd supervises: the Deacon always, plus the agents named in supervise.agents (empty by default,
 * so a town that does not opt in behaves as before). Each is created, watched and restarted in its own
 * directory, with its own env and theme, exactly as a lifecycle restart creates it, but with the
 * supervised in-pane loop (agent-loop.ts) as its pane's process.
 */
import type { Config } from "../config/index.ts";
import type { TownPaths } from "../town.ts";
import { loopArgv } from "./agent-loop.ts";
import { deaconSessionOptions } from "./deacon-session.ts";
import { resolveAgent, sessionOptions } from "./identity.ts";
import type { NewSessionSpec } from "./ports.ts";

export const DEACON = "deacon";

export interface SupervisedAgent {
  identity: string;
  /** As it starts a sentence in the log: `Deacon`, or the identity. */
  Name: string;
  session: string;
  /** The agent command (what the loop runs): the process looked for under the pane. */
  command: readonly string[];
  spec: NewSessionSpec;
}

export type SuperviseSettings = Config["supervise"];

/**
 * Set on a supervised agent's window at creation: if its loop is killed, the pane stays (dead) instead
 * of closing, so supervision re-spawns that same pane rather than mistaking a person's pane for it.
 */
export const KEEP_DEAD_PANE: [string, string] = ["remain-on-exit", "on"];


export function superviseSettings(config: Config): SuperviseSettings {
  return config.supervise;
}

export function deaconAgent(config: Config, paths: TownPaths): SupervisedAgent {
  const session = config.deacon.session;
  const s = superviseSettings(config);
  return {
    identity: DEACON,
    Name: "Deacon",
    session,
    command: config.deacon.command,
    spec: {
      name: session,
      cwd: paths.root,
      // GT_IDENTITY empty: the tmux server's environment may carry another agent's (whoever started it),
      // and `gtd request` inside the Deacon must not act as that agent. GT_TOWN_ROOT: this town, always.
      env: { GT_ROLE: "deacon", GT_IDENTITY: "", GT_TOWN_ROOT: paths.root },
      argv: loopArgv(paths.daemonDir, DEACON, "Deacon", s.restart, config.deacon.command),
      options: [...deaconSessionOptions(session), KEEP_DEAD_PANE],
    },
  };
}

/** The Deacon first, then supervise.agents in their order (an identity that does not resolve is skipped: config validates them). */
export function supervisedAgents(config: Config, paths: TownPaths): SupervisedAgent[] {
  const s = superviseSettings(config);
  const out = [deaconAgent(config, paths)];
  for (const id of s.agents) {
    if (id === DEACON) continue;
    const spec = resolveAgent(id, paths.root);
    if ("error" in spec) continue;
    out.push({
      identity: spec.identity,
      Name: spec.identity,
      session: spec.session,
      command: config.agent.command,
      spec: {
        name: spec.session,
        cwd: spec.workDir,
        env: { GT_ROLE: spec.role, GT_IDENTITY: spec.identity, GT_TOWN_ROOT: paths.root },
        argv: loopArgv(paths.daemonDir, spec.identity, spec.identity, s.restart, config.agent.command),
        options: [...sessionOptions(spec), KEEP_DEAD_PANE],
      },
    });
  }
  return out;
}
