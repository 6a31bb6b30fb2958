/**
 * The heartbeat clock: croner drives every heartbeat, durations included. A Schedule follows one rule
 * (when is the heartbeat after time t due?) and waits for each time with a one-shot croner job; when it
 * fires, the next is armed from the clock, so ticks missed while the machine slept are skipped, not
 * fired in a burst. A duration counts from the start (the daemon's first heartbeat): start + N, + 2N, …;
 * a cron pattern is croner's own.
 *
 * Why not one long-lived croner job with `interval` (croner 11.0.1, read in dist/croner.js): croner
 * re-arms at most 30 s ahead and, re-arming, counts the interval from that moment rather than from the
 * last run, so an interval over 30 s that is not a multiple of 30 s runs late (45 s runs every 60 s,
 * 100 s every 120 s); and with `startAt`, each re-arm walks every interval since the start (4 s per call
 * for a 1 s heartbeat after 30 days). A one-shot job per tick keeps croner's 30 s re-check (a laptop
 * waking from sleep gets its heartbeat within 30 s) without either problem.
 */
import { Cron, type CronOptions } from "croner";
import { formatGoDuration, parseDuration } from "./duration.ts";
import { GtdError } from "./errors.ts";
import { quote } from "./quote.ts";

/** A heartbeat spec as the Schedule runs it. */
export type HeartbeatRule = { kind: "every"; everyMs: number } | { kind: "cron"; pattern: string };

/** Both forms the config documents: 5 fields, or 6 with seconds first; croner's 7th (years) and nicknames are not. */
const CRON_OPTIONS = { mode: "5-or-6-parts" } as const satisfies CronOptions;

/**
 * `protect` as a second guard only: what keeps passes from overlapping is the PassQueue, which the
 * signals share (and croner's trigger() bypasses protect). `catch`: a throwing tick must not kill the timer.
 */
const JOB_OPTIONS = { protect: true, catch: true } as const satisfies CronOptions;

/** The rule for a duration or a cron pattern croner accepts and that ever runs; null otherwise. Bounds are the config's. */
export function parseHeartbeat(spec: string): HeartbeatRule | null {
  const everyMs = parseDuration(spec);
  if (everyMs !== null) return everyMs > 0 ? { kind: "every", everyMs } : null;
  const fields = spec.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return null;
  try {
    const job = new Cron(spec, { ...CRON_OPTIONS, paused: true });
    // A pattern that never matches (30 February) would leave the daemon with one heartbeat, ever.
    return job.nextRun() === null ? null : { kind: "cron", pattern: spec };
  } catch {
    return null;
  }
}

/**
 * The first tick after `afterMs` on the grid origin + k·every (k ≥ 1). A tick exactly at `afterMs` is not
 * after it: the tick that is firing asks for the next one.
 */
export function nextTickMs(originMs: number, everyMs: number, afterMs: number): number {
  const k = Math.max(1, Math.floor((afterMs - originMs) / everyMs) + 1);
  return originMs + k * everyMs;
}

/** When the heartbeat after `afterMs` is due, for a rule started at `originMs`; null if never again. */
function nextRunAfter(rule: HeartbeatRule, originMs: number): (afterMs: number) => number | null {
  if (rule.kind === "every") return (afterMs) => nextTickMs(originMs, rule.everyMs, afterMs);
  const pattern = new Cron(rule.pattern, { ...CRON_OPTIONS, paused: true });
  return (afterMs) => pattern.nextRun(new Date(afterMs))?.getTime() ?? null;
}

export class Schedule {
  private job: Cron | null = null;
  private atMs: number | null = null;
  private readonly next: (afterMs: number) => number | null;

  /** Starts at once: the first tick is the rule's first after now (run.ts runs the start's heartbeat itself). */
  constructor(
    private readonly rule: HeartbeatRule,
    private readonly onTick: () => void,
  ) {
    const nowMs = Date.now();
    this.next = nextRunAfter(rule, nowMs);
    this.arm(nowMs);
  }

  private arm(afterMs: number): void {
    const at = this.next(afterMs);
    this.atMs = at;
    this.job = at === null ? null : new Cron(new Date(at), JOB_OPTIONS, () => this.fire(at));
  }

  private fire(at: number): void {
    // The next tick is armed before this one runs, so the pass it starts sees the real next heartbeat.
    // From the clock, not from `at`: after a sleep the missed ticks are skipped.
    this.arm(Math.max(Date.now(), at));
    this.onTick();
  }

  /** Epoch ms of the next tick, for `status`; null once stopped (or for a pattern that runs no more). */
  nextRunMs(): number | null {
    return this.atMs;
  }

  stop(): void {
    this.job?.stop();
    this.job = null;
    this.atMs = null;
  }

  describe(): string {
    return this.rule.kind === "every" ? `every ${formatGoDuration(this.rule.everyMs)}` : `on cron "${this.rule.pattern}"`;
  }
}

/** The schedule for a spec the config has already accepted; a spec it would refuse is a bug here. */
export function startSchedule(spec: string, onTick: () => void): Schedule {
  const rule = parseHeartbeat(spec);
  if (!rule) throw new GtdError("INTERNAL", `heartbeat = ${quote(spec)} reached the schedule unchecked`, "the config should have refused it; please report this");
  return new Schedule(rule, onTick);
}

/** The gap between heartbeats: the duration itself, or for a cron pattern the gap between its next two runs. */
export function heartbeatIntervalMs(spec: string): number {
  const rule = parseHeartbeat(spec);
  if (rule?.kind === "every") return rule.everyMs;
  if (!rule) return 60_000;
  const [a, b] = new Cron(rule.pattern, { ...CRON_OPTIONS, paused: true }).nextRuns(2);
  // A pattern with a single run left has no gap; a minute is the shortest gap a 5-field pattern has.
  return a && b ? b.getTime() - a.getTime() : 60_000;
}
