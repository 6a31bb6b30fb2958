/**
 * clearStaleSlots: remove notification slots that no longer gate anything (src/core/slot-rules.ts has the
 * rules). The original logs nothing here; gtd stays quiet too unless a file was actually removed. The
 * names go into the draft, so the pokes that follow treat those slots as gone, in a dry run as in a pass.
 */
import { act, say, type Decide, type Draft } from "./pass.ts";
import { staleSlotNames } from "./slot-rules.ts";

/**
 * daemon/notifications must be the town's own directory: agents can replace it with a symlink, and gtd
 * would then delete and write files wherever it leads. When it escapes, slots are neither read, removed
 * nor written (said once until it is fixed); pokes still go out, gated by the backoff in state.json.
 */
export function slotDirUsable(d: Draft): boolean {
  const key = "slots:outside-town";
  const why = d.obs.slotDir?.problem ?? null;
  if (why === null) {
    d.memory.forget(key);
    return true;
  }
  if (d.memory.shouldSay(key, d.nowMs)) {
    say(d, "clearStaleSlots", "refused", `Refusing to use notification slots: ${why}; pokes are not recorded until it is a plain directory again`);
  }
  return false;
}

export function* clearStaleSlots(d: Draft): Decide {
  if (!slotDirUsable(d)) return;
  for (const name of staleSlotNames(d.obs.slotDir?.entries ?? [], d.nowMs, d.config.slotMaxAgeMs)) {
    d.removedSlots.add(name);
    yield* act(d, {
      kind: "removeSlot",
      name,
      step: "clearStaleSlots",
      done: { action: "removed", message: `Removed stale slot ${name}`, data: { file: name } },
      plan: { action: "would-remove", message: `Would remove stale slot ${name} (dry run)`, data: { file: name } },
    });
  }
}
