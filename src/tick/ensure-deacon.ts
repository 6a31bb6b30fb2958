import type { Step } from "./context.ts";

/** Placeholder until its module lands. */
export const ensureDeacon: Step = async (ctx) => ctx;
