/**
 * ensureDeacon: make sure the Deacon's session exists (reference §5.1), decided from the one session list
 * of this pass, never from a prefix-matching has-session (§12 defect 9).
 *
 * Beyond the original: a session whose pane is dead is left to supervise, which re-spawns that pane only
 * (defect 21); a paused Deacon is not created (the one gate, supervise.ts); a failed session list
 * creates nothing (creating blindly could fight a session we simply cannot see); a "duplicate session"
 * answer means someone (`gt up`) created it meanwhile, which is success; and an agent command missing
 * from the PATH is said once, not every heartbeat. The session is still created then: the loop retries,
 * so installing the command later is enough, and the user can attach and see why.
 */
import { gateRefusal } from "./supervise.ts";
import { DEACON, deaconAgent } from "./supervise-set.ts";
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
  // A session exists: running, or a dead pane that supervise re-spawns (its own pane only).
  if (d.sessions.has(session)) return;
  if (d.stopping) return;
  const refused = gateRefusal(d, DEACON);
  if (refused) {
    if (d.memory.shouldSay(`ensureDeacon:refused:${refused}`, d.nowMs)) say(d, STEP, "refused", `Not starting the Deacon: ${refused}`);
    return;
  }
  yield* create(d, "Deacon session not running, starting...");
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

/** Create the session (with the supervised loop); `announce` is the line logged first. */
function* create(d: Draft, announce: string): Decide {
  const { session, command } = d.config.deacon;
  const spec = deaconAgent(d.config, d.paths).spec;
  const data = { session, cwd: spec.cwd, command };
  const start: Note = { action: "starting", message: announce, data };
  const plan: Note = { action: "would-create", message: `Deacon session not running, would start ${session} (dry run: not created)`, data };
  const out = yield* act(d, {
    kind: "newSession",
    spec,
    step: STEP,
    exclusive: true,
    start,
    plan,
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
