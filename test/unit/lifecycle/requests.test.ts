import { describe, expect, test } from "bun:test";
import { formatGoTime } from "../../../src/gotime.ts";
import {
  judgeRequest,
  ledgerToJson,
  loadLedger,
  pruneAfterMs,
  pruneLedger,
  requestAgeMs,
  touchEntry,
  type RequestEntry,
} from "../../../src/lifecycle/requests.ts";

const T0 = Date.UTC(2025, 11, 20, 18, 0, 0);
const H = 3_600_000;
const entry = (over: Partial<RequestEntry> = {}): RequestEntry => ({
  attempts: 0,
  firstSeenMs: T0,
  lastSeenMs: T0,
  lastError: null,
  done: false,
  ...over,
});

describe("loadLedger / ledgerToJson", () => {
  test("round trip keeps every field", () => {
    const m = new Map([
      ["gt-1", entry({ attempts: 2, lastSeenMs: T0 + 1500, lastError: "state verification failed: x" })],
      ["gt-2", entry({ done: true })],
    ]);
    const json = JSON.parse(JSON.stringify(ledgerToJson(m)));
    expect(json["gt-1"]).toEqual({
      attempts: 2,
      first_seen: formatGoTime(T0),
      last_seen: formatGoTime(T0 + 1500),
      last_error: "state verification failed: x",
      done: false,
    });
    const back = loadLedger(json);
    expect(back.dropped).toEqual([]);
    expect(back.entries).toEqual(m);
  });

  test("missing or null means empty, silently", () => {
    expect(loadLedger(undefined)).toEqual({ entries: new Map(), dropped: [] });
    expect(loadLedger(null)).toEqual({ entries: new Map(), dropped: [] });
  });

  test.each([[[]], ["x"], [3]])("a non-object value %p is dropped whole with a reason", (raw) => {
    const r = loadLedger(raw);
    expect(r.entries.size).toBe(0);
    expect(r.dropped).toEqual(["requests: expected an object keyed by message id"]);
  });

  test("corrupt entries are dropped one by one; good ones are kept", () => {
    const good = { attempts: 1, first_seen: formatGoTime(T0) };
    const r = loadLedger({
      ok: good,
      neg: { attempts: -1, first_seen: formatGoTime(T0) },
      frac: { attempts: 1.5, first_seen: formatGoTime(T0) },
      time: { attempts: 1, first_seen: "yesterday" },
      zero: { attempts: 1, first_seen: "0001-01-01T00:00:00Z" },
      str: "x",
      "-rf": good,
      "a b": good,
    });
    expect([...r.entries.keys()]).toEqual(["ok"]);
    // last_seen defaults to first_seen, last_error to null, done to false.
    expect(r.entries.get("ok")).toEqual(entry({ attempts: 1 }));
    expect(r.dropped).toHaveLength(7);
    expect(r.dropped.find((l) => l.startsWith("neg: "))).toMatch(/^neg: attempts: /);
    expect(r.dropped.find((l) => l.startsWith("time: "))).toMatch(/^time: first_seen: /);
    expect(r.dropped.find((l) => l.includes("-rf"))).toContain("must not start with -");
  });
});

describe("touchEntry", () => {
  test("creates on first sight and stamps last seen", () => {
    const m = new Map<string, RequestEntry>();
    const e = touchEntry(m, "a", T0);
    expect(e).toEqual(entry());
    e.attempts = 2;
    expect(touchEntry(m, "a", T0 + 5000)).toEqual(entry({ attempts: 2, lastSeenMs: T0 + 5000 }));
  });
});

describe("pruneLedger", () => {
  test("drops only entries out of the inbox for at least keepMs", () => {
    const m = new Map([
      ["in-inbox-old", entry()],
      ["gone-old", entry()],
      ["gone-recent", entry({ lastSeenMs: T0 + 5 * H })],
    ]);
    const dropped = pruneLedger(m, new Set(["in-inbox-old"]), T0 + 6 * H, 6 * H);
    expect(dropped).toEqual(["gone-old"]);
    expect([...m.keys()]).toEqual(["in-inbox-old", "gone-recent"]);
  });

  test("entries are kept at least an hour, however small maxAge is", () => {
    expect(pruneAfterMs(1000)).toBe(H);
    expect(pruneAfterMs(6 * H)).toBe(6 * H);
  });
});

describe("age and verdict", () => {
  const limits = { maxAttempts: 3, maxAgeMs: 6 * H };

  test("age from created_at when valid, else first seen; a future created_at does not help", () => {
    const e = entry({ firstSeenMs: T0 + H });
    expect(requestAgeMs(e, formatGoTime(T0), T0 + 2 * H)).toBe(2 * H);
    expect(requestAgeMs(e, undefined, T0 + 2 * H)).toBe(H);
    expect(requestAgeMs(e, "garbage", T0 + 2 * H)).toBe(H);
    expect(requestAgeMs(e, formatGoTime(T0 + 100 * H), T0 + 2 * H)).toBe(H);
    expect(requestAgeMs(e, undefined, T0)).toBe(0);
  });

  test("done → reclose, before anything else", () => {
    expect(judgeRequest(entry({ done: true, attempts: 9 }), formatGoTime(T0 - 100 * H), T0, limits)).toEqual({ kind: "reclose" });
  });

  test("older than maxAge → expired", () => {
    expect(judgeRequest(entry(), formatGoTime(T0 - 7 * H), T0, limits)).toEqual({ kind: "expired", ageMs: 7 * H });
    expect(judgeRequest(entry(), formatGoTime(T0 - 6 * H), T0, limits)).toEqual({ kind: "execute" });
  });

  test("attempts used up → give up; otherwise execute", () => {
    expect(judgeRequest(entry({ attempts: 3 }), undefined, T0, limits)).toEqual({ kind: "give-up" });
    expect(judgeRequest(entry({ attempts: 2 }), undefined, T0, limits)).toEqual({ kind: "execute" });
  });
});
