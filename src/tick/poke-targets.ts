/**
 * Who a heartbeat pokes, and in what words: the Deacon always; the Mayor and each rig's Witness when the
 * config asks (the original has those pokers but never calls them, §9). Each target carries its log
 * wording, taken from the original where it has one (§10, and the dead pokeMayor/pokeWitness code).
 */
import { join } from "node:path";
import { discoverRigs } from "../agents/rigs.ts";
import type { TickContext } from "./context.ts";
import { decide } from "./context.ts";

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

export function deaconTarget(ctx: TickContext): PokeTarget {
  return {
    id: "deacon",
    session: ctx.config.deacon.session,
    text: "HEARTBEAT: run your rounds",
    freshnessFile: ctx.paths.deaconHeartbeat,
    Name: "Deacon",
    name: "Deacon",
    absent: "Deacon session not running after ensure, skipping poke",
  };
}

export function mayorTarget(ctx: TickContext): PokeTarget {
  return {
    id: "mayor",
    session: "gt-mayor",
    text: "HEARTBEAT: check your rigs",
    // Every `gt` command touches the town keepalive; the Mayor is the agent working at the town root.
    freshnessFile: ctx.paths.townKeepalive,
    Name: "Mayor",
    name: "Mayor",
    absent: "Mayor session not running, skipping poke",
  };
}

export function witnessTarget(ctx: TickContext, rig: string): PokeTarget {
  return {
    id: `${rig}-witness`,
    session: `gt-${rig}-witness`,
    text: "HEARTBEAT: check your workers",
    // The rig's own keepalive (the original read `<town>/gastown/<rig>/…`, a path nothing writes).
    freshnessFile: join(ctx.paths.root, rig, ".gastown", "keepalive.json"),
    Name: `Witness for ${rig}`,
    name: `witness for ${rig}`,
    absent: `Rig ${rig} has no witness session, skipping`,
  };
}

/** Rigs whose witnesses are poked; discovery problems and "no rigs" are said once, not every heartbeat. */
export function witnessRigs(ctx: TickContext): string[] {
  const found = discoverRigs(ctx.paths.root);
  if (found.warning && ctx.memory.shouldSay(`pokeAgents:rigs-warning:${found.warning}`, ctx.nowMs)) {
    decide(ctx, "pokeAgents", "warning", `Warning: rig discovery: ${found.warning}`, { source: found.source });
  }
  const noneKey = "pokeAgents:no-rigs";
  if (found.rigs.length === 0) {
    if (ctx.memory.shouldSay(noneKey, ctx.nowMs)) {
      decide(ctx, "pokeAgents", "skipped", "No rigs discovered, no witnesses to poke", { source: found.source });
    }
  } else {
    ctx.memory.forget(noneKey);
  }
  return found.rigs;
}

/** Every target of this heartbeat, in the order they are poked. */
export function pokeTargets(ctx: TickContext): PokeTarget[] {
  const targets = [deaconTarget(ctx)];
  if (ctx.config.poke.mayor) targets.push(mayorTarget(ctx));
  if (ctx.config.poke.witnesses) for (const rig of witnessRigs(ctx)) targets.push(witnessTarget(ctx, rig));
  return targets;
}
