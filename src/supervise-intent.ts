/**
 * The operator's intent, as `gtd pause`, `resume`, `restart` and `reset` record it in daemon/supervise/
 * (src/supervise-files.ts) for the daemon to act on. Agents are named by identity (`deacon` is the Deacon);
 * the known ones are the Deacon plus config supervise.agents. Each command writes its files first and then
 * wakes a running daemon (SIGUSR1) so it acts at once instead of at its next heartbeat.
 */
import { resolveAgent } from "./core/identity.ts";
import { tryLock } from "./daemon/lock.ts";
import { GtdError, errorText } from "./errors.ts";
import { quote } from "./quote.ts";
import { DEACON_IDENTITY, superviseFiles, type RequestKind } from "./supervise-files.ts";
import type { TownPaths } from "./town.ts";

export interface Operator {
  paths: TownPaths;
  /** The supervised identities, the Deacon first (supervisedIdentities). */
  known: readonly string[];
  say: (line: string) => void;
  /** SIGUSR1 to the town's daemon; its PID, or a GtdError (NOT_RUNNING when there is none). */
  signal: () => number;
}

/** `all`: every supervised agent (pause) or every paused one (resume). */
export type Target = { agent: string } | "all";

/** The Deacon, then supervise.agents (canonical already: config checks them), without repeating the Deacon. */
export function supervisedIdentities(agents: readonly string[]): string[] {
  return [DEACON_IDENTITY, ...agents.filter((a) => a !== DEACON_IDENTITY)];
}

/**
 * The canonical identity `name` stands for, if it is one of `among`; else an error that names the agents
 * gtd knows. Any form lifecycle accepts works (`gastown/witness`, `Mayor`); `deacon` in any case.
 */
export function resolveKnown(name: string, among: readonly string[], townRoot: string): string {
  const parsed = name.toLowerCase() === DEACON_IDENTITY ? { identity: DEACON_IDENTITY } : resolveAgent(name, townRoot);
  if (!("error" in parsed) && among.includes(parsed.identity)) return parsed.identity;
  const why = "error" in parsed ? ` (${parsed.error})` : "";
  throw new GtdError("IDENTITY", `unknown agent ${quote(name)}${why}: gtd supervises ${among.join(", ")}`, "name one of them, or add it to supervise.agents in daemon/config.json");
}

const list = (ids: readonly string[]) => ids.join(", ");

/** A pause or resume holds the lock for a few milliseconds; waiting this long means one is stuck. */
const PAUSED_LOCK_WAIT_MS = 5000;
/** How often to try again meanwhile: short next to the wait, long next to a holder's few milliseconds. */
const PAUSED_LOCK_RETRY_MS = 20;

/**
 * Run `fn` holding daemon/supervise/paused.lock (flock: the kernel releases it if we die), so two
 * pauses or resumes at once (a script's `gtd pause a & gtd pause b`) cannot lose one's change to
 * paused.json. The daemon only reads the file, which is replaced whole, so it never needs the lock.
 */
async function withPausedLock(o: Operator, fn: () => void): Promise<void> {
  const files = superviseFiles(o.paths);
  files.ensureDir();
  const deadline = Date.now() + PAUSED_LOCK_WAIT_MS;
  for (;;) {
    const lock = tryLock(files.pausedLock);
    if (lock) {
      try {
        return fn();
      } finally {
        lock.release();
      }
    }
    if (Date.now() > deadline) throw new GtdError("STORE", `${files.pausedLock} is still held by another gtd pause or resume`, "try again");
    await new Promise((r) => setTimeout(r, PAUSED_LOCK_RETRY_MS));
  }
}

/**
 * Wake the daemon after a pause or resume. None running is fine: the files are the record, and a daemon
 * reads them at every pass, so the intent holds from its first one.
 */
function wake(o: Operator, whenNot: string): void {
  try {
    o.say(`✓ Signalled the daemon (PID ${o.signal()}): it acts now`);
  } catch (err) {
    if (err instanceof GtdError && err.code === "NOT_RUNNING") o.say(`○ The daemon is not running: ${whenNot}`);
    else o.say(`○ Could not signal the daemon (${errorText(err)}): it acts at its next heartbeat`);
  }
}

/** Add to paused.json and create the hold files at once, so the in-pane loops stop even with no daemon. */
export async function pause(o: Operator, target: Target): Promise<void> {
  const files = superviseFiles(o.paths);
  const ids = target === "all" ? [...o.known] : [resolveKnown(target.agent, o.known, o.paths.root)];
  let before: string[] = [];
  await withPausedLock(o, () => {
    before = files.readPaused().paused;
    const added = ids.filter((id) => !before.includes(id));
    if (added.length) files.writePaused([...before, ...added]);
    // Also for one already paused: its hold may have gone with a crash between the two writes.
    for (const id of ids) files.setHold(id, true);
  });
  const added = ids.filter((id) => !before.includes(id));
  const was = ids.filter((id) => before.includes(id));
  if (added.length) {
    o.say(`✓ Paused ${list(added)}: not created, restarted or poked until gtd resume${was.length ? ` (${list(was)} already paused)` : ""}`);
    o.say("  A running agent keeps running; when it exits, it is not started again");
    wake(o, "the pause holds from its start");
  } else o.say(`✓ ${list(ids)} ${ids.length === 1 ? "was" : "were"} already paused`);
}

/**
 * Remove from paused.json; the daemon removes the hold file at its next pass unless it holds the agent
 * itself (a crash loop), which only it knows. So with no daemon running, the agent stays stopped.
 */
export async function resume(o: Operator, target: Target): Promise<void> {
  const files = superviseFiles(o.paths);
  // Resuming works for an agent no longer in supervise.agents too: it may have been paused before it left.
  // Named before anything is written, so a mistyped name changes nothing.
  const one = target === "all" ? null : resolveKnown(target.agent, [...new Set([...o.known, ...files.readPaused().paused])], o.paths.root);
  let ids: string[] = [];
  let removed: string[] = [];
  await withPausedLock(o, () => {
    const { paused: before, problem } = files.readPaused();
    if (problem) o.say(`○ ${problem}`);
    ids = one === null ? before : [one];
    removed = ids.filter((id) => before.includes(id));
    if (removed.length) files.writePaused(before.filter((id) => !removed.includes(id)));
  });
  if (!removed.length) {
    o.say(target === "all" ? "✓ No agent was paused" : `✓ ${ids[0]} was not paused`);
    return;
  }
  o.say(`✓ Resumed ${list(removed)}: the daemon brings ${removed.length === 1 ? "it" : "them"} back at its next pass`);
  wake(o, `${removed.length === 1 ? "it comes" : "they come"} back when it starts (gtd start)`);
}

const ASKED: Record<RequestKind, (id: string) => string> = {
  restart: (id) => `restart ${id} now (its own pane; a crash-loop hold is cleared)`,
  reset: (id) => `reset ${id}: restart delay back to base, crash-loop count and hold cleared`,
};

/**
 * Leave requests/<identity>.<kind> for the daemon and wake it. With no daemon running this fails (exit 3)
 * and leaves nothing behind: an operator's restart means now, and one that fired whenever a daemon next
 * started, perhaps hours later and after the agent was fixed by hand, would surprise; a daemon that starts
 * creates a missing agent anyway. (`gtd request`, an agent's own handoff, waits instead: it is mail.)
 */
export function request(o: Operator, agent: string, kind: RequestKind): void {
  const files = superviseFiles(o.paths);
  const id = resolveKnown(agent, o.known, o.paths.root);
  if (kind === "restart" && files.readPaused().paused.includes(id)) {
    throw new GtdError("LIFECYCLE", `${id} is paused: a paused agent is never restarted`, `gtd resume ${id} first`);
  }
  const created = files.putRequest(id, kind);
  let pid: number;
  try {
    pid = o.signal();
  } catch (err) {
    // Ours to take back; one that was already waiting was someone else's and stays.
    if (created) files.takeRequest(id, kind);
    if (err instanceof GtdError && err.code === "NOT_RUNNING") {
      throw new GtdError("NOT_RUNNING", `daemon is not running: nothing would ${kind} ${id}`, err.hint);
    }
    throw err;
  }
  o.say(`✓ Asked the daemon (PID ${pid}) to ${ASKED[kind](id)}`);
  o.say("  gtd logs shows what it did; gtd status shows the agent");
}
