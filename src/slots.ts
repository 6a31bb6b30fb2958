/**
 * Notification slots: at most one pending poke per (session, slot), on disk in the original's format
 * (§1, §5.4) so an old daemon's slots are honoured and ours are readable by it.
 *
 * File: `<dir>/slot-<S>-<L>.json`, compact JSON
 * `{"slot","session","message","sent_at","consumed","consumed_at"}`; consumed_at is always present
 * (Go zero time when not consumed), times in Go RFC3339Nano.
 *
 * Name encoding (fixes §12 defect 20, where `/`→`-` made `a/b` ≡ `a-b`): `<S>` is the session with
 * `%`→`%25` and `/`→`%2F`; `<L>` is the slot with the same plus `-`→`%2D`. Plain names are unchanged
 * (`slot-gt-deacon-heartbeat.json`), and because the slot part never contains a raw `-`, the last `-`
 * splits a file name back into (session, slot) unambiguously.
 *
 * Clock: every function takes `nowMs`. A stamp more than maxAge in the future means the clock stepped
 * back; it is treated as expired rather than blocking pokes until the clock catches up.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { formatGoDuration } from "./duration.ts";
import { formatGoTime, GO_ZERO_TIME, parseGoTime } from "./gotime.ts";
import { readJson, safeUnlink, writeFileAtomic } from "./store.ts";
import { GoTimeText } from "./core/schema.ts";
import { isCorrupt, isSlotDirFile, judgeSlot, slotFileName, staleSlotNames, type CorruptSlot, type SendDecision, type Slot, type SlotDirEntry } from "./core/slot-rules.ts";

export { isCorrupt, parseSlotFileName, slotFileName, type CorruptSlot, type SendDecision, type Slot } from "./core/slot-rules.ts";

const goTime = GoTimeText;

// looseObject: Go ignores unknown fields, and so do we. Text fields default as Go's zero values do.
const SlotFileSchema = v.looseObject({
  slot: v.optional(v.string(), ""),
  session: v.optional(v.string(), ""),
  message: v.optional(v.string(), ""),
  sent_at: goTime,
  consumed: v.optional(v.boolean(), false),
  consumed_at: v.optional(v.nullable(goTime), null),
});

export function slotPath(dir: string, session: string, slot: string): string {
  return join(dir, slotFileName(session, slot));
}


/** Missing → null; unreadable, bad JSON or wrong shape → { corrupt }. Never throws. */
export function readSlot(dir: string, session: string, slot: string): Slot | CorruptSlot | null {
  return readSlotFile(slotPath(dir, session, slot));
}

function readSlotFile(path: string): Slot | CorruptSlot | null {
  const r = readJson(path, SlotFileSchema);
  if (r.kind === "missing") return null;
  if (r.kind === "corrupt") return { corrupt: `${path}: ${r.reason}` };
  const f = r.value;
  return {
    slot: f.slot,
    session: f.session,
    message: f.message,
    sentAtMs: parseGoTime(f.sent_at) ?? null,
    sentAtText: f.sent_at,
    consumed: f.consumed,
    consumedAtMs: f.consumed_at === null ? null : (parseGoTime(f.consumed_at) ?? null),
  };
}

export function shouldSend(dir: string, session: string, slot: string, nowMs: number, maxAgeMs: number): SendDecision {
  return judgeSlot(readSlot(dir, session, slot), nowMs, maxAgeMs);
}

function slotText(session: string, slot: string, message: string, sentAt: string, consumedAtMs: number | null): string {
  // Key order and compact form are the original's bytes; consumed_at is never omitted.
  return goJson({
    slot,
    session,
    message,
    sent_at: sentAt,
    consumed: consumedAtMs !== null,
    consumed_at: consumedAtMs === null ? GO_ZERO_TIME : formatGoTime(consumedAtMs),
  });
}

/** JSON.stringify plus Go's default HTML escaping (<, >, &, U+2028, U+2029), for identical bytes. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Write a pending slot (sent_at = now), replacing whatever was there. Creates `dir` if needed. */
export function recordSend(dir: string, session: string, slot: string, message: string, nowMs: number): void {
  writeFileAtomic(slotPath(dir, session, slot), slotText(session, slot, message, formatGoTime(nowMs), null));
}

/**
 * Mark a pending slot consumed (consumed_at = now, sent_at kept byte for byte).
 * Returns true only if it changed something: a missing, corrupt or already consumed slot is left alone.
 */
export function markConsumed(dir: string, session: string, slot: string, nowMs: number): boolean {
  const r = readSlot(dir, session, slot);
  if (r === null || isCorrupt(r) || r.consumed) return false;
  // session/slot come from the arguments (they define the path); message is kept from the file.
  writeFileAtomic(slotPath(dir, session, slot), slotText(session, slot, r.message, r.sentAtText, nowMs));
  return true;
}

/**
 * Remove slot files that no longer gate anything, and return their names. A file goes when:
 *  - its mtime is more than maxAge old (the original's rule; covers corrupt files too), or
 *  - it is consumed and its sent_at is more than maxAge old: markConsumed rewrites the file and so
 *    refreshes the mtime, which would otherwise keep a finished slot around for another maxAge.
 * A pending slot with a fresh mtime is kept even if its sent_at is old: shouldSend already treats
 * it as expired, and the next recordSend overwrites it.
 * Also removes our own `.slot-*.tmp` leftovers (from a crash mid-write) older than maxAge.
 * Never throws: a missing or unreadable dir removes nothing.
 */
export function clearStaleSlots(dir: string, nowMs: number, maxAgeMs: number): string[] {
  return listStaleSlots(dir, nowMs, maxAgeMs).filter((name) => safeUnlink(join(dir, name)));
}

/** The files of daemon/notifications the sweep looks at, read (sorted by name; never throws). */
export function listSlotDir(dir: string): SlotDirEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: SlotDirEntry[] = [];
  for (const name of names.sort()) {
    const kind = isSlotDirFile(name);
    if (kind === null) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      out.push(kind === "slot" ? { name, mtimeMs: st.mtimeMs, slot: readSlotFile(path) } : { name, mtimeMs: st.mtimeMs });
    } catch {
      continue; // vanished meanwhile
    }
  }
  return out;
}

/** What clearStaleSlots removes, without removing it. */
export function listStaleSlots(dir: string, nowMs: number, maxAgeMs: number): string[] {
  return staleSlotNames(listSlotDir(dir), nowMs, maxAgeMs);
}
