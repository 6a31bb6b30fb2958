/**
 * LIFECYCLE mail titles → (identity, action). The title is untrusted text: only a validated identity
 * and one of three actions ever leave this module.
 *
 * Differences from the original (reference §7.3), each deliberate:
 * - The action is the word after `requesting` (defect #1: the original found `cycle` inside
 *   `lifecycle:` and so always said cycle).
 * - The identity keeps its case (defect #23) and is validated before it is returned.
 * - A `lifecycle:` title that cannot be understood (no `requesting <action>`, unknown action, bad
 *   identity, control characters, too long) is an `error`, not silently ignored, so the caller can log
 *   the reason and close the message instead of leaving it open forever (defect #3).
 * - `LIFECYCLE:requesting cycle` (no space after the colon) uses the sender, like `LIFECYCLE: requesting
 *   cycle`; the original took `requesting cycle` as the identity.
 * Titles that are not lifecycle mail at all (other prefix, leading whitespace as in the original) are
 * `ignore`: they belong to someone else and are left alone.
 */
import { validateIdentity } from "./identity.ts";
import { quote } from "../quote.ts";

export type LifecycleAction = "cycle" | "restart" | "shutdown";

export type ParsedTitle =
  | { identity: string; action: LifecycleAction }
  | { ignore: true }
  | { error: string };

/** Real titles are ~50 characters; anything past this is not a request we will act on. */
export const MAX_TITLE_LENGTH = 200;

const PREFIX = "lifecycle:";

const ACTIONS: Record<string, LifecycleAction> = {
  cycle: "cycle",
  cycling: "cycle",
  restart: "restart",
  restarting: "restart",
  shutdown: "shutdown",
  stop: "shutdown",
  stopping: "shutdown",
};

// `requesting` as a whole word: at the start or after whitespace, then whitespace or the end.
const REQUESTING = /(?:^|\s)requesting(?=\s|$)/i;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function parseLifecycleTitle(title: string, sender?: string): ParsedTitle {
  if (title.slice(0, PREFIX.length).toLowerCase() !== PREFIX) return { ignore: true };
  if (title.length > MAX_TITLE_LENGTH) {
    return { error: `lifecycle title too long (${title.length} characters, at most ${MAX_TITLE_LENGTH})` };
  }
  if (CONTROL.test(title)) return { error: `lifecycle title contains control characters: ${quote(title)}` };

  const rest = title.slice(PREFIX.length);
  const m = REQUESTING.exec(rest);
  if (!m) return { error: `lifecycle title has no "requesting <action>": ${quote(title)}` };

  const after = rest.slice(m.index + m[0].length).trim();
  // Only the first word counts; trailing words ("please", "(handoff)") are tolerated and ignored.
  const word = (after.split(/\s+/)[0] ?? "").replace(/[.!,;]+$/, "");
  if (word === "") return { error: `lifecycle title names no action after "requesting": ${quote(title)}` };
  // Own keys only: the title is outside data, and `constructor` or `__proto__` would find Object's.
  const action = Object.hasOwn(ACTIONS, word.toLowerCase()) ? ACTIONS[word.toLowerCase()] : undefined;
  if (!action) {
    return { error: `unknown lifecycle action ${quote(word)} (expected cycle, restart or shutdown)` };
  }

  let identity = rest.slice(0, m.index).trim();
  if (identity === "") {
    // Same fallback as the original: the title names nobody, so the sender is the agent.
    if (!sender) return { error: "lifecycle title names no agent and the message has no sender" };
    identity = sender;
  }
  const checked = validateIdentity(identity);
  if (!checked.ok) return { error: checked.error };
  return { identity: checked.identity, action };
}
