import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { signallableDaemonPid } from "../daemon/liveness.ts";
import { buildPorts } from "../daemon/wiring.ts";
import { GtdError } from "../errors.ts";
import { requestLifecycle } from "../lifecycle/handoff.ts";
import { out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "request", description: "Agent side of a handoff: flag the request, mail it to deacon/, signal the daemon" },
  args: {
    ...townArg,
    action: { type: "positional", required: true, description: "cycle, restart or shutdown" },
    as: { type: "string", valueHint: "ID", description: "The agent asking: mayor, <rig>-witness, <rig>-refinery, <rig>-crew-<name> (default: $GT_IDENTITY, which gtd sets in the sessions it starts)" },
  },
  async run({ args }) {
    const identity = args.as ?? process.env.GT_IDENTITY;
    if (!identity) throw new GtdError("USAGE", "--as is required outside a gtd-started session", "e.g. gtd request cycle --as gastown-witness");
    const paths = townFromArgs(args);
    const { config } = await loadEffectiveConfig(paths, process.env);
    const ports = buildPorts(config, paths, () => {});
    await requestLifecycle({
      paths,
      action: args.action,
      identity,
      mailbox: ports.mailbox,
      nowMs: Date.now(),
      say: out,
      daemonPid: () => signallableDaemonPid(paths),
      signal: (pid) => process.kill(pid, "SIGUSR1"),
    });
    return 0;
  },
});
