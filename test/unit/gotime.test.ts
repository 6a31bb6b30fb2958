/**
 * Go's time formats. Every offset here is passed explicitly (minutes east of UTC), so the expected text
 * holds in any zone and no test changes the process's TZ. The default, the local offset at each instant,
 * is checked in a child process that runs in a real zone with DST.
 */
import { describe, expect, test } from "bun:test";
import { formatGoTime, formatLogStamp, GO_ZERO_TIME, localOffsetMin, parseGoTime } from "../../src/gotime.ts";
import { inZone } from "../helpers/zone.ts";

const STARTED = Date.UTC(2026, 10, 25, 12, 9, 13, 883);
const LAST = Date.UTC(2026, 10, 25, 12, 9, 14, 575);
/** New York's spring change, 2026-03-08: 01:59:59 EST (-05:00), and one second later 03:00:00 EDT (-04:00). */
const BEFORE_DST = Date.UTC(2026, 2, 8, 6, 59, 59);
const AFTER_DST = Date.UTC(2026, 2, 8, 7, 0, 0);
/** Its autumn change, 2026-11-01: 01:30 happens twice, at -04:00 and an hour later at -05:00. */
const FIRST_0130 = Date.UTC(2026, 10, 1, 5, 30, 0);
const SECOND_0130 = Date.UTC(2026, 10, 1, 6, 30, 0);
const EST = -300;
const EDT = -240;

describe("formatGoTime", () => {
  test("offset 0 gives Z; null is Go's zero time", () => {
    expect(formatGoTime(STARTED, 0)).toBe("2026-11-25T12:09:13.883Z");
    expect(formatGoTime(null)).toBe(GO_ZERO_TIME);
    expect(formatGoTime(null, 330)).toBe(GO_ZERO_TIME);
  });

  test("east of UTC: +05:30 and that zone's wall clock", () => {
    expect(formatGoTime(STARTED, 330)).toBe("2026-11-25T17:39:13.883+05:30");
    expect(parseGoTime(formatGoTime(STARTED, 330))).toBe(STARTED);
  });

  test("west of UTC: a negative offset, the date rolling back when the wall clock is before midnight", () => {
    expect(formatGoTime(STARTED, EST)).toBe("2026-11-25T07:09:13.883-05:00");
    expect(formatGoTime(Date.UTC(2026, 6, 1, 12, 0, 0), EDT)).toBe("2026-07-01T08:00:00-04:00");
    expect(formatGoTime(Date.UTC(2026, 0, 1, 2, 0, 0), EST)).toBe("2025-12-31T21:00:00-05:00");
  });

  test("half- and quarter-hour offsets", () => {
    expect(formatGoTime(STARTED, -210)).toBe("2026-11-25T08:39:13.883-03:30"); // St John's
    expect(formatGoTime(STARTED, 765)).toBe("2026-11-26T00:54:13.883+12:45"); // Chatham
  });

  test("across a DST change each instant carries its own offset: one second apart, an hour apart on the clock", () => {
    expect(formatGoTime(BEFORE_DST, EST)).toBe("2026-03-08T01:59:59-05:00");
    expect(formatGoTime(AFTER_DST, EDT)).toBe("2026-03-08T03:00:00-04:00");
    // Autumn: the same wall-clock time twice, told apart by the offset, each reading back to its instant.
    expect(formatGoTime(FIRST_0130, EDT)).toBe("2026-11-01T01:30:00-04:00");
    expect(formatGoTime(SECOND_0130, EST)).toBe("2026-11-01T01:30:00-05:00");
    expect(parseGoTime(formatGoTime(FIRST_0130, EDT))).toBe(FIRST_0130);
    expect(parseGoTime(formatGoTime(SECOND_0130, EST))).toBe(SECOND_0130);
  });

  test("trailing fraction zeros are trimmed as Go does, and whole seconds have no fraction", () => {
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 500), 0)).toBe("2026-01-02T03:04:05.5Z");
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 50), 0)).toBe("2026-01-02T03:04:05.05Z");
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 6), 0)).toBe("2026-01-02T03:04:06Z");
  });

  test("round trip across many instants and offsets", () => {
    for (const offsetMin of [0, 330, -210, 765, EST, EDT, 840, -720]) {
      for (const ms of [0, 1, 999, STARTED, LAST, Date.UTC(2024, 1, 29, 23, 59, 59, 999), BEFORE_DST, AFTER_DST]) {
        expect(parseGoTime(formatGoTime(ms, offsetMin))).toBe(ms);
      }
    }
  });

  test("without an offset: the local one at that very instant (what the daemon writes)", () => {
    for (const ms of [BEFORE_DST, AFTER_DST, FIRST_0130, SECOND_0130, STARTED, Date.UTC(2026, 6, 1)]) {
      expect(localOffsetMin(ms)).toBe(-new Date(ms).getTimezoneOffset());
      expect(formatGoTime(ms)).toBe(formatGoTime(ms, localOffsetMin(ms)));
      expect(formatLogStamp(ms)).toBe(formatLogStamp(ms, localOffsetMin(ms)));
    }
  });
});

describe("formatLogStamp", () => {
  test("YYYY/MM/DD HH:MM:SS at the given offset, padded", () => {
    expect(formatLogStamp(STARTED, 0)).toBe("2026/11/25 12:09:13");
    expect(formatLogStamp(STARTED, 330)).toBe("2026/11/25 17:39:13");
    expect(formatLogStamp(Date.UTC(2026, 0, 2, 3, 4, 5), 0)).toBe("2026/01/02 03:04:05");
    expect(formatLogStamp(BEFORE_DST, EST)).toBe("2026/03/08 01:59:59");
    expect(formatLogStamp(AFTER_DST, EDT)).toBe("2026/03/08 03:00:00");
  });

  test("without an offset: the local wall clock", () => {
    expect(formatLogStamp(new Date(2026, 0, 2, 3, 4, 5).getTime())).toBe("2026/01/02 03:04:05");
  });
});

test("in a real zone (America/New_York, in a child process) the default follows DST instant by instant, byte for byte as an explicit offset", () => {
  const instants = [BEFORE_DST, AFTER_DST, FIRST_0130, SECOND_0130];
  const out = JSON.parse(
    inZone("America/New_York", `const ms = ${JSON.stringify(instants)};\nconsole.log(JSON.stringify(ms.map((t) => [g.formatGoTime(t), g.formatLogStamp(t), l.rfc3339Local(t), l.logLine("x", t)])));`),
  ) as string[][];
  expect(out).toEqual([
    ["2026-03-08T01:59:59-05:00", "2026/03/08 01:59:59", "2026-03-08T01:59:59-05:00", "2026/03/08 01:59:59 x\n"],
    ["2026-03-08T03:00:00-04:00", "2026/03/08 03:00:00", "2026-03-08T03:00:00-04:00", "2026/03/08 03:00:00 x\n"],
    ["2026-11-01T01:30:00-04:00", "2026/11/01 01:30:00", "2026-11-01T01:30:00-04:00", "2026/11/01 01:30:00 x\n"],
    ["2026-11-01T01:30:00-05:00", "2026/11/01 01:30:00", "2026-11-01T01:30:00-05:00", "2026/11/01 01:30:00 x\n"],
  ]);
});
describe("parseGoTime", () => {
  test("Z and offsets give the same instant", () => {
    expect(parseGoTime("2026-11-25T12:09:13.883Z")).toBe(STARTED);
    expect(parseGoTime("2026-11-25T17:39:13.883+05:30")).toBe(STARTED);
    expect(parseGoTime("2026-11-25T07:09:13.883-05:00")).toBe(STARTED);
    expect(parseGoTime("2026-11-25T12:09:13.883+00:00")).toBe(STARTED);
  });

  test("9-digit fractions are truncated to ms, never rounded up", () => {
    expect(parseGoTime("2026-11-25T12:09:13.883947874Z")).toBe(STARTED);
    expect(parseGoTime("2026-11-25T12:09:13.999999999Z")).toBe(Date.UTC(2026, 10, 25, 12, 9, 13, 999));
    expect(parseGoTime("2026-11-25T12:09:13.5Z")).toBe(Date.UTC(2026, 10, 25, 12, 9, 13, 500));
    expect(parseGoTime("2026-11-25T12:09:13Z")).toBe(Date.UTC(2026, 10, 25, 12, 9, 13));
  });

  test("the zero time is null", () => {
    expect(parseGoTime(GO_ZERO_TIME)).toBeNull();
    expect(parseGoTime("0001-01-01T00:00:00.000000000Z")).toBeNull();
  });

  test("lowercase t and z are accepted", () => {
    expect(parseGoTime("2026-11-25t12:09:13.883z")).toBe(STARTED);
  });

  test.each([
    "garbage",
    "",
    "2025-12-20 10:00:00",
    "2026-11-25T12:09:13",
    "2026-11-25T12:09:13.Z",
    "2026-11-25T12:09:13.1234567890Z",
    "2026-11-25T12:09:13+0530",
    "2026-13-01T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:60:00Z",
    "2026-01-01T00:00:60Z",
    "2026-01-01T00:00:00+24:00",
  ])("garbage %j is undefined", (text) => {
    expect(parseGoTime(text)).toBeUndefined();
  });

  test("non-strings are undefined", () => {
    expect(parseGoTime(undefined)).toBeUndefined();
    expect(parseGoTime(null)).toBeUndefined();
    expect(parseGoTime(1_700_000_000_000)).toBeUndefined();
  });

  test("a leap day in a leap year is valid", () => {
    expect(parseGoTime("2028-02-29T00:00:00Z")).toBe(Date.UTC(2028, 1, 29));
  });
});
