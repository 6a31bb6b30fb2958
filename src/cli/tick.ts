import { defineCommand } from "citty";
import { tickOnce } from "../tick/once.ts";
import { jsonArg, out, townArg, townFromArgs } from "./args.ts";

export default defineCommand({
  meta: { name: "tick", description: "Run one heartbeat in this process and print each decision" },
  args: {
    ...townArg,
    ...jsonArg,
    "dry-run": { type: "boolean", description: "Decide and print, change nothing (no tmux writes, no files, no mail)" },
  },
  async run({ args }) {
    const paths = townFromArgs(args);
    const dryRun = Boolean(args["dry-run"]);
    // Human view: the decisions as they are taken; JSON: one object at the end.
    const result = await tickOnce(paths, dryRun, args.json ? () => {} : (line) => out(dryRun ? `[dry-run] ${line}` : line));
    if (args.json) out(JSON.stringify(result, null, 2));
    return 0;
  },
});
