import { defineCommand } from "citty";
import { existsSync } from "node:fs";
import { GtdError } from "../errors.ts";
import { follow, lastLines, lineSplitter, logLineAsJson } from "../log-tail.ts";
import { out, townArg, townFromArgs } from "./args.ts";
import { writeOut } from "../output.ts";

export default defineCommand({
  meta: { name: "logs", description: "Show the daemon log (daemon/daemon.log)" },
  args: {
    ...townArg,
    lines: { type: "string", alias: "n", default: "50", valueHint: "N", description: "How many lines (default 50)" },
    follow: { type: "boolean", alias: "f", description: "Keep printing new lines (survives log rotation)" },
    json: { type: "boolean", description: "One JSON object per line, whichever format the log is in" },
  },
  async run({ args }) {
    const paths = townFromArgs(args);
    const n = Number(args.lines);
    if (!Number.isInteger(n) || n < 0) throw new GtdError("USAGE", `--lines: "${args.lines}" is not a whole number`, "e.g. gtd logs -n 100");
    if (!existsSync(paths.logFile) && !args.follow) {
      throw new GtdError("NOT_FOUND", `no log file found at ${paths.logFile}`, "the daemon has not run in this town yet");
    }
    const show = args.json ? (line: string) => out(logLineAsJson(line)) : out;
    for (const line of lastLines(paths.logFile, n)) show(line);
    if (!args.follow) return 0;
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    await follow(paths.logFile, args.json ? lineSplitter(show) : writeOut, stop.signal);
    return 0;
  },
});
