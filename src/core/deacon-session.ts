/**
 * What the Deacon's tmux session looks like when gtd creates it: the original's respawn loop as the pane's
 * initial process (no typed keys that a slow shell could lose, §12 defect 7), GT_ROLE in the agent's own
 * environment, and the theme `gt deacon start` applies (reference §5.1; the original daemon applied none).
 */
import { DEACON_THEME } from "./identity.ts";
import type { NewSessionSpec } from "./ports.ts";

/**
 * The original's loop, with `"$@"` in place of the command: the command arrives as separate argv words,
 * so nothing from the config is ever parsed by a shell.
 */
export const DEACON_LOOP =
  'while true; do echo "⛪ Starting Deacon session..."; "$@"; echo ""; echo "Deacon exited. Restarting in 2s... (Ctrl-C to stop)"; sleep 2; done';

/** $0 of the loop shell: what `ps` shows for it. */
export const DEACON_LOOP_NAME = "gtd-deacon";

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

export function deaconSessionSpec(session: string, townRoot: string, command: string[]): NewSessionSpec {
  return {
    name: session,
    cwd: townRoot,
    // GT_IDENTITY empty: the tmux server's environment may carry another agent's (whoever started it),
    // and `gtd request` inside the Deacon must not act as that agent. GT_TOWN_ROOT: this town, always.
    env: { GT_ROLE: "deacon", GT_IDENTITY: "", GT_TOWN_ROOT: townRoot },
    argv: ["bash", "-c", DEACON_LOOP, DEACON_LOOP_NAME, ...command],
    options: deaconSessionOptions(session),
  };
}

