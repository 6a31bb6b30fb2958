import type { Step } from "./context.ts";

/** Placeholder until its module lands. */
export const clearStaleSlotsStep: Step = async (ctx) => ctx;
