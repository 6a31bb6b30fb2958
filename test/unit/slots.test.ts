import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatGoTime } from "../../src/gotime.ts";
import {
  clearStaleSlots,
  isCorrupt,
  markConsumed,
  parseSlotFileName,
  readSlot,
  recordSend,
  shouldSend,
  slotFileName,
  slotPath,
} from "../../src/slots.ts";

const MIN = 60_000;
const MAX_AGE = 5 * MIN;
const T0 = Date.UTC(2025, 11, 20, 10, 0, 0, 250);

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), "gtd-slots-")), "notifications");
});
afterEach(() => {
  rmSync(join(dir, ".."), { recursive: true, force: true });
});

describe("file names", () => {
  test("plain names are the original's", () => {
    expect(slotFileName("gt-deacon", "heartbeat")).toBe("slot-gt-deacon-heartbeat.json");
    expect(slotPath("/x/notifications", "gt-deacon", "heartbeat")).toBe("/x/notifications/slot-gt-deacon-heartbeat.json");
  });

  test("/ and % are percent-encoded, so a/b and a-b no longer collide", () => {
    expect(slotFileName("a/b", "heartbeat")).toBe("slot-a%2Fb-heartbeat.json");
    expect(slotFileName("a%2Fb", "heartbeat")).toBe("slot-a%252Fb-heartbeat.json");
    expect(slotFileName("a/b", "s")).not.toBe(slotFileName("a-b", "s"));
  });

  test("a - in the slot is encoded, so session/slot split is unambiguous", () => {
    expect(slotFileName("a-b", "c")).not.toBe(slotFileName("a", "b-c"));
    expect(slotFileName("a", "b-c")).toBe("slot-a-b%2Dc.json");
  });

  test("round trip", () => {
    const cases: Array<[string, string]> = [
      ["gt-deacon", "heartbeat"], ["a/b", "status"], ["a%2F", "x"], ["100%", "50%"], ["gt-rig-crew-joe", "a-b/c"], ["x", ""],
    ];
    for (const [session, slot] of cases) expect(parseSlotFileName(slotFileName(session, slot))).toEqual({ session, slot });
    expect(parseSlotFileName("state.json")).toBeNull();
  });
});

describe("recordSend / readSlot", () => {
  test("writes the original's bytes exactly", () => {
    recordSend(dir, "gt-deacon", "heartbeat", "HEARTBEAT: run your rounds", T0);
    const text = readFileSync(join(dir, "slot-gt-deacon-heartbeat.json"), "utf8");
    expect(text).toBe(
      `{"slot":"heartbeat","session":"gt-deacon","message":"HEARTBEAT: run your rounds","sent_at":"${formatGoTime(T0)}",` +
        `"consumed":false,"consumed_at":"0001-01-01T00:00:00Z"}`,
    );
    expect(readdirSync(dir)).toEqual(["slot-gt-deacon-heartbeat.json"]); // no temp file left
  });

  test("escapes <, > and & as Go's encoding/json does, and reads them back", () => {
    recordSend(dir, "s", "heartbeat", "a<b>&c", T0);
    expect(readFileSync(slotPath(dir, "s", "heartbeat"), "utf8")).toContain('"message":"a\\u003cb\\u003e\\u0026c"');
    expect(readSlot(dir, "s", "heartbeat")).toMatchObject({ message: "a<b>&c" });
  });

  test("reads back; missing is null", () => {
    expect(readSlot(dir, "gt-deacon", "heartbeat")).toBeNull();
    recordSend(dir, "gt-deacon", "heartbeat", "hi", T0);
    expect(readSlot(dir, "gt-deacon", "heartbeat")).toMatchObject({
      slot: "heartbeat", session: "gt-deacon", message: "hi", sentAtMs: T0, consumed: false, consumedAtMs: null,
    });
  });

  test("reads a slot written by the original (nanoseconds, offset, unknown field)", () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      slotPath(dir, "gt-deacon", "heartbeat"),
      '{"slot":"heartbeat","session":"gt-deacon","message":"m","sent_at":"2025-12-20T11:00:00.123456789+01:00","consumed":false,"consumed_at":"0001-01-01T00:00:00Z","x":1}',
    );
    const r = readSlot(dir, "gt-deacon", "heartbeat");
    expect(r).toMatchObject({ sentAtMs: Date.UTC(2025, 11, 20, 10, 0, 0, 123), consumed: false });
  });

  test("corrupt files are reported, not thrown", () => {
    recordSend(dir, "s", "heartbeat", "m", T0);
    writeFileSync(slotPath(dir, "s", "heartbeat"), '{"slot":"heart');
    const r = readSlot(dir, "s", "heartbeat");
    expect(isCorrupt(r)).toBe(true);
    writeFileSync(slotPath(dir, "s", "heartbeat"), '{"sent_at":"yesterday"}');
    expect(isCorrupt(readSlot(dir, "s", "heartbeat"))).toBe(true);
  });
});

describe("shouldSend", () => {
  test("no slot → send", () => {
    expect(shouldSend(dir, "gt-deacon", "heartbeat", T0, MAX_AGE).send).toBe(true);
  });

  test("pending within max age → don't; strictly older than max age → send", () => {
    recordSend(dir, "gt-deacon", "heartbeat", "m", T0);
    const pending = shouldSend(dir, "gt-deacon", "heartbeat", T0 + MIN, MAX_AGE);
    expect(pending).toEqual({ send: false, reason: "notification pending (sent 1m0s ago)" });
    expect(shouldSend(dir, "gt-deacon", "heartbeat", T0 + MAX_AGE, MAX_AGE).send).toBe(false);
    expect(shouldSend(dir, "gt-deacon", "heartbeat", T0 + MAX_AGE + 1, MAX_AGE).send).toBe(true);
  });

  test("consumed → send", () => {
    recordSend(dir, "gt-deacon", "heartbeat", "m", T0);
    markConsumed(dir, "gt-deacon", "heartbeat", T0 + 1000);
    expect(shouldSend(dir, "gt-deacon", "heartbeat", T0 + 2000, MAX_AGE).send).toBe(true);
  });

  test("corrupt → send, with the reason", () => {
    recordSend(dir, "gt-deacon", "heartbeat", "m", T0);
    writeFileSync(slotPath(dir, "gt-deacon", "heartbeat"), "garbage");
    const d = shouldSend(dir, "gt-deacon", "heartbeat", T0, MAX_AGE);
    expect(d.send).toBe(true);
    expect(d.corrupt).toContain("invalid JSON");
    expect(d.reason).toContain("corrupt");
  });

  test("sent_at far in the future (clock stepped back) → send; slightly ahead → pending", () => {
    recordSend(dir, "s", "heartbeat", "m", T0 + 10 * MIN);
    expect(shouldSend(dir, "s", "heartbeat", T0, MAX_AGE).send).toBe(true);
    recordSend(dir, "s", "heartbeat", "m", T0 + 1000);
    expect(shouldSend(dir, "s", "heartbeat", T0, MAX_AGE).send).toBe(false);
  });

  test("slots are per session and per slot", () => {
    recordSend(dir, "a/b", "heartbeat", "m", T0);
    expect(shouldSend(dir, "a-b", "heartbeat", T0, MAX_AGE).send).toBe(true);
    expect(shouldSend(dir, "a/b", "status", T0, MAX_AGE).send).toBe(true);
    expect(shouldSend(dir, "a/b", "heartbeat", T0, MAX_AGE).send).toBe(false);
  });
});

describe("markConsumed", () => {
  test("marks a pending slot, keeps sent_at byte for byte", () => {
    const sent = "2025-12-20T11:00:00.123456789+01:00";
    recordSend(dir, "gt-deacon", "heartbeat", "m", T0);
    const path = slotPath(dir, "gt-deacon", "heartbeat");
    writeFileSync(path, readFileSync(path, "utf8").replace(formatGoTime(T0), sent));
    expect(markConsumed(dir, "gt-deacon", "heartbeat", T0 + 1000)).toBe(true);
    expect(readFileSync(path, "utf8")).toBe(
      `{"slot":"heartbeat","session":"gt-deacon","message":"m","sent_at":"${sent}","consumed":true,"consumed_at":"${formatGoTime(T0 + 1000)}"}`,
    );
  });

  test("missing, already consumed, or corrupt → unchanged, false", () => {
    expect(markConsumed(dir, "gt-deacon", "heartbeat", T0)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    recordSend(dir, "gt-deacon", "heartbeat", "m", T0);
    expect(markConsumed(dir, "gt-deacon", "heartbeat", T0 + 1)).toBe(true);
    const path = slotPath(dir, "gt-deacon", "heartbeat");
    const after = readFileSync(path, "utf8");
    expect(markConsumed(dir, "gt-deacon", "heartbeat", T0 + 2)).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(after);
    writeFileSync(path, "{");
    expect(markConsumed(dir, "gt-deacon", "heartbeat", T0 + 3)).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("{");
  });
});

describe("clearStaleSlots", () => {
  const setMtime = (name: string, ms: number) => utimesSync(join(dir, name), ms / 1000, ms / 1000);

  test("a missing dir removes nothing and does not throw", () => {
    expect(clearStaleSlots(join(dir, "nope"), T0, MAX_AGE)).toEqual([]);
  });

  test("removes files whose mtime is strictly older than max age, consumed or not, corrupt too", () => {
    // Whole seconds, so every mtime below is exact and "edge" sits exactly at max age.
    const now = Math.floor(Date.now() / 1000) * 1000;
    recordSend(dir, "old", "heartbeat", "m", now - 10 * MIN);
    recordSend(dir, "edge", "heartbeat", "m", now - MAX_AGE);
    recordSend(dir, "new", "heartbeat", "m", now - MIN);
    writeFileSync(join(dir, "slot-bad-heartbeat.json"), "not json");
    writeFileSync(join(dir, "other.json"), "{}");
    setMtime(slotFileName("old", "heartbeat"), now - 10 * MIN);
    setMtime(slotFileName("edge", "heartbeat"), now - MAX_AGE);
    setMtime(slotFileName("new", "heartbeat"), now - MIN);
    setMtime("slot-bad-heartbeat.json", now - 6 * MIN);
    setMtime("other.json", now - 60 * MIN);
    const removed = clearStaleSlots(dir, now, MAX_AGE);
    expect(removed).toEqual(["slot-bad-heartbeat.json", "slot-old-heartbeat.json"]);
    expect(readdirSync(dir).sort()).toEqual(["other.json", "slot-edge-heartbeat.json", "slot-new-heartbeat.json"]);
  });

  test("a consumed slot whose sent_at is old goes even though markConsumed refreshed its mtime", () => {
    const now = Date.now();
    recordSend(dir, "done", "heartbeat", "m", now - 6 * MIN);
    markConsumed(dir, "done", "heartbeat", now - 10_000);
    recordSend(dir, "pending", "heartbeat", "m", now - 6 * MIN); // fresh mtime, old sent_at, not consumed: kept
    expect(clearStaleSlots(dir, now, MAX_AGE)).toEqual(["slot-done-heartbeat.json"]);
    expect(readdirSync(dir)).toEqual(["slot-pending-heartbeat.json"]);
  });

  test("removes stale temp leftovers from a crashed write", () => {
    const now = Date.now();
    recordSend(dir, "x", "heartbeat", "m", now);
    writeFileSync(join(dir, ".slot-x-heartbeat.json.123.1.tmp"), "{");
    setMtime(".slot-x-heartbeat.json.123.1.tmp", now - 10 * MIN);
    expect(clearStaleSlots(dir, now, MAX_AGE)).toEqual([".slot-x-heartbeat.json.123.1.tmp"]);
  });
});
