/** `gtd logs`: the last N lines, and follow that survives rotation (the file is renamed and recreated). */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

export function lastLines(path: string, n: number): string[] {
  // slice(-0) is slice(0): without this, `gtd logs -n 0` (which the CLI accepts) printed lines anyway.
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    // Read backwards in chunks until we have n lines: a 10 MB log is not read whole for 50 lines.
    // Count newlines in the raw bytes and decode once at the end: a chunk boundary can fall inside a
    // multi-byte character (the "µ" of a Go duration), which decoding chunk by chunk would mangle.
    let pos = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    const chunk = 64 * 1024;
    while (pos > 0 && newlines <= n) {
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

/** Print what is appended from `fromSize` on; reopen from the start when the file is rotated. */
export async function follow(path: string, write: (s: string) => void, signal: AbortSignal, pollMs = 200): Promise<void> {
  let ino = inode(path);
  let offset = ino === null ? 0 : statSync(path).size;
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, pollMs));
    const nowIno = inode(path);
    if (nowIno === null) continue;
    let size = statSync(path).size;
    if (nowIno !== ino || size < offset) {
      ino = nowIno;
      offset = 0;
    }
    if (size <= offset) continue;
    const fd = openSync(path, "r");
    try {
      size = fstatSync(fd).size;
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      write(buf.toString("utf8"));
    } finally {
      closeSync(fd);
    }
  }
}

function inode(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}
