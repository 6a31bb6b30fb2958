/**
 * Load the town's effective config from <town>/daemon/config.json and the environment given. A cron
 * heartbeat is checked by croner itself (src/schedule.ts), in every layer (load.ts).
 * Async for its callers (`loadEffectiveConfig(...).catch(...)`); nothing in it waits.
 */
import type { TownPaths } from "../town.ts";
import { loadConfig, type LoadedConfig } from "./index.ts";
import type { SettingKey } from "./settings.ts";

export async function loadEffectiveConfig(
  paths: TownPaths,
  env: Record<string, string | undefined>,
  flags: Partial<Record<SettingKey, string>> = {},
): Promise<LoadedConfig> {
  return loadConfig({ configFile: paths.configFile, env, flags });
}
