import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { daemonStatus, renderStatus } from "../daemon/status.ts";
import { EXIT } from "../errors.ts";
import { styleFor } from "../text-table.ts";
import { jsonArg, out, townArg, townFromArgs } from "./args.ts";
import { stdoutIsTerminal } from "../output.ts";

export default defineCommand({
  meta: { name: "status", description: "Is the daemon running? Exit 0 running, 3 not running" },
  args: { ...townArg, ...jsonArg },
  async run({ args }) {
    const paths = townFromArgs(args);
    // The Deacon's session name for its agents row; status works with a broken config too.
    const deaconSession = await loadEffectiveConfig(paths, process.env).then((c) => c.config.deacon.session, () => undefined);
    const status = daemonStatus(paths, Date.now(), deaconSession ? { deaconSession } : {});
    if (args.json) out(JSON.stringify(status, null, 2));
    else for (const line of renderStatus(status, styleFor(await stdoutIsTerminal(), process.env))) out(line);
    return status.running ? EXIT.ok : EXIT.notRunning;
  },
});
