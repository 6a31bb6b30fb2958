/**
 * Atomic file writes (temp file in the same directory, fsync, rename) and schema-checked JSON reads.
 * A reader never sees a half-written file, and a file someone else corrupted is reported, not fatal.
 */
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import * as v from "valibot";
import { describeIssues } from "./issues.ts";
import { GtdError } from "./errors.ts";

export type ReadResult<T> =
  | { kind: "missing" }
  | { kind: "ok"; value: T }
  | { kind: "corrupt"; reason: string };

let tempCounter = 0;

/** The temp files writeFileAtomic makes: `.<name>.<pid>.<n>.tmp`, next to the file they become. */
const TEMP_NAME = /^\..+\.\d+\.\d+\.tmp$/;

/** The temp file of the `n`th write of this process (exported so tests can plant one in its way). */
export function tempPathFor(path: string, n: number): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${n}.tmp`);
}

/** How many writes this process has started (the `n` of the last temp name). */
export function tempWrites(): number {
  return tempCounter;
}

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Keep in step with TEMP_NAME: removeStaleTemps finds what a crash between open and rename left.
  const tmp = tempPathFor(path, ++tempCounter);
  // O_EXCL | O_NOFOLLOW: a name planted in advance (a symlink to a file outside the town) is refused,
  // never followed and truncated.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    safeUnlink(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    safeUnlink(tmp);
    throw err;
  }
  // fsync the directory so the rename itself survives a crash.
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

/** JSON with a 2-space indent unless `opts.indent` says otherwise (0: compact). */
export function writeJsonAtomic(path: string, value: unknown, opts: { indent?: number } = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, opts.indent ?? 2));
}

/**
 * Every file gtd reads is at most this big unless the caller says otherwise. The largest legitimate one
 * is state.json, whose request ledger and backoff entries are bounded far below this; a file past it is
 * not ours (or `/dev/zero` behind a name) and reading it whole would only cost memory.
 */
export const READ_CAP_BYTES = 16 * 1024 * 1024;

export interface ReadOptions {
  /** Refuse a larger file (default READ_CAP_BYTES). */
  maxBytes?: number;
  /**
   * Follow a symlink at the final name. Off by default: town files are written by agents, and a link
   * could make gtd trust (or act on) a file outside the town. The operator's config.json may be a link.
   */
  follow?: boolean;
}

/** What fstat found where a regular file was expected, for the one-line reason. */
function fileKind(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * The text of a regular file, or null when it does not exist. Never blocks and never reads without
 * bound: the file is opened non-blocking (a FIFO with no writer cannot freeze the event loop), checked
 * with fstat on that same descriptor (so it is the file we judged), and read up to the cap. Anything
 * but a regular file within the cap, or a symlink (unless `follow`), throws a STORE error naming it.
 */
export function readText(path: string, opts: ReadOptions = {}): string | null {
  const maxBytes = opts.maxBytes ?? READ_CAP_BYTES;
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.follow ? 0 : constants.O_NOFOLLOW);
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ELOOP") throw new GtdError("STORE", `${path} is a symbolic link, not read`, "gtd reads town files only as regular files");
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new GtdError("STORE", `${path} is ${fileKind(st)}, not a regular file`, "replace it with a regular file");
    if (st.size > maxBytes) throw tooLarge(path, st.size, maxBytes);
    // The size can change under us: read until EOF, but never past the cap.
    // One read for a file of the size fstat saw (+1 to see EOF), then 64 KiB at a time for growth.
    const chunkBytes = Math.min(Math.max(st.size + 1, 64 * 1024), maxBytes + 1);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkBytes);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooLarge(path, total, maxBytes);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function tooLarge(path: string, size: number, maxBytes: number): GtdError {
  return new GtdError("STORE", `${path} is larger than ${maxBytes} bytes (${size} read), not read`, "it cannot be a file gtd wrote");
}

/** Read and validate a JSON file. Missing → `missing`; unreadable, bad JSON or wrong shape → `corrupt`. */
export function readJson<S extends v.GenericSchema>(path: string, schema: S, opts: ReadOptions = {}): ReadResult<v.InferOutput<S>> {
  let text: string | null;
  try {
    text = readText(path, opts);
  } catch (err) {
    return { kind: "corrupt", reason: (err as Error).message };
  }
  if (text === null) return { kind: "missing" };
  return parseJsonText(text, schema);
}

export function parseJsonText<S extends v.GenericSchema>(text: string, schema: S): ReadResult<v.InferOutput<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: "corrupt", reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = v.safeParse(schema, raw);
  if (!parsed.success) return { kind: "corrupt", reason: describeIssues(parsed.issues) };
  return { kind: "ok", value: parsed.output };
}

export { describeIssues };

/** Move a corrupt file aside as `<name>.corrupt-<stamp>` so a person can look at it later. */
export function quarantine(path: string, nowMs: number): string | null {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, "-");
  const aside = `${path}.corrupt-${stamp}`;
  try {
    renameSync(path, aside);
    return aside;
  } catch {
    return null;
  }
}

/**
 * Remove the temp files writeFileAtomic left in `dir` (a process killed between writing and renaming)
 * that were last modified more than `olderThanMs` before `nowMs`. Only regular files named as ours
 * (`.<name>.<pid>.<n>.tmp`) are touched; the age bound spares a write another process has in flight.
 * Never throws: a directory that cannot be read, or a file that vanished meanwhile, is skipped.
 * Returns the paths removed.
 */
export function removeStaleTemps(dir: string, nowMs: number, olderThanMs: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isFile() || nowMs - st.mtimeMs <= olderThanMs) continue;
    } catch {
      continue;
    }
    if (safeUnlink(path)) removed.push(path);
  }
  return removed;
}

export function safeUnlink(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `path` is not inside the town, or null when it is: the real path of `path` (or of its deepest
 * existing ancestor, for a file about to be created) must lie under the real town root. Agents run with
 * broad permissions in the town, so a directory there may have been replaced by a symlink that leads
 * gtd to write, delete or trust files elsewhere; a symlink that stays inside the town is fine.
 */
export function outsideTown(root: string, path: string): string | null {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return `town root ${root} cannot be resolved`;
  }
  let probe = path;
  for (;;) {
    try {
      const real = realpathSync(probe);
      if (real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) return null;
      return `${probe} resolves to ${real}, outside the town ${realRoot}`;
    } catch {
      const parent = dirname(probe);
      if (parent === probe) return `${path} cannot be resolved`;
      probe = parent;
    }
  }
}

/** An existing directory (symlinks followed); false on any error. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
