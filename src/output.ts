/**
 * Standard output and error for every command and the daemon's mirror. Not `process.stdout`: the first
 * touch of `process.stdout` or `process.stderr` (even `.isTTY`) builds Node's stream machinery: a trivial
 * compiled binary costs 13.4 ms of CPU with `process.stdout.write`, 2.7–3.9 ms with a direct write; in
 * gtd, which leaves at once by `process.exit`, it was 1.3 ms of `--version` (BENCHMARKS.md).
 *
 * Writes are synchronous `write(2)`s: in order, complete before the next line of code, so a
 * `process.exit` anywhere (the daemon stepping down, a fatal error) loses nothing already written.
 * A reader that went away (`gtd status | head -1`) ends that stream quietly, as for any well-behaved CLI.
 */
import { fstatSync, writeSync } from "node:fs";

const closed = new Set<number>();
/** A non-blocking pipe that is full answers EAGAIN: wait this long and try again (see `writeAll`). */
const FULL_PIPE_WAIT_MS = 5;
/** ...at most this many times (10 s in all): a reader that stopped reading must not hold gtd forever. */
const FULL_PIPE_TRIES = 2000;
const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, text: string): void {
  if (text === "" || closed.has(fd)) return;
  let rest = Buffer.from(text);
  let tries = 0;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN" && ++tries < FULL_PIPE_TRIES) {
        Atomics.wait(pause, 0, 0, FULL_PIPE_WAIT_MS);
        continue;
      }
      // EPIPE (the reader left), EBADF (no such stream), or a reader that stopped: nothing more goes there.
      closed.add(fd);
      return;
    }
  }
}

/** Text to standard output, as given (no newline added). */
export function writeOut(text: string): void {
  writeAll(1, text);
}

/** Text to standard error, as given (no newline added). */
export function writeErr(text: string): void {
  writeAll(2, text);
}

/**
 * Is standard output a terminal (colours, tables)? A terminal is a character device, so a pipe or a file
 * (a hook script, a test) is answered by one fstat; only a character device is asked of node:tty, whose
 * import costs a command about 3 ms of CPU.
 */
export async function stdoutIsTerminal(): Promise<boolean> {
  try {
    if (!fstatSync(1).isCharacterDevice()) return false;
  } catch {
    return false; // no stdout at all
  }
  const { isatty } = await import("node:tty");
  return isatty(1);
}
