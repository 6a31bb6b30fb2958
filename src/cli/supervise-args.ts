/** What pause, resume, restart and reset share: the agent argument, --all, and the operator they act as. */
import { loadEffectiveConfig } from "../config/effective.ts";
import { signalDaemon } from "../daemon/stop.ts";
import { GtdError } from "../errors.ts";
import { supervisedIdentities, type Operator, type Target } from "../supervise-intent.ts";
import { out, townFromArgs } from "./args.ts";

const AGENT_HELP = "deacon, or an agent in supervise.agents (mayor, <rig>-witness, <rig>-refinery, <rig>-crew-<name>)";

export const agentArg = { agent: { type: "positional", required: true, description: AGENT_HELP } } as const;

/** pause and resume: one agent, or --all. */
export const agentOrAllArgs = {
  agent: { type: "positional", required: false, description: AGENT_HELP },
  all: { type: "boolean", description: "Every supervised agent (resume: every paused one)" },
} as const;

export async function operatorFor(args: { town?: string | boolean | undefined }): Promise<Operator> {
  const paths = townFromArgs(args);
  const { config } = await loadEffectiveConfig(paths, process.env);
  return { paths, known: supervisedIdentities(config.supervise.agents), say: out, signal: () => signalDaemon(paths, "SIGUSR1") };
}

/** The agent named, or all; exactly one of the two (exit 2 otherwise). */
export function targetOf(args: { agent?: string | undefined; all?: boolean | undefined }, command: string): Target {
  if (args.all && args.agent !== undefined) throw new GtdError("USAGE", `${command}: name an agent or --all, not both`, `e.g. ${command} mayor`);
  if (args.all) return "all";
  if (args.agent === undefined || args.agent === "") throw new GtdError("USAGE", `missing AGENT for ${command}`, `${command} <agent> or ${command} --all`);
  return { agent: args.agent };
}
