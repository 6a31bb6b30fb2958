/**
 * The Deacon's tmux theme, as `gt deacon start` applies it (reference §5.1; the original daemon applied
 * none). Its session (supervise-set.ts) runs the supervised loop as the pane's initial process (no typed
 * keys that a slow shell could lose, §12 defect 7), with GT_ROLE in the agent's own environment.
 */
import { DEACON_THEME } from "./identity.ts";

/** A session name that is safe inside tmux's `#(…)`, which a shell runs (the identity rules). */
const SAFE_SESSION = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

export function deaconSessionOptions(session: string): Array<[string, string]> {
  // A configured name outside the safe set would be shell text in status-right: show only the clock then.
  const statusRight = SAFE_SESSION.test(session) ? `#(gt status-line --session=${session} 2>/dev/null) %H:%M` : "%H:%M";
  return [
    ["status-style", `bg=${DEACON_THEME.bg},fg=${DEACON_THEME.fg}`],
    ["status-left-length", "40"],
    ["status-left", "[Deacon] health-check "],
    ["status-right-length", "50"],
    ["status-interval", "5"],
    ["status-right", statusRight],
  ];
}
