import { defineCommand } from "citty";
import { tickOutput } from "../contracts/tick.ts";
import { tickOnce } from "../daemon/tick.ts";
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
    // A tick holds the town's lock: a SIGUSR1 meant for a daemon must not kill it (Bun's default), and
    // Ctrl-C ends it the daemon's way, between actions, with state saved.
    const stop = new AbortController();
    process.on("SIGUSR1", () => {});
    process.on("SIGINT", () => stop.abort());
    process.on("SIGTERM", () => stop.abort());
    // Human view: the decisions as they are taken; JSON: one object at the end.
    const say = args.json ? () => {} : (line: string) => out(dryRun ? `[dry-run] ${line}` : line);
    const result = await tickOnce(paths, dryRun, say, stop.signal);
    if (args.json) out(JSON.stringify(tickOutput(result), null, 2));
    return 0;
  },
});
