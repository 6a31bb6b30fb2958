/**
 * The agents a town has, by identity, from its directories: `mayor`, and for each rig `<rig>-witness`,
 * `<rig>-refinery` and `<rig>-crew-<name>` for each crew directory. For completion and for naming the
 * agents gtd knows when it is given one it does not.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { isDirectory } from "../store.ts";
import { resolveAgent } from "../core/identity.ts";
import { discoverRigs } from "./rigs.ts";

/** A town with more crew than this is not listed whole: completion must stay instant. */
const MAX_AGENTS = 500;

export function knownAgents(townRoot: string): string[] {
  const ids = ["mayor"];
  for (const rig of discoverRigs(townRoot).rigs) {
    ids.push(`${rig}-witness`, `${rig}-refinery`);
    let crew: string[] = [];
    try {
      crew = readdirSync(join(townRoot, rig, "crew")).sort();
    } catch {
      // No crew directory: no crew.
    }
    for (const name of crew) if (isDirectory(join(townRoot, rig, "crew", name))) ids.push(`${rig}-crew-${name}`);
    if (ids.length >= MAX_AGENTS) break;
  }
  // Only names gtd would accept: a directory name that is not an identity is no agent.
  return ids.filter((id) => !("error" in resolveAgent(id, townRoot))).slice(0, MAX_AGENTS);
}
