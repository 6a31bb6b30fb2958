/**
 * The agent's side of a lifecycle request (what handoff hooks call): set the flag, send the mail,
 * then signal, in that order (the original signalled first, so its first pass failed verification).
 */
import { existsSync } from "node:fs";
import { resolveAgent } from "../core/identity.ts";
import { isDirectory, safeUnlink } from "../store.ts";
import { GtdError, errorText } from "../errors.ts";
import type { MailboxPort } from "../ports.ts";
import type { TownPaths } from "../town.ts";
import type { LifecycleAction } from "../core/parse.ts";
import { agentOutsideTown, clearRequestFlag, flagKey, setRequestFlag } from "./verify.ts";

export const ACTIONS: readonly LifecycleAction[] = ["cycle", "restart", "shutdown"];

export interface HandoffOptions {
  paths: TownPaths;
  action: string;
  identity: string;
  mailbox: MailboxPort;
  nowMs: number;
  /** Print one line per step. */
  say: (line: string) => void;
  /**
   * The running daemon's PID, null when none is running or its PID is unknown. Asked after the mail
   * is sent; injected, like signal, so lifecycle needs nothing from src/daemon/ (which imports it).
   */
  daemonPid: () => number | null;
  /** Sends SIGUSR1 to the verified daemon; injected so the core does not touch processes. */
  signal: (pid: number) => void;
}

export function lifecycleSubject(identity: string, action: LifecycleAction): string {
  return `LIFECYCLE: ${identity} requesting ${action}`;
}

export function lifecycleBody(identity: string, action: LifecycleAction, nowIso: string): string {
  return `Lifecycle request from ${identity}.\n\nAction: ${action}\nTime: ${nowIso}\n\nPlease verify state and execute lifecycle action.\n`;
}

export async function requestLifecycle(o: HandoffOptions): Promise<{ signalled: number | null }> {
  if (!(ACTIONS as readonly string[]).includes(o.action)) {
    throw new GtdError("USAGE", `unknown action "${o.action}"`, "use cycle, restart or shutdown");
  }
  const action = o.action as LifecycleAction;
  const spec = resolveAgent(o.identity, o.paths.root);
  if ("error" in spec) throw new GtdError("IDENTITY", spec.error, "--as takes mayor, <rig>-witness, <rig>-refinery or <rig>-crew-<name>");

  // A mistyped identity must not create an agent: its directories would appear, and the daemon would
  // then start an agent in an empty one.
  if (!isDirectory(spec.workDir)) {
    throw new GtdError("IDENTITY", `no agent ${spec.identity} in this town: ${spec.workDir} does not exist`, "check --as");
  }
  const escape = agentOutsideTown(spec, o.paths.root);
  if (escape) throw new GtdError("IDENTITY", `refusing to write ${spec.identity}'s state: ${escape}`, "agent directories must be inside the town, not symlinks out of it");
  const hadStateFile = existsSync(spec.stateFile);
  setRequestFlag(spec.stateFile, action, o.nowMs);
  o.say(`✓ Set ${flagKey(action)}=true in ${spec.stateFile}`);
  try {
    await o.mailbox.send("deacon/", lifecycleSubject(spec.identity, action), lifecycleBody(spec.identity, action, new Date(o.nowMs).toISOString()));
  } catch (err) {
    // No mail, no request: take the flag back so a later stray message cannot find it set (and leave
    // no state file behind where there was none).
    if (hadStateFile) clearRequestFlag(spec.stateFile, action);
    else safeUnlink(spec.stateFile);
    throw new GtdError("MAILBOX", `sending the request failed, flag cleared again: ${errorText(err)}`, (err as GtdError).hint);
  }
  o.say(`✓ Sent ${action} request to deacon/`);

  const pid = o.daemonPid();
  if (pid === null) {
    o.say("○ Daemon not running: the request waits for the next heartbeat");
    return { signalled: null };
  }
  try {
    o.signal(pid);
  } catch (err) {
    o.say(`○ Could not signal daemon (will be picked up at the next heartbeat): ${errorText(err)}`);
    return { signalled: null };
  }
  o.say(`✓ Signaled daemon (PID ${pid}) for immediate processing`);
  return { signalled: pid };
}

