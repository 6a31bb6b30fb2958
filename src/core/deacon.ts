/**
 * ensureDeacon: make sure the Deacon's session exists (reference §5.1), decided from the one session list
 * of this pass, never from a prefix-matching has-session (§12 defect 9).
 *
 * Beyond the original: a session whose pane is dead is killed and recreated (defect 21); a failed session
 * list creates nothing (creating blindly could fight a session we simply cannot see); a "duplicate
 * session" answer means someone (`gt up`) created it meanwhile, which is success; and an agent command
 * missing from the PATH is said once, not every heartbeat. The session is still created then: the loop
 * retries every 2 s, so installing the command later is enough, and the user can attach and see why.
 */
import { deaconSessionSpec } from "./deacon-session.ts";
import type { Note } from "./decision.ts";
import { act, say, type Decide, type Draft } from "./pass.ts";
import type { SessionInfo } from "./ports.ts";

const STEP = "ensureDeacon";
const ALIVE = (name: string, paneCommand = "bash"): SessionInfo => ({ name, paneDead: false, paneCommand });

export function* ensureDeacon(d: Draft): Decide {
  checkCommand(d);
  const session = d.config.deacon.session;
  if (d.sessions === null) {
    say(d, STEP, "error", `Error checking Deacon session: tmux session list failed, not creating ${session} blindly`);
    return;
  }
  const seen = d.sessions.get(session);
  if (seen && !seen.paneDead) return; // running: nothing to do, and nothing to say (as the original)
  if (d.stopping) return;
  if (seen) yield* replaceDead(d, seen);
  else yield* create(d, "Deacon session not running, starting...");
}

/** The agent command (argv[0]) must be findable; said once per command until it is found again. */
function checkCommand(d: Draft): void {
  const found = d.obs.deaconCommand;
  if (!found) return;
  const cmd = d.config.deacon.command[0] ?? "";
  const key = `ensureDeacon:command-missing:${cmd}`;
  if (found.found) {
    d.memory.forget(key); // so a later disappearance is reported again
    return;
  }
  if (!d.memory.shouldSay(key, d.nowMs)) return;
  const where = cmd.includes("/") ? "not found or not executable" : "not found on PATH";
  say(d, STEP, "command-missing", `Deacon command ${where}: ${cmd} (set deacon.command in daemon/config.json)`, {
    command: d.config.deacon.command,
    PATH: found.PATH ?? null,
  });
}

function notExclusive(d: Draft): void {
  say(d, STEP, "not-exclusive", `Not touching Deacon session ${d.config.deacon.session}: this process no longer holds the town's lock`);
}

function* replaceDead(d: Draft, seen: SessionInfo): Decide {
  const session = d.config.deacon.session;
  const why = `Deacon session ${session} has a dead pane (last command: ${seen.paneCommand || "unknown"}), recreating it`;
  const out = yield* act(d, {
    kind: "killSession",
    session,
    step: STEP,
    exclusive: true,
    start: { action: "recreating", message: why, data: { session } },
    plan: { action: "would-recreate", message: `${why} (dry run: not recreated)`, data: { session } },
  });
  if (!out.ok) {
    if (out.kind === "not-exclusive") notExclusive(d);
    else say(d, STEP, "error", `Error killing dead Deacon session: ${out.error}`);
    return;
  }
  d.sessions?.delete(session);
  yield* create(d, null);
}

/** Create the session; `announce` is the line logged first (null when the caller already explained). */
function* create(d: Draft, announce: string | null): Decide {
  const { session, command } = d.config.deacon;
  const spec = deaconSessionSpec(session, d.paths.root, command);
  const data = { session, cwd: spec.cwd, command };
  const start: Note | undefined = announce ? { action: "starting", message: announce, data } : undefined;
  // Replacing a dead pane was already planned in one line; a plain start is planned in its own.
  const plan: Note | undefined = announce ? { action: "would-create", message: `Deacon session not running, would start ${session} (dry run: not created)`, data } : undefined;
  const out = yield* act(d, {
    kind: "newSession",
    spec,
    step: STEP,
    exclusive: true,
    ...(start ? { start } : {}),
    ...(plan ? { plan } : {}),
    done: { action: "created", message: "Deacon session started successfully", data },
  });
  if (out.ok) {
    // The plan goes on as if it existed, so the pokes that follow see the session.
    d.sessions?.set(session, ALIVE(session));
    return;
  }
  if (out.kind === "not-exclusive") return notExclusive(d);
  if (out.kind === "duplicate") {
    say(d, STEP, "exists", `Deacon session ${session} was created meanwhile by someone else (e.g. gt up), leaving it`, data);
    d.sessions?.set(session, ALIVE(session, ""));
    return;
  }
  say(d, STEP, "error", `Error creating Deacon session: ${out.error}`, data);
}
