/**
 * The notification-slot rules, pure (src/slots.ts reads and writes the files): a slot file's name, when a
 * pending heartbeat notification still gates the next poke, and when a slot file is stale.
 */
import { formatGoDuration } from "../duration.ts";

export interface Slot {
  slot: string;
  session: string;
  message: string;
  /** null when the file holds the zero time. */
  sentAtMs: number | null;
  /** The sent_at text as written: rewritten unchanged by markConsumed (it may carry nanoseconds). */
  sentAtText: string;
  consumed: boolean;
  consumedAtMs: number | null;
}

export interface CorruptSlot {
  corrupt: string;
}

function encodePart(s: string, dash: boolean): string {
  const out = s.replace(/%/g, "%25").replace(/\//g, "%2F");
  return dash ? out.replace(/-/g, "%2D") : out;
}

function decodePart(s: string): string {
  return s.replace(/%(25|2F|2D)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function slotFileName(session: string, slot: string): string {
  return `slot-${encodePart(session, false)}-${encodePart(slot, true)}.json`;
}

/** Inverse of slotFileName; null for names that are not slot files. */
export function parseSlotFileName(name: string): { session: string; slot: string } | null {
  const m = /^slot-(.*)-([^-]*)\.json$/.exec(name);
  if (!m) return null;
  return { session: decodePart(m[1]!), slot: decodePart(m[2]!) };
}

export function isCorrupt(r: Slot | CorruptSlot | null): r is CorruptSlot {
  return r !== null && "corrupt" in r;
}

export interface SendDecision {
  send: boolean;
  reason: string;
  /** Set when the slot file was corrupt: the caller logs it; recordSend replaces the file. */
  corrupt?: string;
}

/** Expired: older than maxAge (strictly, as the original), or implausibly far in the future. */
function expired(ageMs: number, maxAgeMs: number): boolean {
  return ageMs > maxAgeMs || ageMs < -maxAgeMs;
}

/** The slot gate for one session, from the slot as read (null: no file). */
export function judgeSlot(r: Slot | CorruptSlot | null, nowMs: number, maxAgeMs: number): SendDecision {
  if (r === null) return { send: true, reason: "no pending notification" };
  if (isCorrupt(r)) return { send: true, reason: `corrupt slot file (${r.corrupt})`, corrupt: r.corrupt };
  if (r.consumed) return { send: true, reason: "previous notification consumed" };
  if (r.sentAtMs === null) return { send: true, reason: "pending notification has no send time" };
  const age = nowMs - r.sentAtMs;
  const when = age >= 0 ? `sent ${formatGoDuration(age)} ago` : `sent ${formatGoDuration(-age)} in the future`;
  if (expired(age, maxAgeMs)) return { send: true, reason: `pending notification expired (${when})` };
  return { send: false, reason: `notification pending (${when})` };
}

/** A file in daemon/notifications as listed: a slot file (parsed) or one of our temp files. */
export interface SlotDirEntry {
  name: string;
  mtimeMs: number;
  /** For `slot-*.json`: the slot as read (null: vanished). Undefined for temp files. */
  slot?: Slot | CorruptSlot | null;
}

/** Whether a listed file belongs in the slot directory's sweep (slot files and our temp files). */
export function isSlotDirFile(name: string): "slot" | "temp" | null {
  if (name.startsWith("slot-") && name.endsWith(".json")) return "slot";
  if (name.startsWith(".slot-") && name.endsWith(".tmp")) return "temp";
  return null;
}

/**
 * Slot files that no longer gate anything, by name. A file goes when:
 *  - its mtime is more than maxAge old (the original's rule; covers corrupt files too), or
 *  - it is consumed and its sent_at is more than maxAge old: markConsumed rewrites the file and so
 *    refreshes the mtime, which would otherwise keep a finished slot around for another maxAge.
 * A pending slot with a fresh mtime is kept even if its sent_at is old: judgeSlot already treats it as
 * expired, and the next recordSend overwrites it. Our `.slot-*.tmp` leftovers go by mtime.
 */
export function staleSlotNames(entries: readonly SlotDirEntry[], nowMs: number, maxAgeMs: number): string[] {
  const stale: string[] = [];
  for (const e of entries) {
    let old = expired(nowMs - e.mtimeMs, maxAgeMs);
    const r = e.slot;
    if (!old && r && !isCorrupt(r) && r.consumed) old = r.sentAtMs === null || expired(nowMs - r.sentAtMs, maxAgeMs);
    if (old) stale.push(e.name);
  }
  return stale;
}
