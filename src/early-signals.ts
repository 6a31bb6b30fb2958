/**
 * Signals that reach the daemon before it is ready. main.ts imports this module first, so in the daemon
 * process (`gtd start --foreground`, which is also how `gtd start` launches its detached child) handlers
 * are in place before anything else loads: a SIGTERM or SIGUSR1 during start-up is remembered, never the
 * default action that kills the process. runDaemon takes the handlers over once it is set up and acts on
 * what was remembered (a stop is honoured, a reload is done, a SIGUSR1 is answered by the first
 * heartbeat). Every other command keeps the default signal behaviour (Ctrl-C ends `gtd logs -f`).
 * What remains is the window before any of gtd's code runs (the runtime starting), which no handler covers.
 */
export const DAEMON_SIGNALS = ["SIGTERM", "SIGINT", "SIGUSR1", "SIGHUP"] as const;
export type DaemonSignal = (typeof DAEMON_SIGNALS)[number];

let installed = false;
let handler: ((sig: DaemonSignal) => void) | null = null;
/** Distinct signals seen before the take-over, in order of first arrival (a burst of one kind is one). */
const remembered = new Set<DaemonSignal>();

/** `start --foreground` exactly (argv after the program), up to a `--`: the daemon, and nothing else. */
export function isDaemonArgv(argv: readonly string[]): boolean {
  if (argv[0] !== "start") return false;
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--foreground");
}

/** Install the remembering handlers (once; later calls do nothing). */
export function installEarlySignals(): void {
  if (installed) return;
  installed = true;
  for (const sig of DAEMON_SIGNALS) {
    process.on(sig, () => {
      if (handler) handler(sig);
      else remembered.add(sig);
    });
  }
}

/** From now on signals go to `h`; returns what arrived before, in order of first arrival. */
export function takeOverSignals(h: (sig: DaemonSignal) => void): DaemonSignal[] {
  installEarlySignals();
  handler = h;
  const early = [...remembered];
  remembered.clear();
  return early;
}

if (isDaemonArgv(process.argv.slice(2))) installEarlySignals();
