import { defineCommand } from "citty";
import { loadEffectiveConfig } from "../config/effective.ts";
import { envName, SETTING_KEYS, SETTINGS } from "../config/settings.ts";
import { jsonArg, out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "config", description: "Show the effective config and where each value came from (validates it)" },
  args: { ...townArg, ...jsonArg },
  async run({ args }) {
    const paths = townFromArgs(args);
    const { layers } = await loadEffectiveConfig(paths, process.env);
    const rows = SETTING_KEYS.map((key) => ({
      key,
      value: layers.values[key],
      source: layers.sources[key],
      env: envName(key),
      why: SETTINGS[key].why,
    }));
    if (args.json) {
      out(JSON.stringify({ file: paths.configFile, settings: Object.fromEntries(rows.map(({ key, ...r }) => [key, r])) }, null, 2));
      return 0;
    }
    out(`# ${paths.configFile}`);
    const width = Math.max(...rows.map((r) => r.key.length));
    for (const r of rows) out(`${r.key.padEnd(width)}  ${JSON.stringify(r.value)}  (${r.source})`);
    return 0;
  },
});
