/**
 * daemon/daemon.log in the original's format (`YYYY/MM/DD HH:MM:SS message`, one line per decision),
 * rotated by size (daemon.log → daemon.log.1 → …), optionally mirrored to stderr under --foreground.
 */
import { appendFileSync, fstatSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { formatLogStamp } from "./gotime.ts";
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
}

export interface FileLog {
  log: Log;
  /** Apply new rotation limits (SIGHUP reload). */
  configure(maxBytes: number, files: number): void;
}

export function rotatedName(path: string, n: number): string {
  return `${path}.${n}`;
}

export function createFileLog(opts: FileLogOptions): FileLog {
  let { maxBytes, files } = opts;
  mkdirSync(dirname(opts.path), { recursive: true, mode: 0o755 });
  let size = currentSize(opts.path);

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
    size = 0;
  };

  const log: Log = (message) => {
    // One decision, one line: a message never spans lines in the file.
    const line = logLine(message, opts.clock.now());
    opts.mirror?.(line);
    try {
      const bytes = Buffer.byteLength(line);
      const rotated = size > 0 && size + bytes > maxBytes;
      if (rotated) rotate();
      appendFileSync(opts.path, line, { mode: 0o644 });
      if (rotated) opts.onRotate?.();
      size += bytes;
    } catch {
      // A full disk must not kill the daemon; the mirror (if any) still has the line.
    }
  };

  return {
    log,
    configure(newMax, newFiles) {
      maxBytes = newMax;
      files = newFiles;
    },
  };
}

function currentSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Under `gtd start` (or systemd's StandardError=file:) stderr already is the log file. */
export function stderrIsFile(path: string): boolean {
  try {
    const a = fstatSync(2);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** A line in the log's own format, for writing to a stderr that is the log. */
export function logLine(message: string, nowMs = Date.now()): string {
  return `${formatLogStamp(nowMs)} ${message.replace(/[\r\n]+/g, " ")}\n`;
}
