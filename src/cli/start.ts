import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { launchDetached } from "../daemon/launch.ts";
import { alreadyRunning, probeDaemon } from "../daemon/liveness.ts";
import { runDaemon } from "../daemon/run.ts";
import { GtdError } from "../errors.ts";
import { logLine, stderrIsFile } from "../log.ts";
import { out, townArg, townFromArgs } from "./args.ts";
import { writeErr } from "../output.ts";

export default defineCommand({
  meta: { name: "start", description: "Start the daemon (in the background unless --foreground)" },
  args: {
    ...townArg,
    foreground: { type: "boolean", description: "Run in this process until SIGTERM/SIGINT (systemd, a tmux pane)" },
    heartbeat: { type: "string", valueHint: "SPEC", description: 'Heartbeat: a duration ("30s", "5m") or a cron pattern' },
  },
  async run({ args }) {
    const paths = townFromArgs(args);
    const flags = args.heartbeat !== undefined ? { heartbeat: args.heartbeat } : {};
    if (args.foreground) {
      try {
        return await runDaemon({ paths, flags, mirror: true });
      } catch (err) {
        // Launched by `gtd start`, our stderr is the log: say it as a log line (the starter tells the user).
        if (!(err instanceof GtdError) || !stderrIsFile(paths.logFile)) throw err;
        writeErr(logLine(`Not starting: ${err.message}`));
        return err.exitCode;
      }
    }
    // Refuse a bad config here, on the user's terminal, before anything is spawned.
    await loadEffectiveConfig(paths, process.env, flags);
    const probe = probeDaemon(paths);
    if (probe.running) {
      throw alreadyRunning(probe.pid);
    }
    const pid = await launchDetached(paths, args.heartbeat !== undefined ? ["--heartbeat", args.heartbeat] : []);
    out(`✓ Daemon started (PID ${pid})`);
    return 0;
  },
});
