/** The real ports, built from the config: what the daemon and `gtd tick` run the core against. */
import type { Config } from "../config/index.ts";
import { createMailbox } from "../lifecycle/mailbox.ts";
import { abortableSleep, systemClock, type Log, type Ports } from "../ports.ts";
import { runCommand } from "../proc.ts";
import { createProcessPort } from "../proc-tree.ts";
import { createTmux } from "../tmux.ts";
import { townStore } from "../tick/town-store.ts";
import type { TownPaths } from "../town.ts";

/** `exclusive`: the daemon's lock check (see Ports.exclusive); left out, the port is absent. */
export function buildPorts(config: Config, paths: TownPaths, log: Log, exclusive?: () => boolean): Ports {
  return {
    ...(exclusive ? { exclusive } : {}),
    clock: systemClock,
    sleep: abortableSleep,
    tmux: createTmux({ socket: config.tmux.socket, timeoutMs: config.timeouts.tmuxMs }),
    mailbox: createMailbox({
      inbox: config.mailbox.inbox,
      close: config.mailbox.close,
      send: config.mailbox.send,
      cwd: paths.root,
      timeoutMs: config.timeouts.mailboxMs,
      run: runCommand,
    }),
    store: townStore(paths),
    procs: createProcessPort(),
    run: runCommand,
    log,
  };
}
