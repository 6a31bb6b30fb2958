/**
 * The heartbeat clock, at the edge: a duration runs on a drift-free timer aligned to the start; a cron
 * pattern runs on croner (with `protect`, though the PassQueue is what really prevents overlap, since
 * croner's trigger() bypasses protect).
 */
import { formatGoDuration, parseDuration } from "../duration.ts";

export interface Schedule {
  /** Epoch ms of the next tick, for `status`. */
  nextRunMs(): number | null;
  stop(): void;
  describe(): string;
}

export async function startSchedule(spec: string, onTick: () => void): Promise<Schedule> {
  const everyMs = parseDuration(spec);
  if (everyMs !== null) return intervalSchedule(everyMs, onTick);
  const { Cron } = await import("croner");
  const job = new Cron(spec, { protect: true, catch: true }, () => onTick());
  return {
    nextRunMs: () => job.nextRun()?.getTime() ?? null,
    stop: () => job.stop(),
    describe: () => `on cron "${spec}"`,
  };
}

function intervalSchedule(everyMs: number, onTick: () => void): Schedule {
  const origin = Date.now();
  let next = origin + everyMs;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const arm = () => {
    timer = setTimeout(fire, Math.max(0, next - Date.now()));
  };
  const fire = () => {
    onTick();
    // Skip ticks that were missed (a suspended laptop) instead of firing them all at once.
    const now = Date.now();
    next += everyMs;
    if (next <= now) next = now + everyMs - ((now - origin) % everyMs);
    arm();
  };
  arm();
  return {
    nextRunMs: () => next,
    stop: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    describe: () => `every ${formatGoDuration(everyMs)}`,
  };
}

/** True if croner accepts the pattern; used to validate config with the real parser. */
export async function cronValidator(): Promise<(pattern: string) => boolean> {
  const { Cron } = await import("croner");
  return (pattern) => {
    try {
      new Cron(pattern, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  };
}

/** The gap between heartbeats: the duration itself, or for a cron pattern the gap between its next two runs. */
export async function heartbeatIntervalMs(spec: string): Promise<number> {
  const everyMs = parseDuration(spec);
  if (everyMs !== null) return everyMs;
  const { Cron } = await import("croner");
  const job = new Cron(spec, { paused: true });
  const [a, b] = job.nextRuns(2);
  job.stop();
  return a && b ? b.getTime() - a.getTime() : 60_000;
}
