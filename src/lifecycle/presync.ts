/**
 * Pre-sync of a refinery or crew working tree before its agent is recreated (reference §7.5 step 1):
 * `git fetch origin`, `git pull --rebase origin <branch>`, then the mailbox sync command (`bd sync`).
 *
 * Fixes against the original: a dirty tree is not pulled (a rebase over someone's uncommitted work can
 * leave the tree mid-rebase, defect #26); the branch is the remote's default, not a hard-coded `main`;
 * every command has a timeout and stops on shutdown (defect #25). As in the original, each failure is a
 * warning and the restart goes on: a stale tree is better than no agent.
 */
import type { Runner, RunResult } from "../proc.ts";
import { describeFailure } from "../proc.ts";

export interface PresyncOptions {
  run: Runner;
  /** One log line (and decision) per call. */
  say: (action: string, message: string) => void;
  gitTimeoutMs: number;
  syncTimeoutMs: number;
  /** The mailbox.sync argv (`bd sync`), or null for none. */
  sync: string[] | null;
  signal: AbortSignal;
}

/**
 * A branch name as it may appear as a git argument: `/`-separated components of letters, digits, `.`,
 * `_`, `-`, none empty or starting with `-` or `.`, no `..`, at most 200 characters.
 */
function usableBranch(name: string): boolean {
  if (name.length === 0 || name.length > 200 || name.includes("..")) return false;
  return name.split("/").every((c) => /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(c));
}

// Never wait on a credential prompt: it would only end at the timeout.
// git's own credential prompt off; ssh cannot prompt either, as every subprocess runs without a
// controlling terminal (src/proc.ts), and a core.sshCommand in the user's git config stays in force.
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0" };

export async function presyncWorkspace(o: PresyncOptions, identity: string, dir: string): Promise<void> {
  o.say("presync", `Pre-syncing workspace for ${identity} at ${dir}`);
  const git = (args: string[]) =>
    o.run(["git", ...args], { cwd: dir, timeoutMs: o.gitTimeoutMs, env: GIT_ENV, signal: o.signal });
  const fail = (r: RunResult, timeoutMs: number) => describeFailure(r, timeoutMs);
  const stopped = () => {
    if (!o.signal.aborted) return false;
    o.say("presync-stopped", `Pre-sync of ${dir} cut short: shutting down`);
    return true;
  };

  const status = await git(["status", "--porcelain"]);
  if (stopped()) return;
  if (status.code !== 0) {
    // Unknown state: pulling could rebase over work we cannot see. The sync below still runs.
    o.say("presync-warning", `Warning: git status failed in ${dir}: ${fail(status, o.gitTimeoutMs)}; skipping git pull`);
  } else if (status.stdout.trim() !== "") {
    o.say("presync-skipped", `Skipping git pull in ${dir}: working tree has uncommitted changes`);
  } else {
    const fetch = await git(["fetch", "origin"]);
    if (stopped()) return;
    if (fetch.code !== 0) o.say("presync-warning", `Warning: git fetch failed in ${dir}: ${fail(fetch, o.gitTimeoutMs)}`);

    const branch = await defaultBranch(git, o, dir);
    if (stopped()) return;
    const pull = await git(["pull", "--rebase", "origin", branch]);
    if (stopped()) return;
    if (pull.code !== 0) o.say("presync-warning", `Warning: git pull failed in ${dir}: ${fail(pull, o.gitTimeoutMs)}`);
  }

  if (!o.sync) return;
  const sync = await o.run([...o.sync], { cwd: dir, timeoutMs: o.syncTimeoutMs, signal: o.signal });
  if (stopped()) return;
  if (sync.code !== 0) {
    // `bd sync` by default: the original's wording names it so.
    const label = o.sync.slice(0, 2).join(" ");
    o.say("presync-warning", `Warning: ${label} failed in ${dir}: ${fail(sync, o.syncTimeoutMs)}`);
  }
}

/** `origin/HEAD` → `main`; `main` with a log line when origin/HEAD is unset or unusable. */
async function defaultBranch(git: (args: string[]) => Promise<RunResult>, o: PresyncOptions, dir: string): Promise<string> {
  const r = await git(["symbolic-ref", "--short", "refs/remotes/origin/HEAD"]);
  const ref = r.stdout.trim();
  const branch = ref.startsWith("origin/") ? ref.slice("origin/".length) : "";
  if (r.code === 0 && usableBranch(branch)) return branch;
  const why = r.code !== 0 ? describeFailure(r, o.gitTimeoutMs) : `unexpected answer ${JSON.stringify(ref.slice(0, 80))}`;
  o.say("presync-default-branch", `Could not determine the default branch in ${dir} (${why}); using main`);
  return "main";
}
