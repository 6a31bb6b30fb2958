/**
 * Heartbeat step 1: remove notification slots that no longer gate anything (slots.ts has the rules).
 * The original logs nothing here; gtd stays quiet too unless a file was actually removed.
 *
 * Dry run: the same rules are evaluated without unlinking anything, and the names that would go are
 * remembered for this context, so that pokeAgents plans as if they were gone (a slot removed here would
 * not block the poke that follows in a real heartbeat).
 */
import { clearStaleSlots, listStaleSlots } from "../slots.ts";

export { listStaleSlots };
import { decide, type Step, type TickContext } from "./context.ts";

const plannedRemovals = new WeakMap<TickContext, Set<string>>();

/** Slot file names a dry-run clearStaleSlots step would have removed in this context (empty otherwise). */
export function plannedSlotRemovals(ctx: TickContext): ReadonlySet<string> {
  return plannedRemovals.get(ctx) ?? new Set();
}

export const clearStaleSlotsStep: Step = async (ctx) => {
  const dir = ctx.paths.notificationsDir;
  const maxAge = ctx.config.slotMaxAgeMs;
  if (ctx.dryRun) {
    const names = listStaleSlots(dir, ctx.nowMs, maxAge);
    plannedRemovals.set(ctx, new Set(names));
    for (const name of names) {
      decide(ctx, "clearStaleSlots", "would-remove", `Would remove stale slot ${name} (dry run)`, { file: name });
    }
    return ctx;
  }
  for (const name of clearStaleSlots(dir, ctx.nowMs, maxAge)) {
    decide(ctx, "clearStaleSlots", "removed", `Removed stale slot ${name}`, { file: name });
  }
  return ctx;
};
