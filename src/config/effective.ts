/** Load the town's effective config, checking a cron heartbeat with croner itself. */
import { parseDuration } from "../duration.ts";
import { GtdError } from "../errors.ts";
import type { TownPaths } from "../town.ts";
import { loadConfig, type LoadedConfig } from "./index.ts";
import type { SettingKey } from "./settings.ts";
import { quote } from "../quote.ts";

export async function loadEffectiveConfig(
  paths: TownPaths,
  env: Record<string, string | undefined>,
  flags: Partial<Record<SettingKey, string>> = {},
): Promise<LoadedConfig> {
  const loaded = loadConfig({ configFile: paths.configFile, env, flags });
  const spec = loaded.config.heartbeat;
  if (parseDuration(spec) === null) {
    const { cronValidator } = await import("../daemon/schedule.ts");
    if (!(await cronValidator())(spec)) {
      const source = loaded.layers.sources.heartbeat;
      throw new GtdError("CONFIG", `${source === "config.json" ? paths.configFile : source}: heartbeat = ${quote(spec)} is not valid`, 'expected a duration ("30s", "5m") or a 5/6-field cron pattern');
    }
  }
  return loaded;
}
