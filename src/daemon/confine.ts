/**
 * The daemon's own files stay inside the town. Agents run with broad permissions there, so daemon/ and
 * the files in it are untrusted names: daemon/ must resolve inside the town, and the log is opened only
 * as a regular file of ours (see openAppendSafe). Start-up refuses with one line naming the path.
 */
import { lstatSync } from "node:fs";
import { GtdError } from "../errors.ts";
import { openAppendSafe, UnsafeFileError } from "../log.ts";
import { outsideTown } from "../store.ts";
import type { TownPaths } from "../town.ts";

const CONFINE_HINT = "daemon/ must be a directory inside the town; remove the link";

/** Throws START_FAILED when daemon/ resolves outside the town (or is a link that resolves nowhere). */
export function confineDaemonDir(paths: TownPaths): void {
  let isLink = false;
  try {
    isLink = lstatSync(paths.daemonDir).isSymbolicLink();
  } catch {
    return; // missing: gtd creates it, inside the town
  }
  const why = outsideTown(paths.root, paths.daemonDir);
  if (why) throw new GtdError("START_FAILED", `refusing ${paths.daemonDir}: ${why}`, CONFINE_HINT);
  if (isLink) {
    try {
      lstatSync(`${paths.daemonDir}/.`);
    } catch {
      throw new GtdError("START_FAILED", `refusing ${paths.daemonDir}: a symbolic link that resolves to no directory`, CONFINE_HINT);
    }
  }
}

/** The log refusal at start-up, as a GtdError naming the path. */
export function unsafeLog(err: UnsafeFileError): GtdError {
  return new GtdError("START_FAILED", `refusing log file ${err.path}: it is ${err.what}`, "remove it; gtd logs only to a regular file of its own inside the town");
}

/** Open the log for appending at start-up: a descriptor, or a GtdError naming the path. */
export function openLogForStart(path: string): number {
  try {
    return openAppendSafe(path);
  } catch (err) {
    throw err instanceof UnsafeFileError ? unsafeLog(err) : err;
  }
}
