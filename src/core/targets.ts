/**
 * Who a heartbeat pokes, and in what words: the Deacon always; the Mayor and each rig's Witness when the
 * config asks (the original has those pokers but never calls them, §9). Each target carries its log
 * wording, taken from the original where it has one (§10, and the dead pokeMayor/pokeWitness code).
 * Pure: observe reads each target's files, decide pokes them.
 */
import { join } from "node:path";
import type { Config } from "../config/index.ts";
import type { TownPaths } from "../town.ts";
import type { RigDiscovery } from "./ports.ts";

export const HEARTBEAT_SLOT = "heartbeat";

export interface PokeTarget {
  /** Backoff id in state.json: `deacon`, `mayor`, `<rig>-witness`. */
  id: string;
  session: string;
  text: string;
  /** The JSON file whose `timestamp` says the agent is alive. */
  freshnessFile: string;
  /** As it starts a sentence: `Deacon`, `Mayor`, `Witness for gastown`. */
  Name: string;
  /** Mid-sentence: `Deacon`, `Mayor`, `witness for gastown`. */
  name: string;
  /** Logged when the session does not exist. */
  absent: string;
}

export function deaconTarget(config: Config, paths: TownPaths): PokeTarget {
  return {
    id: "deacon",
    session: config.deacon.session,
    text: "HEARTBEAT: run your rounds",
    freshnessFile: paths.deaconHeartbeat,
    Name: "Deacon",
    name: "Deacon",
    absent: "Deacon session not running after ensure, skipping poke",
  };
}

export function mayorTarget(paths: TownPaths): PokeTarget {
  return {
    id: "mayor",
    session: "gt-mayor",
    text: "HEARTBEAT: check your rigs",
    // Every `gt` command touches the town keepalive; the Mayor is the agent working at the town root.
    freshnessFile: paths.townKeepalive,
    Name: "Mayor",
    name: "Mayor",
    absent: "Mayor session not running, skipping poke",
  };
}

export function witnessTarget(paths: TownPaths, rig: string): PokeTarget {
  return {
    id: `${rig}-witness`,
    session: `gt-${rig}-witness`,
    text: "HEARTBEAT: check your workers",
    // The rig's own keepalive (the original read `<town>/gastown/<rig>/…`, a path nothing writes).
    freshnessFile: join(paths.root, rig, ".gastown", "keepalive.json"),
    Name: `Witness for ${rig}`,
    name: `witness for ${rig}`,
    absent: `Rig ${rig} has no witness session, skipping`,
  };
}

/** Every target of a heartbeat, in the order they are poked (rigs: what observe discovered, if asked). */
export function pokeTargets(config: Config, paths: TownPaths, rigs: RigDiscovery | null): PokeTarget[] {
  const targets = [deaconTarget(config, paths)];
  if (config.poke.mayor) targets.push(mayorTarget(paths));
  if (config.poke.witnesses && rigs) for (const rig of rigs.rigs) targets.push(witnessTarget(paths, rig));
  return targets;
}
