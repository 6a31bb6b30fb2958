/**
 * Atomic file writes (temp file in the same directory, fsync, rename) and schema-checked JSON reads.
 * A reader never sees a half-written file, and a file someone else corrupted is reported, not fatal.
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as v from "valibot";

export type ReadResult<T> =
  | { kind: "missing" }
  | { kind: "ok"; value: T }
  | { kind: "corrupt"; reason: string };

let tempCounter = 0;

/** The temp files writeFileAtomic makes: `.<name>.<pid>.<n>.tmp`, next to the file they become. */
const TEMP_NAME = /^\..+\.\d+\.\d+\.tmp$/;

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Keep in step with TEMP_NAME: removeStaleTemps finds what a crash between open and rename left.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tempCounter}.tmp`);
  const fd = openSync(tmp, "w", mode);
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

export function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Read and validate a JSON file. Missing → `missing`; unreadable, bad JSON or wrong shape → `corrupt`. */
export function readJson<S extends v.GenericSchema>(path: string, schema: S): ReadResult<v.InferOutput<S>> {
  let text: string | null;
  try {
    text = readText(path);
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

/** valibot issues as one short line: `field.path: message`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return "invalid";
  const path = v.getDotPath(first);
  return path ? `${path}: ${first.message}` : first.message;
}

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

/** An existing directory (symlinks followed); false on any error. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
