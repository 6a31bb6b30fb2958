import { describe, expect, test } from "bun:test";
import { Memory, MEMORY_CAP, rateKey } from "../../../src/core/decision.ts";

const MIN = 60_000;

describe("Memory.shouldSay", () => {
  test("once ever with the default window; again after a finite window; forget says again", () => {
    const m = new Memory();
    expect(m.shouldSay("a", 0)).toBe(true);
    expect(m.shouldSay("a", 10 * 24 * 60 * MIN)).toBe(false);
    expect(m.shouldSay("b", 0, 10 * MIN)).toBe(true);
    expect(m.shouldSay("b", 10 * MIN - 1, 10 * MIN)).toBe(false);
    expect(m.shouldSay("b", 10 * MIN, 10 * MIN)).toBe(true);
    m.forget("a");
    expect(m.shouldSay("a", 1)).toBe(true);
  });

  test("an error text that changes every time (a PID) does not grow the map forever", () => {
    const m = new Memory();
    for (let i = 0; i < 50_000; i++) m.shouldSay(`inbox:bd exited (pid ${i})`, i * 1000, 10 * MIN);
    expect(m.size).toBeLessThanOrEqual(MEMORY_CAP);
  });

  test("Infinity-window keys are bounded too, under a flood of distinct keys", () => {
    const m = new Memory();
    for (let i = 0; i < 10_000; i++) m.shouldSay(`skipped:line ${i}`, i);
    expect(m.size).toBeLessThanOrEqual(MEMORY_CAP);
  });

  test("over the cap, entries whose window has passed go first; a live rate limit and once-ever keys stay", () => {
    const m = new Memory();
    expect(m.shouldSay("forever", 0)).toBe(true);
    expect(m.shouldSay("limited", 0, 60 * MIN)).toBe(true);
    // Expired by the time the cap is crossed: their 1-minute windows passed.
    for (let i = 0; i < MEMORY_CAP - 2; i++) m.shouldSay(`noise ${i}`, 0, MIN);
    expect(m.size).toBe(MEMORY_CAP);
    m.shouldSay("trigger", 2 * MIN);
    expect(m.size).toBe(3);
    expect(m.shouldSay("forever", 2 * MIN)).toBe(false);
    expect(m.shouldSay("limited", 2 * MIN, 60 * MIN)).toBe(false);
  });

  test("when nothing has expired, the least recently said are dropped first", () => {
    const m = new Memory();
    m.shouldSay("old", 0);
    m.shouldSay("renewed", 0, MIN);
    for (let i = 0; i < MEMORY_CAP - 2; i++) m.shouldSay(`k${i}`, 1);
    m.shouldSay("renewed", MIN, MIN); // said again: now among the most recent
    m.shouldSay("one more", MIN); // crosses the cap
    expect(m.size).toBeLessThanOrEqual(MEMORY_CAP);
    expect(m.shouldSay("old", MIN)).toBe(true); // dropped, so said again
    expect(m.shouldSay("renewed", MIN, MIN)).toBe(false);
    expect(m.shouldSay(`k${MEMORY_CAP - 3}`, MIN)).toBe(false);
  });
});

describe("rateKey", () => {
  test("runs of digits become #: one key for one failure, whatever its numbers", () => {
    expect(rateKey("bd exited 1 (pid 4242) at 2026/11/25 12:09:13")).toBe("bd exited # (pid #) at #/#/# #:#:#");
    expect(rateKey("bd exited 1 (pid 17)")).toBe(rateKey("bd exited 2 (pid 99999)"));
    expect(rateKey("no digits here")).toBe("no digits here");
    expect(rateKey("")).toBe("");
  });
});
