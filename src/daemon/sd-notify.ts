/**
 * systemd's notify protocol (sd_notify(3)), for `Type=notify` units: READY=1 once the daemon holds the
 * lock and has finished its first heartbeat, STATUS= after each heartbeat, RELOADING=1/READY=1 around a
 * SIGHUP, STOPPING=1 at shutdown, and WATCHDOG=1 while the loop is making progress. Without
 * NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
import { datagramSender, type DatagramSender } from "./unix-datagram.ts";

export interface Notifier {
  ready(status: string): void;
  status(status: string): void;
  reloading(monotonicUsec: bigint): void;
  stopping(): void;
  /** The watchdog interval systemd asked for (WATCHDOG_USEC, for this PID), in ms; null when none. */
  readonly watchdogMs: number | null;
  watchdog(): void;
  close(): void;
}

/** STATUS= is one line of text: newlines would end the assignment early. */
function line(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 400);
}

export function createNotifier(env: Record<string, string | undefined>, pid: number): Notifier {
  const path = env.NOTIFY_SOCKET;
  const sender: DatagramSender | null = path ? datagramSender(path) : null;
  const send = (text: string) => {
    try {
      sender?.send(text);
    } catch {
      // systemd gone or the socket refused: nothing gtd can do, and nothing to stop for.
    }
  };
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const watchdogMs = sender && forUs && Number.isFinite(usec) && usec > 0 ? usec / 1000 : null;
  return {
    ready: (status) => send(`READY=1\nSTATUS=${line(status)}`),
    status: (status) => send(`STATUS=${line(status)}`),
    reloading: (monotonicUsec) => send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec}`),
    stopping: () => send("STOPPING=1"),
    watchdogMs,
    watchdog: () => send("WATCHDOG=1"),
    close: () => sender?.close(),
  };
}
