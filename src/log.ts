/**
 * daemon/daemon.log in the original's format (`YYYY/MM/DD HH:MM:SS message`, one line per decision),
 * rotated by size (daemon.log → daemon.log.1 → …), optionally mirrored to stderr under --foreground.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { formatLogStamp, localOffsetMin } from "./gotime.ts";
import type { Clock, Log } from "./ports.ts";

export interface FileLogOptions {
  path: string;
  maxBytes: number;
  /** Files kept in all, the current one included. */
  files: number;
  clock: Clock;
  mirror?: ((line: string) => void) | undefined;
  /** Called after each rotation, once the new file exists (the daemon re-points its stderr at it). */
  onRotate?: (() => void) | undefined;
  /** "text": the original's lines (default); "json": one object per line (jsonLogLine). */
  format?: LogFormat;
}

export type LogFormat = "text" | "json";

export interface FileLog {
  log: Log;
  /** Apply new rotation limits and format (SIGHUP reload). */
  configure(maxBytes: number, files: number, format?: LogFormat): void;
}

export function rotatedName(path: string, n: number): string {
  return `${path}.${n}`;
}

/**
 * Append-only, never through a link (a planted daemon.log symlink once made gtd append to a file outside
 * the town), never blocking on a FIFO. O_CLOEXEC is set by the runtime.
 */
const OPEN_APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Thrown by openAppendSafe when the path is not a plain file gtd may append to. */
export class UnsafeFileError extends Error {
  override name = "UnsafeFileError";
  constructor(
    readonly path: string,
    /** What it is instead: `a symbolic link`, `not a regular file`, ... */
    readonly what: string,
  ) {
    super(`${path} is ${what}`);
  }
}

/**
 * Open `path` for appending, as `>>` would, but only if it is a regular file with no other name: not a
 * symlink (ELOOP under O_NOFOLLOW), not a FIFO or device, not a hard link to a file elsewhere. Throws an
 * UnsafeFileError naming the path and what it is; other errors (ENOENT, EACCES, ENOSPC) as they come.
 */
export function openAppendSafe(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, OPEN_APPEND, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENXIO: a FIFO with no reader (O_NONBLOCK); it is no log either.
    if (code === "ELOOP") throw new UnsafeFileError(path, "a symbolic link");
    if (code === "ENXIO") throw new UnsafeFileError(path, "not a regular file");
    throw err;
  }
  const st = fstatSync(fd);
  const what = !st.isFile() ? "not a regular file" : st.nlink > 1 ? `a file with ${st.nlink} names (a hard link)` : null;
  if (what) {
    closeSync(fd);
    throw new UnsafeFileError(path, what);
  }
  return fd;
}

export function createFileLog(opts: FileLogOptions): FileLog {
  let { maxBytes, files } = opts;
  let format: LogFormat = opts.format ?? "text";
  mkdirSync(dirname(opts.path), { recursive: true, mode: 0o755 });
  // Where lines go while the file is refused: the mirror, or else stderr (launched by `gtd start`, the
  // log file gtd itself opened at start-up, safely).
  const fallback = opts.mirror ? null : (line: string) => void tryWrite(2, line);
  let refused: string | null = null;

  const rotate = () => {
    try {
      unlinkSync(rotatedName(opts.path, files - 1));
    } catch {
      // Nothing to drop yet.
    }
    for (let n = files - 2; n >= 1; n--) {
      try {
        renameSync(rotatedName(opts.path, n), rotatedName(opts.path, n + 1));
      } catch {
        // Gaps are fine.
      }
    }
    try {
      if (files > 1) renameSync(opts.path, rotatedName(opts.path, 1));
      else unlinkSync(opts.path);
    } catch {
      // Someone removed the log; start a new one.
    }
  };

  const log: Log = (message, event, data) => {
    // One decision, one line: a message never spans lines in the file. The mirror (a terminal, the
    // journal) always gets the readable form.
    const text = logLine(message, opts.clock.now());
    const line = format === "json" ? jsonLogLine(message, opts.clock.now(), event, data) : text;
    opts.mirror?.(text);
    let fd: number | null = null;
    try {
      fd = openAppendSafe(opts.path);
      // The size from the file itself, not a count of our own writes: the log may have been removed or
      // rotated by someone else meanwhile.
      const size = fstatSync(fd).size;
      const rotated = size > 0 && size + Buffer.byteLength(line) > maxBytes;
      if (rotated) {
        closeSync(fd);
        fd = null;
        rotate();
        fd = openAppendSafe(opts.path);
      }
      writeSync(fd, line);
      if (rotated) opts.onRotate?.();
      if (refused) {
        refused = null;
        log(`Log file ${opts.path} is a regular file again; writing to it`);
      }
    } catch (err) {
      if (err instanceof UnsafeFileError) {
        // Said once until it is fixed; never a crash, and never a write through the link.
        if (refused === null) {
          refused = err.message;
          const warn = logLine(`Warning: not writing to the log: ${err.message}; only to stderr until it is replaced by a regular file`, opts.clock.now());
          opts.mirror?.(warn);
          fallback?.(warn);
        }
        fallback?.(line);
      }
      // Anything else (a full disk, a removed directory) must not kill the daemon; the mirror has the line.
    } finally {
      if (fd !== null) closeSync(fd);
    }
  };

  return {
    log,
    configure(newMax, newFiles, newFormat) {
      maxBytes = newMax;
      files = newFiles;
      if (newFormat) format = newFormat;
    },
  };
}

function tryWrite(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // stderr closed: nowhere left to say it.
  }
}

/** Under `gtd start` (or systemd's StandardError=file:) stderr already is the log file. */
export function stderrIsFile(path: string): boolean {
  try {
    const a = fstatSync(2);
    const b = lstatSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * The longest message a log line carries. A backstop: callers clip what they echo at the source, but one
 * that forgets (a 30 MB config value, a 10,000-character rig name) must not make a line nobody can read
 * or grep, nor fill the log's rotation budget in one write. 2000 characters hold any real decision line
 * (the longest are errors quoting a command and its stderr tail) many times over.
 */
export const LOG_MESSAGE_CAP_CHARS = 2000;

/** `message` cut to LOG_MESSAGE_CAP_CHARS, then `… (N chars)` with its full length. */
export function capMessage(message: string): string {
  if (message.length <= LOG_MESSAGE_CAP_CHARS) return message;
  let end = LOG_MESSAGE_CAP_CHARS;
  // Never split a surrogate pair: half a character is not valid UTF-8 in the file.
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${message.slice(0, end)}… (${message.length} chars)`;
}

/** A line in the log's own format, for writing to a stderr that is the log (local time unless `offsetMin`). */
export function logLine(message: string, nowMs = Date.now(), offsetMin = localOffsetMin(nowMs)): string {
  return `${formatLogStamp(nowMs, offsetMin)} ${capMessage(message).replace(/[\r\n]+/g, " ")}\n`;
}

/** A decision's data in a JSON line is dropped past this: the message already says what happened. */
const JSON_DATA_CAP_CHARS = 4000;

/**
 * A JSON log line: `{"time","event","message"[,"data"]}`. `event` is stable for scripts: the step and
 * action of a decision (`pokeAgents.poked`), else `daemon.message`. The time is RFC 3339 with its offset.
 */
export function jsonLogLine(message: string, nowMs: number, event = "daemon.message", data?: Record<string, unknown>): string {
  const out: Record<string, unknown> = { time: rfc3339Local(nowMs), event, message: capMessage(message) };
  if (data) {
    const text = JSON.stringify(data);
    if (text !== undefined && text.length <= JSON_DATA_CAP_CHARS) out.data = data;
  }
  return `${JSON.stringify(out)}\n`;
}

/**
 * `2026-11-30T23:49:06+01:00`: local time, as the text log's stamps are, with the offset that says so.
 * `offsetMin` (minutes east of UTC) defaults to the local offset at `ms`.
 */
export function rfc3339Local(ms: number, offsetMin = localOffsetMin(ms)): string {
  const d = new Date(ms + offsetMin * 60_000);
  const pad = (n: number) => String(Math.abs(n)).padStart(2, "0");
  const zone = offsetMin === 0 ? "Z" : `${offsetMin > 0 ? "+" : "-"}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${zone}`;
}
