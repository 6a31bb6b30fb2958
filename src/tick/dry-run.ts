/**
 * Ports for `--dry-run`: reads pass through, every write is refused. Steps already decide without
 * acting under ctx.dryRun; this makes "changes nothing" hold even where a step forgets.
 */
import { GtdError } from "../errors.ts";
import type { Ports } from "../ports.ts";

const refuse = (what: string) => async (): Promise<never> => {
  throw new GtdError("INTERNAL", `dry run: refused to ${what}`);
};

export function readOnlyPorts(p: Ports): Ports {
  return {
    ...p,
    tmux: {
      sessions: () => p.tmux.sessions(),
      hasSession: (n) => p.tmux.hasSession(n),
      newSession: refuse("create a tmux session"),
      killSession: refuse("kill a tmux session"),
      poke: refuse("type into a tmux session"),
      sendLine: refuse("type into a tmux session"),
    },
    mailbox: {
      inbox: (s) => p.mailbox.inbox(s),
      close: refuse("close a message"),
      send: refuse("send mail"),
    },
    run: refuse("run a command"),
  };
}
