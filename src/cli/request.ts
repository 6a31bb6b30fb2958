import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { buildPorts } from "../daemon/wiring.ts";
import { GtdError } from "../errors.ts";
import { requestLifecycle } from "../lifecycle/handoff.ts";
import { out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "request", description: "Agent side of a handoff: flag the request, mail it to deacon/, signal the daemon" },
  args: {
    ...townArg,
    action: { type: "positional", required: true, description: "cycle, restart or shutdown" },
    as: { type: "string", valueHint: "ID", description: "The agent asking: mayor, <rig>-witness, <rig>-refinery, <rig>-crew-<name>" },
  },
  async run({ args }) {
    if (!args.as) throw new GtdError("USAGE", "--as is required", "e.g. gtd request cycle --as gastown-witness");
    const paths = townFromArgs(args);
    const { config } = await loadEffectiveConfig(paths, process.env);
    const ports = buildPorts(config, paths, () => {});
    await requestLifecycle({
      paths,
      action: args.action,
      identity: args.as,
      mailbox: ports.mailbox,
      nowMs: Date.now(),
      say: out,
      signal: (pid) => process.kill(pid, "SIGUSR1"),
    });
    return 0;
  },
});
