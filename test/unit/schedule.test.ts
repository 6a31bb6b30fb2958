/**
 * The heartbeat Schedule (src/schedule.ts) on bun's fake timers: Date and setTimeout are both faked, so
 * croner's one-shot jobs fire as the test advances the clock, and nothing waits for real. A suspended
 * machine is the wall clock jumping (setSystemTime) while the timers' own clock stands still, as
 * setTimeout's monotonic clock does during a suspend.
 */
import { afterEach, describe, expect, jest, test } from "bun:test";
import { heartbeatIntervalMs, nextTickMs, parseHeartbeat, startSchedule } from "../../src/schedule.ts";

const S = 1000;
/** Not on a whole second, so a schedule that rounds to seconds would show. */
const T0 = Date.parse("2030-01-01T00:02:10.300Z");

afterEach(() => {
  jest.useRealTimers();
});

/** A schedule on fake time from T0, recording each tick's time and the next run it reports then. */
function started(spec: string, onTick: () => void = () => {}) {
  jest.useFakeTimers({ now: T0 });
  const ticks: Array<{ atMs: number; nextMs: number | null }> = [];
  const schedule = startSchedule(spec, () => {
    ticks.push({ atMs: Date.now(), nextMs: schedule.nextRunMs() });
    onTick();
  });
  return { schedule, ticks, at: () => ticks.map((t) => t.atMs - T0) };
}

describe("nextTickMs: the grid origin + k·every", () => {
  test("the first tick after a time, never the time itself; a long gap skips to the next grid point", () => {
    expect(nextTickMs(T0, 5 * S, T0)).toBe(T0 + 5 * S);
    expect(nextTickMs(T0, 5 * S, T0 + 4999)).toBe(T0 + 5 * S);
    expect(nextTickMs(T0, 5 * S, T0 + 5 * S)).toBe(T0 + 10 * S);
    expect(nextTickMs(T0, 5 * S, T0 + 3_600_000 + 1)).toBe(T0 + 3_605_000);
    // A clock set back before the start: one interval from the start, not a tick in the past.
    expect(nextTickMs(T0, 5 * S, T0 - 60 * S)).toBe(T0 + 5 * S);
  });
});

describe("parseHeartbeat: what the config accepts and the Schedule runs", () => {
  test.each([
    ["5m", { kind: "every", everyMs: 300_000 }],
    ["1s", { kind: "every", everyMs: 1000 }],
    ["*/5 * * * *", { kind: "cron", pattern: "*/5 * * * *" }],
    ["*/10 * * * * *", { kind: "cron", pattern: "*/10 * * * * *" }],
  ])("%j is accepted", (spec, rule) => {
    expect(parseHeartbeat(spec)).toEqual(rule as never);
  });

  test.each(["0s", "61 * * * *", "* * * * * * *", "@daily", "* * *", "0 0 30 2 *", "soon"])("%j is refused", (spec) => {
    expect(parseHeartbeat(spec)).toBeNull();
  });

  test("heartbeatIntervalMs: the duration, or the gap between a pattern's next two runs", () => {
    expect(heartbeatIntervalMs("90s")).toBe(90_000);
    expect(heartbeatIntervalMs("*/2 * * * *")).toBe(120_000);
    expect(heartbeatIntervalMs("*/15 * * * * *")).toBe(15_000);
  });
});

describe("Schedule", () => {
  test("a duration ticks every N counted from the start, to the millisecond", () => {
    const { schedule, at } = started("5s");
    expect(schedule.describe()).toBe("every 5s");
    expect(schedule.nextRunMs()).toBe(T0 + 5 * S);
    jest.advanceTimersByTime(4999);
    expect(at()).toEqual([]);
    jest.advanceTimersByTime(16_001);
    expect(at()).toEqual([5 * S, 10 * S, 15 * S, 20 * S]);
    schedule.stop();
  });

  test("a duration over 30s that is not a multiple of 30s keeps its interval (croner's `interval` would run 45s every 60s)", () => {
    const { schedule, at } = started("45s");
    jest.advanceTimersByTime(140 * S);
    expect(at()).toEqual([45 * S, 90 * S, 135 * S]);
    schedule.stop();
  });

  test("during a tick, nextRunMs is the next tick, not the one running (what status shows as Next heartbeat)", () => {
    const { schedule, ticks } = started("5s");
    jest.advanceTimersByTime(15 * S);
    expect(ticks.map((t) => [t.atMs - T0, (t.nextMs ?? 0) - T0])).toEqual([
      [5 * S, 10 * S],
      [10 * S, 15 * S],
      [15 * S, 20 * S],
    ]);
    schedule.stop();
  });

  test("nextRunMs is after now and within one interval, at any moment", () => {
    const { schedule } = started("7s");
    for (const stepMs of [1, 999, 3000, 2999, 1, 6999, 7000, 12_345]) {
      jest.advanceTimersByTime(stepMs);
      const next = schedule.nextRunMs()!;
      expect(next).toBeGreaterThan(Date.now());
      expect(next - Date.now()).toBeLessThanOrEqual(7 * S);
      expect((next - T0) % (7 * S)).toBe(0);
    }
    schedule.stop();
  });

  test("a cron pattern ticks on its own times (croner's next run), not counted from the start", () => {
    const { schedule, at } = started("0 */5 * * * *");
    expect(schedule.describe()).toBe('on cron "0 */5 * * * *"');
    // T0 is 00:02:10.3; the pattern's times are 00:05:00, 00:10:00, ...
    const first = Date.parse("2030-01-01T00:05:00Z") - T0;
    expect(schedule.nextRunMs()).toBe(T0 + first);
    jest.advanceTimersByTime(first + 10 * 60 * S);
    expect(at()).toEqual([first, first + 5 * 60 * S, first + 10 * 60 * S]);
    expect(schedule.nextRunMs()).toBe(T0 + first + 15 * 60 * S);
    schedule.stop();
  });

  test("ticks missed during a suspend are skipped: one tick on waking, then the grid again, no burst", () => {
    const { schedule, at } = started("5s");
    jest.advanceTimersByTime(6 * S);
    expect(at()).toEqual([5 * S]);
    // An hour asleep: the wall clock moves on, the pending timer does not.
    jest.setSystemTime(Date.now() + 3_600_000);
    const woke = Date.now() - T0;
    // croner re-reads the clock at least every 30 s, so the overdue tick comes within 30 s of waking:
    // one tick, not the 720 the hour held.
    jest.advanceTimersByTime(30 * S);
    const late = at().slice(1);
    expect(late.length).toBeGreaterThanOrEqual(1);
    expect(late[0]!).toBeGreaterThanOrEqual(woke);
    expect(late[0]!).toBeLessThanOrEqual(woke + 30 * S);
    expect(late.length).toBeLessThanOrEqual(1 + 30 / 5);
    // From then on: every tick on the start's grid, one interval apart, and the schedule still alive.
    jest.advanceTimersByTime(20 * S);
    const after = at().slice(1);
    expect(after.length - late.length).toBe(4);
    expect(after[1]! - after[0]!).toBeLessThanOrEqual(5 * S);
    for (const t of after.slice(1)) expect(t % (5 * S)).toBe(0);
    for (let i = 2; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBe(5 * S);
    schedule.stop();
  });

  test("stop(): no more ticks, no timer left, no next run", () => {
    const { schedule, at } = started("1s");
    jest.advanceTimersByTime(2500);
    expect(at()).toEqual([1 * S, 2 * S]);
    schedule.stop();
    expect(schedule.nextRunMs()).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(10 * S);
    expect(at()).toEqual([1 * S, 2 * S]);
  });

  test("stop() from inside a tick stops the schedule (the daemon stepping down mid-pass)", () => {
    let stop = () => {};
    const { schedule, at } = started("1s", () => stop());
    stop = () => schedule.stop();
    jest.advanceTimersByTime(5 * S);
    expect(at()).toEqual([1 * S]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test("a tick that throws does not stop the schedule", () => {
    const { schedule, at } = started("1s", () => {
      throw new Error("boom");
    });
    jest.advanceTimersByTime(3 * S);
    expect(at()).toEqual([1 * S, 2 * S, 3 * S]);
    schedule.stop();
  });
});
