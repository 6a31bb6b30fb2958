/** `gtd logs`: the last N lines, and follow that survives rotation (the file is renamed and recreated). */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { rfc3339Local } from "./log.ts";

/** Non-blocking: a FIFO put where the log was must not hang `gtd logs` (it is then skipped as not a file). */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
/** The most `gtd logs` reads back for its N lines: a log without newlines is not read whole. */
const TAIL_CAP_BYTES = 16 * 1024 * 1024;
/** The most one follow poll reads; the rest comes at the next poll (memory stays bounded). */
const FOLLOW_CHUNK_BYTES = 1024 * 1024;

export function lastLines(path: string, n: number): string[] {
  // slice(-0) is slice(0): without this, `gtd logs -n 0` (which the CLI accepts) printed lines anyway.
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return [];
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return [];
    const size = st.size;
    // Read backwards in chunks until we have n lines: a 10 MB log is not read whole for 50 lines.
    // Count newlines in the raw bytes and decode once at the end: a chunk boundary can fall inside a
    // multi-byte character (the "µ" of a Go duration), which decoding chunk by chunk would mangle.
    let pos = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    const chunk = 64 * 1024;
    while (pos > 0 && newlines <= n && size - pos < TAIL_CAP_BYTES) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      chunks.unshift(buf);
      for (const byte of buf) if (byte === 0x0a) newlines++;
    }
    const lines = Buffer.concat(chunks).toString("utf8").split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/** A file being followed. Its descriptor is held, so the inode cannot be freed and reused meanwhile. */
interface Followed {
  fd: number;
  dev: number;
  ino: number;
  offset: number;
  /** Carries a character cut by a chunk boundary over to the next chunk. */
  decoder: StringDecoder;
}

export interface Follower {
  /**
   * Print what was appended since the last poll. Once the file is read to its end and the path names
   * another file (a rotation), move to that one, from its start. Never throws for the file's sake.
   */
  poll(): void;
  close(): void;
}

/**
 * Follow `path` from its current end, one step per poll(), surviving rotation (the file is renamed and
 * a new one created) and truncation.
 *
 * The file is known by its open descriptor, not its name: identity by inode number alone once let a new
 * file that reused a rotated file's freed inode pass for the old one, skipping its start (a rotation storm
 * lost the lines after it). And the old file is read to its end before the new one: lines written just
 * before a rotation are printed, not skipped.
 */
export function createFollower(path: string, write: (s: string) => void): Follower {
  let cur = openFollowed(path, true);

  /** Print the next chunk of `f`; true when more was there than one chunk (the rest at the next poll). */
  const readChunk = (f: Followed): boolean => {
    let text = "";
    let more = false;
    try {
      const size = fstatSync(f.fd).size;
      if (size < f.offset) {
        // Truncated in place: from the top again.
        f.offset = 0;
        f.decoder = new StringDecoder("utf8");
      }
      if (size > f.offset) {
        const buf = Buffer.alloc(Math.min(size - f.offset, FOLLOW_CHUNK_BYTES));
        const n = readSync(f.fd, buf, 0, buf.length, f.offset);
        f.offset += n;
        text = f.decoder.write(buf.subarray(0, n));
        more = f.offset < size;
      }
    } catch {
      // Unreadable for a moment: the next poll tries again from the same offset.
    }
    // Outside the try: a failing writer (stdout closed) is the caller's to see, not a rotation.
    if (text !== "") write(text);
    return more;
  };

  return {
    poll() {
      // Catch up with the file we hold first: a rotation is looked for only once it is read to its end.
      if (cur && readChunk(cur)) return;
      const next = openFollowed(path, false);
      if (!next) return; // between the rename and the new file, or not created yet: keep what we hold
      if (cur && next.dev === cur.dev && next.ino === cur.ino) {
        closeQuietly(next.fd);
        return;
      }
      if (cur) {
        // The rename came before our open, so whatever was written to the old file before it is there
        // now: print it, then move on.
        if (readChunk(cur)) {
          closeQuietly(next.fd);
          return;
        }
        const cut = cur.decoder.end();
        closeQuietly(cur.fd);
        cur = null;
        if (cut !== "") write(cut);
      }
      cur = next;
      readChunk(cur);
    },
    close() {
      if (cur) closeQuietly(cur.fd);
      cur = null;
    },
  };
}

/** Print what is appended to `path` from its current end on, polling every `pollMs`, until `signal`. */
export async function follow(path: string, write: (s: string) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
  const follower = createFollower(path, write);
  try {
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (signal.aborted) break;
      follower.poll();
    }
  } finally {
    follower.close();
  }
}

/** `path` opened for reading (from its end, or its start), if it is a regular file now; else null. Never throws. */
function openFollowed(path: string, fromEnd: boolean): Followed | null {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return null; // missing, or unreadable for a moment
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, dev: st.dev, ino: st.ino, offset: fromEnd ? st.size : 0, decoder: new StringDecoder("utf8") };
  } catch {
    // fall through: not followed
  }
  closeQuietly(fd);
  return null;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing left to do with it
  }
}

const TEXT_LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/;

/**
 * One log line, of either format, as a JSON line (`gtd logs --json`): JSON lines pass through as they
 * are; a text line becomes `{"time","event":"daemon.message","message"}` (the text format carries no
 * event names); anything else is kept whole as `{"event":"log.unparsed","message"}`. A text stamp is
 * local time, or at `offsetMin` (minutes east of UTC) when given.
 */
export function logLineAsJson(line: string, offsetMin?: number): string {
  if (line.startsWith("{")) {
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) return JSON.stringify(v);
    } catch {
      // Not one of ours: kept below as text.
    }
  }
  const m = TEXT_LINE.exec(line);
  if (!m) return JSON.stringify({ event: "log.unparsed", message: line });
  const [, y, mo, d, h, mi, s, message] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  // The stamp is a wall-clock time: local unless the zone's offset is given.
  const ms = offsetMin === undefined ? new Date(...fields).getTime() : Date.UTC(...fields) - offsetMin * 60_000;
  return JSON.stringify({ time: rfc3339Local(ms, offsetMin), event: "daemon.message", message });
}

/** For follow: cut text at newlines, carrying an unfinished last line to the next chunk. */
export function lineSplitter(emit: (line: string) => void): (chunk: string) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) if (p !== "") emit(p);
  };
}
