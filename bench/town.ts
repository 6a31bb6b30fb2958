/**
 * What "N supervised agents" means for the bench, in one place.
 *
 * N agents = N rigs whose Witness gtd supervises (`supervise.agents`): a live `gt-<rig>-witness` session
 * running the fake agent (it shows as `claude` in /proc, as gtd's process check expects), created before
 * the daemon starts so gtd adopts it, with a fresh keepalive, so the figure is the cost of watching, not
 * of starting, restarting or poking. If what gtd supervises changes, change this file only: the phases
 * take whatever it returns.
 *
 * `null` agents = the plain town both daemons understand: the Deacon only, gtd's default config.
 */
import { join } from "node:path";

export interface Supervision {
  /** Sessions to create before the daemon starts (besides the Deacon's). */
  sessions: Array<{ name: string; cwd: string }>;
  /** Files whose `timestamp` must stay recent so the agent reads as fresh. */
  freshFiles: string[];
  /** Directories to create before the daemon starts. */
  dirs: string[];
  /** Files to write before the daemon starts. */
  files: Array<{ path: string; text: string }>;
  /** Environment for gtd (GTD_* settings); the original takes no configuration. */
  gtdEnv: Record<string, string>;
}

export function rigName(i: number): string {
  return `r${String(i).padStart(3, "0")}`;
}

export function supervision(town: string, agents: number | null): Supervision {
  if (agents === null) return { sessions: [], freshFiles: [], dirs: [], files: [], gtdEnv: {} };
  const rigs = Array.from({ length: agents }, (_, i) => rigName(i));
  return {
    // A witness works in its rig's directory (reference §14 scenario 39); its state file is under witness/.
    sessions: rigs.map((rig) => ({ name: `gt-${rig}-witness`, cwd: join(town, rig) })),
    // src/core/targets.ts witnessTarget: the rig's own keepalive.
    freshFiles: rigs.map((rig) => join(town, rig, ".gastown", "keepalive.json")),
    dirs: rigs.map((rig) => join(town, rig, "witness")),
    files: [
      {
        path: join(town, "mayor", "rigs.json"),
        text: JSON.stringify({ version: 1, rigs: Object.fromEntries(rigs.map((r) => [r, { git_url: "local" }])) }),
      },
    ],
    // An empty list is "none": 0 agents is the plain town with supervision's code paths still run.
    gtdEnv: { GTD_SUPERVISE_AGENTS: rigs.map((r) => `${r}-witness`).join(",") },
  };
}
