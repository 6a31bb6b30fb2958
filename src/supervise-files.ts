/**
 * The operator's side of supervision, as files under <town>/daemon/supervise/ (a 0700 directory gtd makes):
 * - `paused.json` {"paused": [identity, ...]}: written atomically by `gtd pause` / `gtd resume` only;
 * - `<identity>.hold`: while it exists the agent's in-pane loop does not start the agent (pause, hold);
 * - `<identity>.exit`: `<runs> <status>`, written by the in-pane loop after each run of the agent;
 * - `requests/<identity>.restart|reset`: empty markers from `gtd restart` / `gtd reset`, removed by the
 *   daemon once it has acted on them.
 * Agents run with broad permissions in the town, so the directory must resolve inside it (as
 * daemon/notifications must), names are created O_EXCL | O_NOFOLLOW, and every read is bounded and
 * schema-checked. An identity becomes a file name only in its canonical form (or `deacon`).
 */
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { exitFile as loopExitFile, holdFile as loopHoldFile, superviseDir } from "./core/agent-loop.ts";
import { resolveAgent } from "./core/identity.ts";
import { GtdError, errorText } from "./errors.ts";
import { quote } from "./quote.ts";
import { outsideTown, readJson, readText, writeJsonAtomic } from "./store.ts";
import type { TownPaths } from "./town.ts";

export type RequestKind = "restart" | "reset";
export const REQUEST_KINDS: readonly RequestKind[] = ["restart", "reset"];

export const DEACON_IDENTITY = "deacon";

/** What a loop last wrote: runs it started since the pane began, and the last run's exit status. */
export interface LoopExit {
  runs: number;
  status: number;
}

/** `<runs> <status>\n` as the loop's printf writes it; a few bytes, so a larger file is not the loop's. */
const EXIT_CAP_BYTES = 64;
/** More request files than any town has agents: a directory flooded with names is read only this far. */
const MAX_REQUEST_NAMES = 1000;

const EXIT_TEXT = /^(\d{1,9}) (\d{1,3})\n?$/;
export const ExitFileSchema = v.pipe(
  v.string(),
  v.regex(EXIT_TEXT, "expected `<runs> <status>`"),
  v.transform((s) => {
    const m = EXIT_TEXT.exec(s)!;
    return { runs: Number(m[1]), status: Number(m[2]) };
  }),
  v.check((e) => e.status <= 255, "an exit status is 0 to 255"),
);

export const PausedFileSchema = v.object({ paused: v.array(v.string()) });
export type PausedFile = v.InferOutput<typeof PausedFileSchema>;

/** Why `identity` cannot name a supervision file, or null: only `deacon` and canonical agent identities can. */
export function fileIdentityProblem(identity: string, townRoot: string): string | null {
  if (identity === DEACON_IDENTITY) return null;
  const spec = resolveAgent(identity, townRoot);
  if ("error" in spec) return spec.error;
  // The canonical form only: `gastown/witness` and `gastown-witness` must not be two files for one agent.
  return spec.identity === identity ? null : `${quote(identity)} is not in canonical form (${spec.identity})`;
}

function requireFileIdentity(identity: string, townRoot: string): void {
  const why = fileIdentityProblem(identity, townRoot);
  if (why) throw new GtdError("IDENTITY", `refusing supervision file for ${quote(identity)}: ${why}`);
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

export interface SuperviseFiles {
  dir: string;
  pausedFile: string;
  requestsDir: string;
  holdFile(identity: string): string;
  exitFile(identity: string): string;
  requestFile(identity: string, kind: RequestKind): string;
  /** Where pause and resume take turns: they read, change and write paused.json (src/supervise-intent.ts). */
  pausedLock: string;
  /** Why the directory must not be used (it leads outside the town), or null. */
  problem(): string | null;
  /** Make the directory (and requests/) 0700 inside the town, or throw a STORE error naming it. */
  ensureDir(): void;
  /** The paused identities, sorted; missing → []; corrupt → [] and the reason (bad entries alone are dropped). */
  readPaused(): { paused: string[]; problem: string | null };
  writePaused(list: readonly string[]): void;
  /** Create (on) or remove (off) the hold file; false when it already was so. */
  setHold(identity: string, on: boolean): boolean;
  /** Whether the hold file exists, as the loop's `[ -e ]` sees it. */
  holdExists(identity: string): boolean;
  /** What the loop last wrote, or null (none, or not the loop's format). */
  readExit(identity: string): LoopExit | null;
  listRequests(): Array<{ identity: string; kind: RequestKind }>;
  /** Create the request marker; false when one was already waiting (fine: one request is enough). */
  putRequest(identity: string, kind: RequestKind): boolean;
  /** Remove the request marker; false when it was not there. */
  takeRequest(identity: string, kind: RequestKind): boolean;
}

/**
 * Made by the daemon and `gtd tick` before any pass: the in-pane loops write each run's exit status
 * here and cannot make the directory themselves (0700, confined to the town); without it no exit is seen
 * and no crash loop is ever counted. A warning line when it cannot be made, else null.
 */
export function prepareSuperviseDir(paths: TownPaths): string | null {
  try {
    superviseFiles(paths).ensureDir();
    return null;
  } catch (err) {
    return `Warning: ${errorText(err)}; supervised agents' exits cannot be counted`;
  }
}

export function superviseFiles(paths: TownPaths): SuperviseFiles {
  const root = paths.root;
  // The same names the in-pane loop is given (core/agent-loop.ts): what it waits on and writes.
  const dir = superviseDir(paths.daemonDir);
  const requestsDir = join(dir, "requests");
  const holdFile = (id: string) => loopHoldFile(paths.daemonDir, id);
  const exitFile = (id: string) => loopExitFile(paths.daemonDir, id);
  const requestFile = (id: string, kind: RequestKind) => join(requestsDir, `${id}.${kind}`);
  const problem = () => outsideTown(root, requestsDir);

  /** The directory (and requests/) made 0700 inside the town, or a STORE error naming it. */
  function ensureDir(): void {
    // Checked before mkdir too: daemon/ linked out of the town must not get a directory made there.
    const before = problem();
    if (before) throw refusing(before);
    mkdirSync(paths.daemonDir, { recursive: true, mode: 0o755 });
    for (const d of [dir, requestsDir]) {
      try {
        mkdirSync(d, { mode: 0o700 });
      } catch (err) {
        if (errno(err) !== "EEXIST") throw err;
      }
    }
    const after = problem();
    if (after) throw refusing(after);
  }
  const refusing = (why: string) =>
    new GtdError("STORE", `refusing ${dir}: ${why}`, "daemon/supervise must be a directory inside the town; remove the link");

  /**
   * Create an empty marker file; false when a regular file is already there. Anything else in its place
   * (a link, which the loop's `[ -e ]` would follow, a FIFO) is replaced; a directory is refused.
   */
  function createMarker(path: string): boolean {
    for (let attempt = 0; ; attempt++) {
      try {
        closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600));
        return true;
      } catch (err) {
        if (errno(err) !== "EEXIST" || attempt > 0) throw err;
      }
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st?.isFile()) return false;
      if (st?.isDirectory()) throw new GtdError("STORE", `${path} is a directory, not a marker file`, "remove it");
      removeMarker(path);
    }
  }

  function removeMarker(path: string): boolean {
    try {
      unlinkSync(path);
      return true;
    } catch (err) {
      if (errno(err) === "ENOENT") return false;
      if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new GtdError("STORE", `${path} is a directory, not a marker file`, "remove it");
      throw err;
    }
  }

  return {
    dir,
    pausedFile: join(dir, "paused.json"),
    pausedLock: join(dir, "paused.lock"),
    requestsDir,
    holdFile,
    exitFile,
    requestFile,
    problem,
    ensureDir,
    readPaused() {
      const where = problem();
      if (where) return { paused: [], problem: where };
      const res = readJson(join(dir, "paused.json"), PausedFileSchema);
      if (res.kind === "missing") return { paused: [], problem: null };
      if (res.kind === "corrupt") return { paused: [], problem: `${join(dir, "paused.json")}: ${res.reason}` };
      const bad = res.value.paused.filter((id) => fileIdentityProblem(id, root) !== null);
      const paused = [...new Set(res.value.paused.filter((id) => !bad.includes(id)))].sort();
      const why = bad.length ? `${join(dir, "paused.json")}: ignoring ${bad.map((b) => quote(b)).join(", ")} (not an agent identity)` : null;
      return { paused, problem: why };
    },
    writePaused(list) {
      for (const id of list) requireFileIdentity(id, root);
      ensureDir();
      writeJsonAtomic(join(dir, "paused.json"), { paused: [...new Set(list)].sort() });
    },
    setHold(identity, on) {
      requireFileIdentity(identity, root);
      if (!on) {
        // Nothing to remove when the directory is not there; a directory outside the town is not touched.
        const where = problem();
        if (where) throw refusing(where);
        return removeMarker(holdFile(identity));
      }
      ensureDir();
      return createMarker(holdFile(identity));
    },
    holdExists(identity) {
      if (fileIdentityProblem(identity, root) || problem()) return false;
      return existsSync(holdFile(identity));
    },
    readExit(identity) {
      if (fileIdentityProblem(identity, root) || problem()) return null;
      let text: string | null;
      try {
        text = readText(exitFile(identity), { maxBytes: EXIT_CAP_BYTES });
      } catch {
        return null;
      }
      if (text === null) return null;
      const parsed = v.safeParse(ExitFileSchema, text);
      return parsed.success ? parsed.output : null;
    },
    listRequests() {
      if (problem()) return [];
      let names: string[];
      try {
        names = readdirSync(requestsDir).slice(0, MAX_REQUEST_NAMES).sort();
      } catch {
        return [];
      }
      const out: Array<{ identity: string; kind: RequestKind }> = [];
      for (const name of names) {
        const dot = name.lastIndexOf(".");
        const identity = name.slice(0, dot);
        const kind = name.slice(dot + 1) as RequestKind;
        if (dot <= 0 || !REQUEST_KINDS.includes(kind) || fileIdentityProblem(identity, root)) continue;
        if (lstatSync(join(requestsDir, name), { throwIfNoEntry: false })?.isFile()) out.push({ identity, kind });
      }
      return out;
    },
    putRequest(identity, kind) {
      requireFileIdentity(identity, root);
      ensureDir();
      return createMarker(requestFile(identity, kind));
    },
    takeRequest(identity, kind) {
      requireFileIdentity(identity, root);
      const where = problem();
      if (where) throw refusing(where);
      return removeMarker(requestFile(identity, kind));
    },
  };
}

