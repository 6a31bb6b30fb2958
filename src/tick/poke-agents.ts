import type { Step } from "./context.ts";

/** Placeholder until its module lands. */
export const pokeAgents: Step = async (ctx) => ctx;
