/**
 * Properties of the store (src/store.ts, src/state.ts) against a temp directory: what writeFileAtomic
 * and writeJsonAtomic write, readText and readJson read back unchanged, for any text and any JSON value
 * (Unicode, control characters, lone surrogates, keys such as `constructor`); no temp file is left
 * behind; and state.json keeps gtd's extra keys, the poke backoff and the request ledger (typed, as Maps)
 * across serializeState/readState, in the order the file had them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { BackoffState } from "../../src/core/backoff.ts";
import { clipError, type RequestEntry } from "../../src/core/ledger.ts";
import { TYPED_KEYS } from "../../src/core/state.ts";
import { readState, serializeState, writeState, type DaemonState } from "../../src/state.ts";
import { readJson, readText, writeFileAtomic, writeJsonAtomic } from "../../src/store.ts";
import { anyString, propertyTempDir, RUNS } from "./arbitraries.ts";

const root = propertyTempDir("gtd-prop-store-");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
/** A fresh directory per run, so a leftover of one run cannot hide in the next. */
function freshDir(): string {
  const dir = join(root, String(++dirCount));
  mkdirSync(dir);
  return dir;
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Object keys: any text, and the names every plain object already answers to. */
const PROTO_NAMES = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "__defineGetter__"];
const key = fc.oneof(anyString, fc.constantFrom(...PROTO_NAMES, "", "0", "-1", "a.b"));
/** Top-level keys of state.json: any, `__proto__`, `constructor` and `prototype` included (they once vanished). */
const topLevelKey = key;

/** Own enumerable properties only, defined (not assigned) so that no key can reach a setter. */
function objectOf(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, val] of entries) Object.defineProperty(o, k, { value: val, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Any JSON value, with strings from the whole of Unicode (lone surrogates included) and hostile keys. */
function json(keys: fc.Arbitrary<string>) {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      anyString,
      fc.string({ unit: loneSurrogate, maxLength: 3 }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.array(fc.tuple(keys, tie("value")), { maxLength: 4 }).map(objectOf),
    ),
  })).value;
}
const anyJson = json(key);

/** What a JSON round trip is defined to give (-0 reads back as 0, and nothing else changes). */
const viaJson = (x: unknown) => JSON.parse(JSON.stringify(x));

describe("write → read round trips", () => {
  test("writeFileAtomic → readText gives the text back, for any well-formed Unicode text", () => {
    const dir = freshDir();
    const path = join(dir, "file.txt");
    fc.assert(
      fc.property(fc.oneof(anyString, fc.string({ unit: "binary", maxLength: 2000 })), (text) => {
        fc.pre(text.isWellFormed());
        writeFileAtomic(path, text);
        expect(readText(path)).toBe(text);
        expect(readdirSync(dir)).toEqual(["file.txt"]);
      }),
      { numRuns: RUNS.disk },
    );
  });

  test("a lone surrogate (not encodable in UTF-8) reads back as U+FFFD, the rest of the text unchanged", () => {
    const dir = freshDir();
    const path = join(dir, "file.txt");
    fc.assert(
      fc.property(anyString, loneSurrogate, anyString, (a, s, b) => {
        writeFileAtomic(path, a + s + b);
        expect(readText(path)).toBe((a + s + b).toWellFormed());
      }),
      { numRuns: RUNS.disk },
    );
  });

  test("writeJsonAtomic → readJson gives the value back for any JSON value and indent; the bytes are JSON.stringify's", () => {
    const dir = freshDir();
    const path = join(dir, "value.json");
    fc.assert(
      fc.property(anyJson, fc.constantFrom(undefined, 0, 2, 4), (value, indent) => {
        writeJsonAtomic(path, value, indent === undefined ? {} : { indent });
        expect(readFileSync(path, "utf8")).toBe(JSON.stringify(value, null, indent ?? 2));
        const back = readJson(path, v.unknown());
        expect(back).toEqual({ kind: "ok", value: viaJson(value) });
        expect(readdirSync(dir)).toEqual(["value.json"]);
      }),
      { numRuns: RUNS.disk },
    );
  });

  test("any sequence of writes to a few files: each reads back its last value, and only those files exist", () => {
    const names = ["state.json", "a b.json", "ünï.json", ".hidden.json"];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), anyJson), { minLength: 1, maxLength: 8 }), (writes) => {
        const dir = freshDir();
        const last = new Map<string, unknown>();
        for (const [name, value] of writes) {
          writeJsonAtomic(join(dir, name), value);
          last.set(name, value);
        }
        expect(readdirSync(dir).sort()).toEqual([...last.keys()].sort());
        for (const [name, value] of last) expect(readJson(join(dir, name), v.unknown())).toEqual({ kind: "ok", value: viaJson(value) });
        rmSync(dir, { recursive: true });
      }),
      { numRuns: RUNS.disk },
    );
  });
});

const ORIGINAL_KEYS = ["running", "pid", "started_at", "last_heartbeat", "heartbeat_count"];
/**
 * Clock readings a daemon can take: 1970 to 9999 (a 4-digit year, as RFC3339 requires). The last day of
 * 9999 is left out: times are written in local time, and up to 14 h east of UTC it is already 10000.
 */
const LAST_TIME_MS = Date.UTC(9999, 11, 30, 23, 59, 59, 999);
const time = fc.option(fc.integer({ min: 0, max: LAST_TIME_MS }), { nil: null });

const isIndexLike = (k: string) => /^(0|[1-9]\d*)$/.test(k);

/** Poke backoff per agent id (ids are directory names: any non-empty text, hostile ones included). */
const backoffEntry: fc.Arbitrary<BackoffState> = fc.record({
  intervalMs: fc.integer({ min: 1, max: 10 ** 9 }),
  lastPokeMs: time,
  misses: fc.nat(),
  lastActivityMs: time,
});
const backoff = fc.option(
  fc.array(fc.tuple(key.filter((k) => k !== ""), backoffEntry), { maxLength: 4 }).map((entries) => new Map(entries)),
  { nil: undefined },
);

/**
 * Ledger ids: what the message-id rule accepts, hostile names included. Not all digits: JSON objects list
 * such keys first, so the ledger's order would not survive the file (bd ids never are; see ledger.ts).
 */
const messageId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:][A-Za-z0-9._:-]{0,20}$/).filter((id) => !isIndexLike(id)),
  fc.constantFrom("__proto__", "constructor", "toString", "gt-a1", "bd-1.2"),
);
const requestEntry: fc.Arbitrary<RequestEntry> = fc.record({
  attempts: fc.nat(),
  firstSeenMs: fc.integer({ min: 0, max: LAST_TIME_MS }),
  lastSeenMs: fc.integer({ min: 0, max: LAST_TIME_MS }),
  lastError: fc.option(anyString, { nil: null }),
  done: fc.boolean(),
});
const requests = fc.array(fc.tuple(messageId, requestEntry), { maxLength: 4 }).map((entries) => new Map(entries));

/**
 * A state as gtd holds it. `extra` never holds the typed keys (readState takes them out); keyOrder is the
 * order a previous read saw: some of the keys, typed ones and keys no longer there included.
 */
function stateWith(extraKey: fc.Arbitrary<string>): fc.Arbitrary<DaemonState> {
  const extra = fc
    .array(fc.tuple(fc.oneof(extraKey, fc.constantFrom(...ORIGINAL_KEYS)), anyJson), { maxLength: 5 })
    .map((entries) => objectOf(entries.filter(([k]) => !TYPED_KEYS.includes(k))));
  return fc
    .record({ running: fc.boolean(), pid: fc.nat(), startedAtMs: time, lastHeartbeatMs: time, heartbeatCount: fc.nat(), backoff, requests, supervise: fc.constant(new Map()), extra })
    .chain((s) =>
      fc
        .shuffledSubarray([...Object.keys(s.extra), ...TYPED_KEYS, "gone"])
        .map((keyOrder) => ({ ...s, keyOrder })),
    );
}

/** The keys the file holds after the original five, in the order they are written. */
function writtenOrder(s: DaemonState): string[] {
  const written = (k: string) =>
    k === "backoff" ? s.backoff !== undefined : k === "requests" ? s.requests.size > 0 : Object.hasOwn(s.extra, k) && !ORIGINAL_KEYS.includes(k);
  return [...new Set([...s.keyOrder, ...Object.keys(s.extra), ...TYPED_KEYS])].filter(written);
}

/** The state a reader should get back: gtd's extra keys, minus any that would shadow the original five. */
function expectedBack(s: DaemonState): DaemonState {
  const extra = objectOf(Object.entries(s.extra).filter(([k]) => !ORIGINAL_KEYS.includes(k)));
  const requests = new Map([...s.requests].map(([id, e]) => [id, { ...e, lastError: e.lastError === null ? null : clipError(e.lastError) }]));
  return { ...s, extra: viaJson(extra), requests, keyOrder: writtenOrder(s) };
}

/** keyOrder as read back: JSON objects list index-like keys first, so they are compared as a set. */
function sameOrder(got: string[], want: string[]): void {
  expect(got.filter((k) => !isIndexLike(k))).toEqual(want.filter((k) => !isIndexLike(k)));
  expect([...got].sort()).toEqual([...want].sort());
}

describe("state.json", () => {
  test("writeState → readState keeps every field and every extra key (the original five first, never shadowed)", () => {
    const dir = freshDir();
    const path = join(dir, "state.json");
    fc.assert(
      fc.property(stateWith(topLevelKey), (s) => {
        const want = expectedBack(s);
        const text = serializeState(s);
        writeState(path, s);
        expect(readFileSync(path, "utf8")).toBe(text);
        // The original five come first. A key that looks like an array index ("0", "42") is listed
        // before them by every JS object, so they are left out of the order check (see the report).
        const keys = Object.keys(JSON.parse(text)).filter((k) => !isIndexLike(k));
        expect(keys.slice(0, 5)).toEqual(ORIGINAL_KEYS);
        expect(keys.slice(5)).toEqual(want.keyOrder.filter((k) => !isIndexLike(k)));
        const back = readState(path, 0);
        expect(back.problem).toBeNull();
        expect(back.notes).toEqual([]);
        sameOrder(back.state.keyOrder, want.keyOrder);
        expect({ ...back.state, keyOrder: [] }).toEqual({ ...want, keyOrder: [] });
      }),
      { numRuns: RUNS.disk },
    );
  });

  test("read → write of a state.json gtd wrote gives the same bytes (its keys keep their places)", () => {
    const dir = freshDir();
    const path = join(dir, "state.json");
    // Index-like keys excepted: a JSON object lists them first, so the file's order for them is lost on read.
    fc.assert(
      fc.property(stateWith(topLevelKey.filter((k) => !isIndexLike(k))), (s) => {
        // As gtd writes it: a request's last error is clipped before it is stored.
        for (const e of s.requests.values()) if (e.lastError !== null) e.lastError = clipError(e.lastError);
        writeState(path, s);
        const text = readFileSync(path, "utf8");
        writeState(path, readState(path, 0).state);
        expect(readFileSync(path, "utf8")).toBe(text);
      }),
      { numRuns: RUNS.disk },
    );
  });
});
