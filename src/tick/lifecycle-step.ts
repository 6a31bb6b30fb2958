import type { Step } from "./context.ts";

/** Placeholder until its module lands. */
export const processLifecycle: Step = async (ctx) => ctx;
