/** Arguments every command shares, and the helpers that turn them into a town. */
import { GtdError } from "../errors.ts";
import { townPaths, findTownRoot, type TownPaths } from "../town.ts";
import { writeOut } from "../output.ts";

export const townArg = {
  town: {
    type: "string",
    valueHint: "DIR",
    description: "Town root (default: $GT_TOWN_ROOT, else found above the current directory)",
  },
} as const;

export const jsonArg = {
  json: { type: "boolean", description: "Machine-readable JSON output" },
} as const;

export function townFromArgs(args: { town?: string | boolean | undefined }): TownPaths {
  // `--town` with no value must not fall back to discovery silently: the user meant some town.
  if (args.town === "" || typeof args.town === "boolean") throw new GtdError("USAGE", "--town needs a directory", "e.g. --town ~/gt");
  return townPaths(findTownRoot({ town: args.town, env: process.env.GT_TOWN_ROOT, cwd: process.cwd() }));
}

/** Print to stdout; commands return their exit code instead of calling process.exit. */
export function out(line = ""): void {
  writeOut(`${line}\n`);
}
