/**
 * Heartbeat step 1: remove notification slots that no longer gate anything (slots.ts has the rules).
 * The original logs nothing here; gtd stays quiet too unless a file was actually removed.
 *
 * Dry run: the same rules are evaluated without unlinking anything, and the names that would go are
 * remembered for this context, so that pokeAgents plans as if they were gone (a slot removed here would
 * not block the poke that follows in a real heartbeat).
 */
import { clearStaleSlots, listStaleSlots } from "../slots.ts";
import { outsideTown } from "../store.ts";

export { listStaleSlots };
import { decide, type Step, type TickContext } from "./context.ts";

const plannedRemovals = new WeakMap<TickContext, Set<string>>();

/** Slot file names a dry-run clearStaleSlots step would have removed in this context (empty otherwise). */
export function plannedSlotRemovals(ctx: TickContext): ReadonlySet<string> {
  return plannedRemovals.get(ctx) ?? new Set();
}

/**
 * daemon/notifications must be the town's own directory: agents can replace it with a symlink, and gtd
 * would then delete and write files wherever it leads. When it escapes, slots are neither read, removed
 * nor written (said once until it is fixed); pokes still go out, gated by the backoff in state.json.
 */
export function slotDirUsable(ctx: TickContext): boolean {
  const key = "slots:outside-town";
  const why = outsideTown(ctx.paths.root, ctx.paths.notificationsDir);
  if (why === null) {
    ctx.memory.forget(key);
    return true;
  }
  if (ctx.memory.shouldSay(key, ctx.nowMs)) {
    decide(ctx, "clearStaleSlots", "refused", `Refusing to use notification slots: ${why}; pokes are not recorded until it is a plain directory again`);
  }
  return false;
}

export const clearStaleSlotsStep: Step = async (ctx) => {
  const dir = ctx.paths.notificationsDir;
  const maxAge = ctx.config.slotMaxAgeMs;
  if (!slotDirUsable(ctx)) return ctx;
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
