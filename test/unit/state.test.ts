import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatGoTime } from "../../src/gotime.ts";
import { toJson as backoffToJson, type BackoffState } from "../../src/core/backoff.ts";
import { ledgerToJson, type RequestEntry } from "../../src/core/ledger.ts";
import { emptyState, readState, serializeState, writeState, type DaemonState } from "../../src/state.ts";
import { inZone } from "../helpers/zone.ts";

const FIXTURE = join(import.meta.dir, "..", "fixtures", "state", "original-state.json");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-state-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const STARTED = Date.UTC(2026, 10, 25, 12, 9, 13, 883);
const LAST = Date.UTC(2026, 10, 25, 12, 9, 14, 575);

/**
 * The original's file as gtd writes it here: fractions at ms precision, times in the local zone. The
 * original was written with TZ=UTC, so under UTC these are its exact bytes; elsewhere only the two times
 * differ, by the zone (formatGoTime's own tests pin each zone's form with an explicit offset).
 */
function fixtureAsWritten(): string {
  return readFileSync(FIXTURE, "utf8")
    .replace("2026-11-25T12:09:13.883947874Z", formatGoTime(STARTED))
    .replace("2026-11-25T12:09:14.575282255Z", formatGoTime(LAST));
}

function state(over: Partial<DaemonState> = {}): DaemonState {
  return { ...emptyState(), running: true, pid: 12393, startedAtMs: STARTED, lastHeartbeatMs: LAST, heartbeatCount: 1, ...over };
}

describe("byte compatibility with the original's state.json", () => {
  test("the fixture is the original's exact bytes", () => {
    const text = readFileSync(FIXTURE, "utf8");
    expect(text.startsWith('{\n  "running": true,\n')).toBe(true);
    expect(text.endsWith("\n}")).toBe(true);
  });

  test("reading the original's file gives its values, nanoseconds truncated to ms", () => {
    const path = join(dir, "state.json");
    copyFileSync(FIXTURE, path);
    const { state: s, problem, movedTo, notes } = readState(path, Date.now());
    expect(problem).toBeNull();
    expect(movedTo).toBeNull();
    expect(notes).toEqual([]);
    expect(s).toEqual({
      running: true,
      pid: 12393,
      startedAtMs: STARTED,
      lastHeartbeatMs: LAST,
      heartbeatCount: 1,
      backoff: undefined,
      requests: new Map(),
      supervise: new Map(),
      extra: {},
      keyOrder: [],
    });
    expect(existsSync(path)).toBe(true);
  });

  test("serializing the same values gives the same bytes, fractions at ms precision", () => {
    expect(serializeState(state())).toBe(fixtureAsWritten());
    expect(serializeState(state())).toBe(
      `{\n  "running": true,\n  "pid": 12393,\n  "started_at": "${formatGoTime(STARTED)}",\n` +
        `  "last_heartbeat": "${formatGoTime(LAST)}",\n  "heartbeat_count": 1\n}`,
    );
  });

  test("a read-then-write round trip keeps the original's layout", () => {
    const path = join(dir, "state.json");
    copyFileSync(FIXTURE, path);
    const { state: s } = readState(path, Date.now());
    writeState(path, s);
    const written = readFileSync(path, "utf8");
    expect(written).toBe(fixtureAsWritten());
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  test("times are written as Go writes them (trimmed fraction zeros, none for whole seconds)", () => {
    const [a, b] = [Date.UTC(2026, 0, 2, 3, 4, 5, 500), Date.UTC(2026, 0, 2, 3, 4, 6)];
    const text = serializeState(state({ startedAtMs: a, lastHeartbeatMs: b }));
    expect(text).toContain(`"started_at": "${formatGoTime(a)}"`);
    expect(text).toContain(`"last_heartbeat": "${formatGoTime(b)}"`);
    expect(formatGoTime(a)).toMatch(/T\d\d:\d\d:05\.5(Z|[+-]\d\d:\d\d)$/);
    expect(formatGoTime(b)).toMatch(/T\d\d:\d\d:06(Z|[+-]\d\d:\d\d)$/);
  });

  test("state.json written in another zone (Asia/Kolkata, in a child process) carries +05:30 and reads back to the same instants", () => {
    const path = join(dir, "state.json");
    const text = inZone("Asia/Kolkata", `process.stdout.write(s.serializeState({ ...s.emptyState(), running: true, pid: 12393, startedAtMs: ${STARTED}, lastHeartbeatMs: ${LAST}, heartbeatCount: 1 }));`);
    expect(text).toContain('"started_at": "2026-11-25T17:39:13.883+05:30"');
    writeFileSync(path, text);
    expect(readState(path, Date.now()).state).toEqual(state());
  });

  test("null times are Go's zero time, and running:false is written", () => {
    expect(serializeState(emptyState())).toBe(
      '{\n  "running": false,\n  "pid": 0,\n  "started_at": "0001-01-01T00:00:00Z",\n' +
        '  "last_heartbeat": "0001-01-01T00:00:00Z",\n  "heartbeat_count": 0\n}',
    );
  });

  test("the zero time reads back as null", () => {
    const path = join(dir, "state.json");
    writeState(path, state({ lastHeartbeatMs: null, heartbeatCount: 0 }));
    const { state: s } = readState(path, Date.now());
    expect(s.lastHeartbeatMs).toBeNull();
    expect(s.startedAtMs).toBe(STARTED);
  });
});

describe("extra keys", () => {
  test("kept after the original five, in order, and round-tripped", () => {
    const extra = { zeta: { deacon: { intervalMs: 450000 } }, alpha: {}, next_heartbeat: "2026-11-25T12:14:13Z" };
    const text = serializeState(state({ extra }));
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual(["running", "pid", "started_at", "last_heartbeat", "heartbeat_count", "zeta", "alpha", "next_heartbeat"]);
    expect(text).toEndWith('  "next_heartbeat": "2026-11-25T12:14:13Z"\n}');
    const path = join(dir, "state.json");
    writeState(path, state({ extra }));
    const back = readState(path, Date.now()).state;
    expect(back.extra).toEqual(extra);
    expect(Object.keys(back.extra)).toEqual(["zeta", "alpha", "next_heartbeat"]);
    expect(serializeState(back)).toBe(text);
  });

  test("an extra key named like an original one never duplicates or overrides it", () => {
    const text = serializeState(state({ extra: { pid: 999, running: false, heartbeat_count: 7, mine: 1 } }));
    expect(text.match(/"pid"/g)?.length).toBe(1);
    expect(text.match(/"running"/g)?.length).toBe(1);
    const parsed = JSON.parse(text);
    expect(parsed.pid).toBe(12393);
    expect(parsed.running).toBe(true);
    expect(parsed.heartbeat_count).toBe(1);
    expect(Object.keys(parsed)).toEqual(["running", "pid", "started_at", "last_heartbeat", "heartbeat_count", "mine"]);
  });

  test("a file from another writer with keys in another order is read, and rewritten in the original's order", () => {
    const path = join(dir, "state.json");
    writeFileSync(path, JSON.stringify({ extra_first: "x", heartbeat_count: 4, pid: 5, running: false }));
    const { state: s, problem } = readState(path, Date.now());
    expect(problem).toBeNull();
    expect(s).toEqual({ ...emptyState(), pid: 5, heartbeatCount: 4, extra: { extra_first: "x" }, keyOrder: ["extra_first"] });
    expect(Object.keys(JSON.parse(serializeState(s)))).toEqual([
      "running", "pid", "started_at", "last_heartbeat", "heartbeat_count", "extra_first",
    ]);
  });
});

describe("typed keys: the poke backoff and the request ledger", () => {
  const ENTRY: RequestEntry = { attempts: 1, firstSeenMs: STARTED, lastSeenMs: LAST, lastError: null, done: false };
  const POKED: BackoffState = { intervalMs: 450_000, lastPokeMs: LAST, misses: 1, lastActivityMs: null };
  const keysOf = (path: string) => Object.keys(JSON.parse(readFileSync(path, "utf8"))).slice(5);

  test("backoff and requests round-trip through the file in their original key positions, between other writers' keys", () => {
    const path = join(dir, "state.json");
    const file: Record<string, unknown> = JSON.parse(serializeState(state()));
    Object.assign(file, {
      alpha: 1,
      requests: ledgerToJson(new Map([["gt-a1", ENTRY]])),
      zeta: { z: true },
      backoff: backoffToJson(new Map([["deacon", POKED]])),
      omega: "last",
    });
    const text = JSON.stringify(file, null, 2);
    writeFileSync(path, text);
    const { state: s, notes } = readState(path, Date.now());
    expect(notes).toEqual([]);
    expect(s.backoff).toEqual(new Map([["deacon", POKED]]));
    expect(s.requests).toEqual(new Map([["gt-a1", ENTRY]]));
    expect(Object.keys(s.extra)).toEqual(["alpha", "zeta", "omega"]);
    writeState(path, s);
    expect(readFileSync(path, "utf8")).toBe(text);

    // Changed values are written where the keys already were.
    s.backoff!.set("mayor", { ...POKED, misses: 0 });
    s.requests.get("gt-a1")!.done = true;
    writeState(path, s);
    expect(keysOf(path)).toEqual(["alpha", "requests", "zeta", "backoff", "omega"]);
    const back = readState(path, Date.now()).state;
    expect([...back.backoff!.keys()]).toEqual(["deacon", "mayor"]);
    expect(back.requests.get("gt-a1")!.done).toBe(true);
  });

  test("a fresh state's keys appear in the order they were first saved, and keep it", () => {
    const path = join(dir, "state.json");
    const s = state();
    s.extra.first = 1;
    s.requests.set("gt-a1", ENTRY);
    writeState(path, s);
    expect(keysOf(path)).toEqual(["first", "requests"]);
    s.backoff = new Map([["deacon", POKED]]);
    writeState(path, s);
    expect(keysOf(path)).toEqual(["first", "requests", "backoff"]);
    s.extra.later = 2;
    writeState(path, s);
    expect(keysOf(path)).toEqual(["first", "requests", "backoff", "later"]);
    const text = readFileSync(path, "utf8");
    writeState(path, readState(path, Date.now()).state); // a restart: read, then save
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  test("no backoff key until a heartbeat has looked at the agents; an empty ledger is not written", () => {
    const path = join(dir, "state.json");
    writeState(path, state());
    expect(keysOf(path)).toEqual([]);
    const s = readState(path, Date.now()).state;
    expect(s.backoff).toBeUndefined();
    s.backoff = new Map();
    writeState(path, s);
    expect(JSON.parse(readFileSync(path, "utf8")).backoff).toEqual({});
  });

  test("a corrupt backoff entry gives a note and is dropped; the other entries stay", () => {
    const path = join(dir, "state.json");
    const file: Record<string, unknown> = JSON.parse(serializeState(state()));
    file.backoff = { ...backoffToJson(new Map([["mayor", POKED]])), deacon: { interval_ms: "soon", misses: 0 } };
    writeFileSync(path, JSON.stringify(file, null, 2));
    const { state: s, problem, notes } = readState(path, Date.now());
    expect(problem).toBeNull();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toStartWith("Warning: ignoring saved backoff state (backoff.deacon.interval_ms: ");
    expect(notes[0]).toEndWith("); that agent starts again from base");
    expect(s.backoff).toEqual(new Map([["mayor", POKED]]));
    writeState(path, s);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).backoff)).toEqual(["mayor"]);
  });

  test("a corrupt ledger entry gives a note and is dropped; the other entries stay", () => {
    const path = join(dir, "state.json");
    const file: Record<string, unknown> = JSON.parse(serializeState(state()));
    file.requests = { ...ledgerToJson(new Map([["gt-a1", ENTRY]])), "gt-b2": { attempts: "many", first_seen: "2026-11-25T12:00:00Z" } };
    writeFileSync(path, JSON.stringify(file, null, 2));
    const { state: s, notes } = readState(path, Date.now());
    expect(notes).toHaveLength(1);
    expect(notes[0]).toStartWith("Warning: dropping corrupt lifecycle request record gt-b2: ");
    expect(s.requests).toEqual(new Map([["gt-a1", ENTRY]]));
  });
});

describe("keys from outside (__proto__, constructor, ...)", () => {
  const HOSTILE = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

  test("an own __proto__ (or constructor, prototype, ...) key of state.json survives read → write", () => {
    const path = join(dir, "state.json");
    const file: Record<string, unknown> = JSON.parse(serializeState(state()));
    const text = JSON.stringify(file, null, 2).replace(/\n}$/, `,\n${HOSTILE.map((k, i) => `  "${k}": {\n    "n": ${i}\n  }`).join(",\n")}\n}`);
    writeFileSync(path, text);
    const { state: s, problem } = readState(path, Date.now());
    expect(problem).toBeNull();
    expect(Object.keys(s.extra)).toEqual(HOSTILE);
    expect(Object.getPrototypeOf(s.extra)).toBeNull();
    writeState(path, s);
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  test("extra keys named so are written, never taken for the object's prototype", () => {
    const s = state({ extra: emptyState().extra }); // as every state gtd makes: no prototype
    for (const k of HOSTILE) s.extra[k] = { k };
    const parsed = JSON.parse(serializeState(s));
    expect(Object.keys(parsed).slice(5)).toEqual(HOSTILE);
    expect(parsed.constructor).toEqual({ k: "constructor" });
  });

  test("the request ledger and the poke backoff keep __proto__ and constructor ids through the file", () => {
    const path = join(dir, "state.json");
    const entry: RequestEntry = { attempts: 2, firstSeenMs: STARTED, lastSeenMs: LAST, lastError: "state verification failed", done: false };
    const ledger = new Map([["__proto__", entry], ["constructor", { ...entry, done: true }], ["toString", entry]]);
    const backoff = new Map<string, BackoffState>([
      ["__proto__", { intervalMs: 450_000, lastPokeMs: LAST, misses: 1, lastActivityMs: null }],
      ["constructor", { intervalMs: 300_000, lastPokeMs: null, misses: 0, lastActivityMs: STARTED }],
    ]);
    writeState(path, state({ requests: ledger, backoff }));
    const { state: back, notes } = readState(path, Date.now());
    expect(notes).toEqual([]);
    expect(back.requests).toEqual(ledger);
    expect(back.backoff).toEqual(backoff);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).requests)).toEqual(["__proto__", "constructor", "toString"]);
    // A second round (as every pass does) loses nothing either.
    writeState(path, back);
    const again = readState(path, Date.now()).state;
    expect(again.requests).toEqual(ledger);
    expect(again.backoff).toEqual(backoff);
  });
});

describe("readState on missing and corrupt files", () => {
  const NOW = Date.UTC(2026, 10, 25, 13, 0, 0, 42);

  test("missing → empty state, no problem", () => {
    expect(readState(join(dir, "state.json"), NOW)).toEqual({ state: emptyState(), problem: null, movedTo: null, notes: [] });
  });

  test("corrupt JSON → empty state, the reason, and the file moved aside", () => {
    const path = join(dir, "state.json");
    writeFileSync(path, '{"running": tr');
    const res = readState(path, NOW);
    expect(res.state).toEqual(emptyState());
    expect(res.problem).toStartWith("invalid JSON");
    expect(res.movedTo).toBe(`${path}.corrupt-2026-11-25T13-00-00-042Z`);
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(res.movedTo!, "utf8")).toBe('{"running": tr');
  });

  test("keepCorrupt leaves the file where it is", () => {
    const path = join(dir, "state.json");
    writeFileSync(path, "garbage");
    const res = readState(path, NOW, { keepCorrupt: true });
    expect(res.state).toEqual(emptyState());
    expect(res.problem).not.toBeNull();
    expect(res.movedTo).toBeNull();
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  test.each([
    ["pid", { running: true, pid: "x" }],
    ["pid", { pid: 1.5 }],
    ["running", { running: "true" }],
    ["started_at", { started_at: "yesterday" }],
    ["last_heartbeat", { last_heartbeat: 12 }],
    ["heartbeat_count", { heartbeat_count: -1 }],
  ])("a wrong-typed %s counts as corrupt", (field, content) => {
    const path = join(dir, "state.json");
    writeFileSync(path, JSON.stringify(content));
    const res = readState(path, NOW);
    expect(res.state).toEqual(emptyState());
    expect(res.problem).toContain(field);
    expect(res.movedTo).not.toBeNull();
    expect(existsSync(path)).toBe(false);
  });

  test.each(["[]", "[1,2]", "null", "\"state\""])("JSON that is not an object (%s) counts as corrupt", (text) => {
    const path = join(dir, "state.json");
    writeFileSync(path, text);
    const res = readState(path, NOW, { keepCorrupt: true });
    expect(res.state).toEqual(emptyState());
    expect(res.problem).not.toBeNull();
  });
});
