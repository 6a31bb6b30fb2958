import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyAge, readFreshness } from "../../../src/agents/freshness.ts";

const T = { freshMs: 120_000, veryStaleMs: 300_000, futureSkewMs: 60_000 };
const NOW = Date.UTC(2025, 11, 20, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-fresh-"));
  file = join(dir, "heartbeat.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const at = (content: string) => {
  writeFileSync(file, content);
  return readFreshness(file, NOW, T);
};

describe("classifyAge", () => {
  test("boundaries", () => {
    expect(classifyAge(0, T)).toBe("fresh");
    expect(classifyAge(119_999, T)).toBe("fresh");
    expect(classifyAge(120_000, T)).toBe("stale");
    expect(classifyAge(299_999, T)).toBe("stale");
    expect(classifyAge(300_000, T)).toBe("very-stale");
    expect(classifyAge(-60_000, T)).toBe("fresh");
    expect(classifyAge(-60_001, T)).toBe("very-stale");
  });
});

describe("readFreshness", () => {
  test("100 s fresh, 140 s stale, 280 s stale, 320 s very stale", () => {
    const cases: Array<[number, string]> = [[100, "fresh"], [140, "stale"], [280, "stale"], [320, "very-stale"]];
    for (const [s, want] of cases) {
      const r = at(JSON.stringify({ timestamp: iso(NOW - s * 1000), cycle: 7 }));
      expect(r.freshness).toBe(want as never);
      expect(r.ageMs).toBe(s * 1000);
    }
    expect(at(JSON.stringify({ timestamp: iso(NOW - 100_000) })).reason).toBe("last seen 1m40s ago");
  });

  test("a small future skew is fresh; an hour ahead is very stale (defect 19)", () => {
    expect(at(JSON.stringify({ timestamp: iso(NOW + 30_000) }))).toMatchObject({ freshness: "fresh", ageMs: -30_000 });
    const r = at(JSON.stringify({ timestamp: iso(NOW + 3_600_000) }));
    expect(r).toMatchObject({ freshness: "very-stale", ageMs: -3_600_000 });
    expect(r.reason).toContain("1h0m0s in the future");
  });

  test("missing file", () => {
    const r = readFreshness(join(dir, "nope.json"), NOW, T);
    expect(r).toMatchObject({ freshness: "very-stale", ageMs: null });
    expect(r.reason).toContain("does not exist");
  });

  test("garbage, non-objects, no timestamp, null, non-RFC3339, zero time: very stale with a reason", () => {
    const bad: Array<[string, string]> = [
      ["garbage{", "invalid JSON"],
      ["", "invalid JSON"],
      ["[1,2]", "no timestamp"],
      ["null", "is invalid"],
      ['"2025-12-20T10:00:00Z"', "is invalid"],
      ['{"cycle":3}', "no timestamp"],
      ['{"timestamp":null}', "no timestamp"],
      ['{"timestamp":"2025-12-20 10:00:00"}', "not an RFC3339 time"],
      ['{"timestamp":1766224800}', "not an RFC3339 time"],
      ['{"timestamp":"0001-01-01T00:00:00Z"}', "zero time"],
    ];
    for (const [content, why] of bad) {
      const r = at(content);
      expect(r.freshness).toBe("very-stale");
      expect(r.ageMs).toBeNull();
      expect(r.reason).toContain(why);
    }
  });

  test("unreadable file is very stale, not thrown", () => {
    if (process.getuid?.() === 0) return; // root reads anything
    writeFileSync(file, JSON.stringify({ timestamp: iso(NOW) }));
    chmodSync(file, 0o000);
    expect(readFreshness(file, NOW, T)).toMatchObject({ freshness: "very-stale", ageMs: null });
  });

  test("nanosecond fractions and offsets, as Go writes them", () => {
    expect(at('{"timestamp":"2025-12-20T09:58:20.123456789Z"}')).toMatchObject({ freshness: "fresh", ageMs: 99_877 });
    expect(at('{"timestamp":"2025-12-20T15:28:20+05:30"}')).toMatchObject({ freshness: "fresh", ageMs: 100_000 });
    expect(at('{"timestamp":"2025-12-20T04:55:00.5-05:00"}')).toMatchObject({ freshness: "stale", ageMs: 299_500 });
  });
});
