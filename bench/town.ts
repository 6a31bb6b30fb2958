/**
 * What "N supervised agents" means for the bench, in one place.
 *
 * Today gtd supervises nothing beyond the Deacon; what it does watch per agent is the poke targets: with
 * `poke.witnesses` on, every rig's Witness session is observed (its heartbeat file and slot) each
 * heartbeat and poked when stale. So N agents = N rigs, each with a live `gt-<rig>-witness` session and a
 * fresh keepalive (observed, not poked: the figure is the cost of watching, not of typing). When
 * `supervise.agents` lands, change this file only: the phases take whatever it returns.
 *
 * `null` agents = the plain town both daemons understand: the Deacon only, gtd's default config.
 */
import { join } from "node:path";

export interface Supervision {
  /** Sessions to create before the daemon starts (besides the Deacon's). */
  sessions: Array<{ name: string; cwd: string }>;
  /** Files whose `timestamp` must stay recent so the agent reads as fresh. */
  freshFiles: string[];
  /** Files to write before the daemon starts. */
  files: Array<{ path: string; text: string }>;
  /** Environment for gtd (GTD_* settings); the original takes no configuration. */
  gtdEnv: Record<string, string>;
}

export function rigName(i: number): string {
  return `r${String(i).padStart(3, "0")}`;
}

export function supervision(town: string, agents: number | null): Supervision {
  if (agents === null) return { sessions: [], freshFiles: [], files: [], gtdEnv: {} };
  const rigs = Array.from({ length: agents }, (_, i) => rigName(i));
  return {
    sessions: rigs.map((rig) => ({ name: `gt-${rig}-witness`, cwd: join(town, rig) })),
    // src/core/targets.ts witnessTarget: the rig's own keepalive.
    freshFiles: rigs.map((rig) => join(town, rig, ".gastown", "keepalive.json")),
    files: [
      {
        path: join(town, "mayor", "rigs.json"),
        text: JSON.stringify({ version: 1, rigs: Object.fromEntries(rigs.map((r) => [r, { git_url: "local" }])) }),
      },
    ],
    gtdEnv: { GTD_POKE_WITNESSES: "true" },
  };
}
