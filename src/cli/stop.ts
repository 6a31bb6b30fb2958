import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { requireDuration } from "../duration.ts";
import { stopDaemon } from "../daemon/stop.ts";
import { GtdError } from "../errors.ts";
import { out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop the daemon: SIGTERM, then SIGKILL if it has not exited in time" },
  args: {
    ...townArg,
    timeout: { type: "string", valueHint: "DURATION", description: "How long to wait for a graceful exit (default 10s)" },
  },
  async run({ args }) {
    const paths = townFromArgs(args);
    let timeoutMs: number;
    if (args.timeout !== undefined) {
      try {
        timeoutMs = requireDuration(args.timeout, "--timeout");
      } catch (err) {
        throw new GtdError("USAGE", (err as GtdError).message, (err as GtdError).hint);
      }
    } else {
      timeoutMs = (await loadEffectiveConfig(paths, process.env).catch(() => null))?.config.timeouts.stopMs ?? 10_000;
    }
    const res = await stopDaemon(paths, timeoutMs);
    out(res.killed ? `✓ Daemon killed after ${args.timeout ?? `${timeoutMs / 1000}s`} without a graceful exit (was PID ${res.pid})` : `✓ Daemon stopped (was PID ${res.pid})`);
    return 0;
  },
});
