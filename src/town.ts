/** Town root discovery and every path under the town, built in one place. */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { GtdError } from "./errors.ts";
import { isDirectory } from "./store.ts";

export interface TownPaths {
  root: string;
  daemonDir: string;
  pidFile: string;
  lockFile: string;
  stateFile: string;
  logFile: string;
  configFile: string;
  notificationsDir: string;
  deaconHeartbeat: string;
  mayorDir: string;
  rigsFile: string;
  townKeepalive: string;
}

export function townPaths(root: string): TownPaths {
  const daemonDir = join(root, "daemon");
  return {
    root,
    daemonDir,
    pidFile: join(daemonDir, "daemon.pid"),
    lockFile: join(daemonDir, "daemon.lock"),
    stateFile: join(daemonDir, "state.json"),
    logFile: join(daemonDir, "daemon.log"),
    configFile: join(daemonDir, "config.json"),
    notificationsDir: join(daemonDir, "notifications"),
    deaconHeartbeat: join(root, "deacon", "heartbeat.json"),
    mayorDir: join(root, "mayor"),
    rigsFile: join(root, "mayor", "rigs.json"),
    townKeepalive: join(root, ".gastown", "keepalive.json"),
  };
}


/**
 * `--town DIR`, else GT_TOWN_ROOT, else walk up from cwd: the first directory with mayor/town.json,
 * else the deepest one with a mayor/ directory (as the original does).
 */
export function findTownRoot(opts: { town?: string | undefined; env?: string | undefined; cwd: string }): string {
  const explicit = opts.town ?? (opts.env ? opts.env : undefined);
  if (explicit) {
    const root = resolve(opts.cwd, explicit);
    if (!isDirectory(root)) {
      const from = opts.town ? "--town" : "GT_TOWN_ROOT";
      throw new GtdError("NOT_IN_TOWN", `town directory not found: ${root}`, `${from} must name an existing directory`);
    }
    return realpathSync(root);
  }
  let dir: string;
  try {
    dir = realpathSync(resolve(opts.cwd));
  } catch {
    dir = resolve(opts.cwd);
  }
  const start = dir;
  let secondary: string | null = null;
  for (;;) {
    if (existsSync(join(dir, "mayor", "town.json"))) return dir;
    if (secondary === null && isDirectory(join(dir, "mayor"))) secondary = dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (secondary) return secondary;
  throw new GtdError(
    "NOT_IN_TOWN",
    "not in a Gas Town workspace",
    `looked for mayor/town.json above ${start}; pass --town or set GT_TOWN_ROOT`,
  );
}
