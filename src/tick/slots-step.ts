/**
 * Heartbeat step 1: remove notification slots that no longer gate anything (slots.ts has the rules).
 * The original logs nothing here; gtd stays quiet too unless a file was actually removed.
 *
 * Dry run: the same rules are evaluated without unlinking anything, and the names that would go are
 * remembered for this context, so that pokeAgents plans as if they were gone (a slot removed here would
 * not block the poke that follows in a real heartbeat).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { clearStaleSlots, isCorrupt, parseSlotFileName, readSlot, slotFileName } from "../slots.ts";
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

const expired = (ageMs: number, maxAgeMs: number) => ageMs > maxAgeMs || ageMs < -maxAgeMs;

/**
 * What clearStaleSlots would remove, without removing it: the same rules (mtime beyond maxAge; a consumed
 * slot whose sent_at is beyond maxAge; our own old temp files). Kept beside the step because slots.ts is
 * not ours to change; the slots-step test checks the two agree on the same directory.
 */
export function listStaleSlots(dir: string, nowMs: number, maxAgeMs: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    const isSlot = name.startsWith("slot-") && name.endsWith(".json");
    const isTemp = name.startsWith(".slot-") && name.endsWith(".tmp");
    if (!isSlot && !isTemp) continue;
    let mtimeMs: number;
    try {
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      mtimeMs = st.mtimeMs;
    } catch {
      continue;
    }
    let stale = expired(nowMs - mtimeMs, maxAgeMs);
    const parsed = isSlot ? parseSlotFileName(name) : null;
    // readSlot builds the path from (session, slot): only ask it when that path is this very file.
    if (!stale && parsed && slotFileName(parsed.session, parsed.slot) === name) {
      const r = readSlot(dir, parsed.session, parsed.slot);
      if (r !== null && !isCorrupt(r) && r.consumed) stale = r.sentAtMs === null || expired(nowMs - r.sentAtMs, maxAgeMs);
    }
    if (stale) out.push(name);
  }
  return out;
}
