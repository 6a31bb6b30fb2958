import { defineCommand } from "citty";
import { signalDaemon } from "../daemon/stop.ts";
import { out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "signal", description: "Ask the daemon to process lifecycle requests now (SIGUSR1). Exit 3 if not running" },
  args: { ...townArg },
  run({ args }) {
    const pid = signalDaemon(townFromArgs(args), "SIGUSR1");
    out(`✓ Signaled daemon (PID ${pid}) to process lifecycle requests`);
    return 0;
  },
});
