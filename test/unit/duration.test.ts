import { describe, expect, test } from "bun:test";
import { formatGoDuration, parseDuration } from "../../src/duration.ts";

describe("formatGoDuration (Go's time.Duration.String)", () => {
  test.each([
    [300_000, "5m0s"],
    [450_000, "7m30s"],
    [675_000, "11m15s"],
    [1_012_500, "16m52.5s"],
    [1_518_750, "25m18.75s"],
    [1_800_000, "30m0s"],
    [250, "250ms"],
    [3_600_000, "1h0m0s"],
    [1_500, "1.5s"],
    [0, "0s"],
    [1_000, "1s"],
    [5_400_000, "1h30m0s"],
    [337.5, "337.5ms"],
    [0.0015, "1.5µs"],
    [0.000001, "1ns"],
    [-1_500, "-1.5s"],
  ])("%p ms → %s", (ms, want) => {
    expect(formatGoDuration(ms)).toBe(want);
  });
});

describe("parseDuration", () => {
  test.each([
    ["250ms", 250],
    ["1h30m", 5_400_000],
    ["5m", 300_000],
    ["30s", 30_000],
    ["1.5s", 1_500],
    ["1h", 3_600_000],
    ["0s", 0],
  ])("%s → %p ms", (text, want) => {
    expect(parseDuration(text)).toBe(want);
  });

  test.each(["5", "abc", "-1s", "", "5 m", "m", "1.s"])("rejects %p", (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  test("round trips the backoff sequence through the Go format", () => {
    for (const ms of [300_000, 450_000, 675_000, 1_012_500, 1_518_750, 1_800_000]) {
      expect(parseDuration(formatGoDuration(ms))).toBe(ms);
    }
  });
});
