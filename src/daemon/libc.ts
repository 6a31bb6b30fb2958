/**
 * The two libc calls gtd needs that Node's API lacks: flock(2) for the single-instance lock and dup2(2)
 * to point stderr at a freshly rotated log. bun:ffi works inside a compiled binary.
 */
import { closeSync } from "node:fs";
import { openAppendSafe } from "../log.ts";

type Libc = { flock(fd: number, op: number): number; dup2(oldFd: number, newFd: number): number };
let libc: Libc | null = null;

const CANDIDATES: Record<string, string[]> = {
  darwin: ["libc.dylib", "libSystem.B.dylib"],
  // glibc, then musl (Alpine) by its own names.
  linux: ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"],
};

/** The names libc goes by on this platform, most likely first (unix-datagram.ts opens it too). */
export function libcCandidates(): string[] {
  return CANDIDATES[process.platform] ?? CANDIDATES.linux!;
}

export function getLibc(): Libc {
  if (libc) return libc;
  const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
  let lastErr: unknown;
  for (const name of libcCandidates()) {
    try {
      const lib = dlopen(name, {
        flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      });
      libc = {
        flock: (fd, op) => lib.symbols.flock(fd, op) as number,
        dup2: (a, b) => lib.symbols.dup2(a, b) as number,
      };
      return libc;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

/**
 * Point fd 2 at `path` (append), as a shell's `2>>path` would, but never through a link or at a file
 * that is not a plain one of ours. Best effort: never throws.
 */
export function redirectStderr(path: string): void {
  try {
    const fd = openAppendSafe(path);
    getLibc().dup2(fd, 2);
    closeSync(fd);
  } catch {
    // Keep the old stderr rather than none.
  }
}
