/** `gtd logs`: the last N lines, and follow that survives rotation (the file is renamed and recreated). */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
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

/**
 * Print what is appended from the current end on; reopen from the start when the file is rotated.
 *
 * Rotation renames the file between any two calls of ours, so each poll works on one open descriptor
 * (fstat and read see one file, whatever the path names meanwhile), and every fs call is allowed to fail:
 * a path that is missing or unreadable for a moment is tried again at the next poll, never thrown.
 */
export async function follow(path: string, write: (s: string) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
  const start = stat(path);
  let ino = start?.ino ?? null;
  let offset = start?.size ?? 0;
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, pollMs));
    let fd: number;
    try {
      fd = openSync(path, READ_FLAGS);
    } catch {
      continue; // between the rename and the new file, or not created yet
    }
    let text = "";
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) continue;
      if (st.ino !== ino || st.size < offset) {
        ino = st.ino;
        offset = 0;
      }
      if (st.size > offset) {
        const buf = Buffer.alloc(Math.min(st.size - offset, FOLLOW_CHUNK_BYTES));
        const n = readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        text = buf.subarray(0, n).toString("utf8");
      }
    } catch {
      // Unreadable for a moment: the next poll tries again from the same offset.
    } finally {
      try {
        closeSync(fd);
      } catch {
        // nothing left to do with it
      }
    }
    // Outside the try: a failing writer (stdout closed) is the caller's to see, not a rotation.
    if (text !== "") write(text);
  }
}

function stat(path: string): { ino: number; size: number } | null {
  try {
    const st = statSync(path);
    return { ino: st.ino, size: st.size };
  } catch {
    return null;
  }
}

const TEXT_LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/;

/**
 * One log line, of either format, as a JSON line (`gtd logs --json`): JSON lines pass through as they
 * are; a text line becomes `{"time","event":"daemon.message","message"}` (the text format carries no
 * event names); anything else is kept whole as `{"event":"log.unparsed","message"}`.
 */
export function logLineAsJson(line: string): string {
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
  const ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
  return JSON.stringify({ time: rfc3339Local(ms), event: "daemon.message", message });
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
