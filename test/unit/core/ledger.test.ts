import { describe, expect, test } from "bun:test";
import { formatGoTime } from "../../../src/gotime.ts";
import {
  clipError,
  judgeRequest,
  LAST_ERROR_MAX_CHARS,
  LEDGER_CAP,
  ledgerToJson,
  loadLedger,
  makeRoom,
  pickRequests,
  pruneAfterMs,
  pruneLedger,
  requestAgeMs,
  touchEntry,
  type RequestEntry,
} from "../../../src/core/ledger.ts";

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

describe("hostile ids", () => {
  const ids = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

  test("ids named like Object's own properties are ordinary keys, through JSON text and back", () => {
    const m = new Map(ids.map((id, i) => [id, entry({ attempts: i })] as const));
    const text = JSON.stringify(ledgerToJson(m));
    expect(Object.keys(JSON.parse(text))).toEqual(ids);
    const back = loadLedger(JSON.parse(text));
    expect(back.dropped).toEqual([]);
    expect(back.entries).toEqual(m);
    // And from the in-memory value the step keeps in state.extra between passes.
    expect(loadLedger(ledgerToJson(m)).entries).toEqual(m);
  });

  test("a plain object's prototype is never taken for an entry", () => {
    expect(loadLedger({}).entries.size).toBe(0);
    expect(loadLedger(JSON.parse('{"__proto__": {"attempts": 1, "first_seen": "x"}}')).dropped[0]).toMatch(/^__proto__: first_seen: /);
  });
});

describe("last_error is clipped", () => {
  test("to LAST_ERROR_MAX_CHARS, with the cut marked", () => {
    expect(clipError("short")).toBe("short");
    const long = "e".repeat(10_000);
    expect(clipError(long)).toHaveLength(LAST_ERROR_MAX_CHARS);
    expect(clipError(long).endsWith("…")).toBe(true);
    expect(clipError("x".repeat(LAST_ERROR_MAX_CHARS))).toBe("x".repeat(LAST_ERROR_MAX_CHARS));
  });

  test("also when read from a hand-edited file", () => {
    const r = loadLedger({ a: { attempts: 1, first_seen: formatGoTime(T0), last_error: "x".repeat(1_000_000) } });
    expect(r.entries.get("a")?.lastError).toHaveLength(LAST_ERROR_MAX_CHARS);
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

  test("moves the entry last, so the ledger (and its JSON) is least recently handled first", () => {
    const m = new Map([["a", entry()], ["b", entry()], ["c", entry()]]);
    touchEntry(m, "a", T0 + 1);
    touchEntry(m, "new", T0 + 2);
    expect([...m.keys()]).toEqual(["b", "c", "a", "new"]);
    expect([...loadLedger(JSON.parse(JSON.stringify(ledgerToJson(m)))).entries.keys()]).toEqual(["b", "c", "a", "new"]);
  });
});

describe("makeRoom (the cap)", () => {
  test("under the cap nothing is pruned", () => {
    const m = new Map([["a", entry({ done: true })]]);
    expect(makeRoom(m, new Set(), 3, 5)).toBe(4);
    expect([...m.keys()]).toEqual(["a"]);
  });

  test("done entries whose message is gone go first, oldest first; then unfinished gone ones; never one in the inbox", () => {
    const m = new Map([
      ["open-done", entry({ done: true, lastSeenMs: T0 - 9 * H })], // its close is still owed
      ["open-busy", entry({ attempts: 2, lastSeenMs: T0 - 9 * H })], // in progress
      ["gone-busy-old", entry({ attempts: 1, lastSeenMs: T0 - 8 * H })],
      ["gone-done-new", entry({ done: true, lastSeenMs: T0 - 1 * H })],
      ["gone-done-old", entry({ done: true, lastSeenMs: T0 - 2 * H })],
      ["gone-busy-new", entry({ attempts: 1, lastSeenMs: T0 - 1 * H })],
    ]);
    const inbox = new Set(["open-done", "open-busy"]);
    const order = () => [...m.keys()];
    expect(makeRoom(m, inbox, 1, 6)).toBe(1);
    expect(order()).not.toContain("gone-done-old");
    expect(makeRoom(m, inbox, 2, 6)).toBe(2);
    expect(order()).not.toContain("gone-done-new");
    expect(makeRoom(m, inbox, 3, 6)).toBe(3);
    expect(order()).toEqual(["open-done", "open-busy", "gone-busy-new"]);
    // Asking for more than can be freed: only what is not in the inbox gives way.
    expect(makeRoom(m, inbox, 10, 6)).toBe(4);
    expect(order()).toEqual(["open-done", "open-busy"]);
    // Over the cap with nothing prunable: no room, nothing lost.
    expect(makeRoom(m, inbox, 1, 1)).toBe(0);
    expect(order()).toEqual(["open-done", "open-busy"]);
  });

  test("the default cap", () => {
    const m = new Map(Array.from({ length: LEDGER_CAP + 5 }, (_, i) => [`g${i}`, entry({ done: true, lastSeenMs: T0 + i })] as const));
    expect(makeRoom(m, new Set(), 0)).toBe(0);
    expect(m.size).toBe(LEDGER_CAP);
    expect(m.has("g0")).toBe(false);
    expect(m.has(`g${LEDGER_CAP + 4}`)).toBe(true);
  });
});

describe("pickRequests (the per-pass bound)", () => {
  const known = (...ids: string[]) => new Map(ids.map((id) => [id, entry()] as const));

  test("everything when under the limit", () => {
    expect(pickRequests(["a", "b"], known("b"), 5, 10)).toEqual({ ids: new Set(["a", "b"]), waiting: 0, ledgerFull: false });
  });

  test("new requests first (inbox order), then known ones in ledger order; the rest wait", () => {
    const ledger = known("k2", "k1", "k3");
    const p = pickRequests(["k1", "n1", "k2", "n2", "k3"], ledger, 3, 10);
    expect([...p.ids]).toEqual(["n1", "n2", "k2"]);
    expect(p).toMatchObject({ waiting: 2, ledgerFull: false });
  });

  test("new requests beyond the ledger's room wait; known ones take their turns", () => {
    const p = pickRequests(["n1", "n2", "n3", "k1"], known("k1"), 3, 1);
    expect([...p.ids]).toEqual(["n1", "k1"]);
    expect(p).toMatchObject({ waiting: 2, ledgerFull: true });
    // Room for as many as the limit takes: the ledger is not what holds them back.
    expect(pickRequests(["n1", "n2", "n3", "k1"], known("k1"), 1, 1)).toMatchObject({ waiting: 3, ledgerFull: false });
  });
});
