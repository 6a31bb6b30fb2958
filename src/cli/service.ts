import { defineCommand } from "citty";
import { statSync } from "node:fs";
import { userInfo } from "node:os";
import { loadEffectiveConfig } from "../config/effective.ts";
import { selfArgv } from "../daemon/launch.ts";
import { probeDaemon } from "../daemon/liveness.ts";
import { heartbeatIntervalMs } from "../schedule.ts";
import { GtdError } from "../errors.ts";
import { runCommand } from "../proc.ts";
import { installService, renderService, uninstallService } from "../service/install.ts";
import type { ServiceKind, ServiceScope, ServiceSpec } from "../service/units.ts";
import type { TownPaths } from "../town.ts";
import { out, townArg, townFromArgs } from "./args.ts";
import { writeOut } from "../output.ts";

const ACTIONS = ["print", "install", "uninstall"] as const;

export default defineCommand({
  meta: { name: "service", description: "Run gtd as a service: print, install or uninstall a systemd unit (launchd plist on macOS)" },
  args: {
    ...townArg,
    action: { type: "positional", required: true, description: "print, install or uninstall" },
    user: { type: "boolean", description: "A user service (default unless run as root)" },
    system: { type: "boolean", description: "A system service (default when run as root)" },
    launchd: { type: "boolean", description: "A launchd plist (default on macOS; print works anywhere)" },
    systemd: { type: "boolean", description: "A systemd unit (default elsewhere)" },
  },
  async run({ args }) {
    const action = args.action as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action)) throw new GtdError("USAGE", `unknown action ${JSON.stringify(args.action)}`, "use print, install or uninstall");
    if (args.user && args.system) throw new GtdError("USAGE", "--user and --system exclude each other", "pick one");
    if (args.launchd && args.systemd) throw new GtdError("USAGE", "--launchd and --systemd exclude each other", "pick one");
    const paths = townFromArgs(args);
    const uid = process.getuid?.() ?? 0;
    const scope: ServiceScope = args.system ? "system" : args.user ? "user" : uid === 0 ? "system" : "user";
    const kind: ServiceKind = args.launchd ? "launchd" : args.systemd ? "systemd" : process.platform === "darwin" ? "launchd" : "systemd";
    const host = { run: runCommand, env: process.env, uid, user: userInfo().username, say: out };
    if (action === "uninstall") {
      await uninstallService(kind, scope, paths.root, host);
      return 0;
    }
    const spec = await serviceSpec(paths, kind, scope);
    if (action === "print") {
      writeOut(renderService(spec));
      return 0;
    }
    const probe = probeDaemon(paths);
    if (probe.running) throw new GtdError("ALREADY_RUNNING", `a daemon is already running for this town (PID ${probe.pid})`, "stop it with gtd stop, then install: the service starts its own");
    await installService(spec, host);
    return 0;
  },
});

async function serviceSpec(paths: TownPaths, kind: ServiceKind, scope: ServiceScope): Promise<ServiceSpec> {
  const { config } = await loadEffectiveConfig(paths, process.env);
  const owner = statSync(paths.root).uid;
  return {
    kind,
    scope,
    argv: selfArgv(),
    town: paths.root,
    heartbeatMs: heartbeatIntervalMs(config.heartbeat),
    longestTimeoutMs: Math.max(...Object.values(config.timeouts)),
    path: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    uid: scope === "system" && owner !== 0 ? owner : null,
  };
}
