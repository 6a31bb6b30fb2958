import { defineCommand } from "citty";
import { daemonStatus, renderStatus } from "../daemon/status.ts";
import { EXIT } from "../errors.ts";
import { styleFor } from "../text-table.ts";
import { jsonArg, out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "status", description: "Is the daemon running? Exit 0 running, 3 not running" },
  args: { ...townArg, ...jsonArg },
  run({ args }) {
    const status = daemonStatus(townFromArgs(args), Date.now());
    if (args.json) out(JSON.stringify(status, null, 2));
    else for (const line of renderStatus(status, styleFor(process.stdout.isTTY, process.env))) out(line);
    return status.running ? EXIT.ok : EXIT.notRunning;
  },
});
