/** The store port over the town's files: slots, heartbeat files, rigs, agent flags, state.json, daemon/supervise/. */
import { readStamp } from "../agents/freshness.ts";
import { discoverRigs } from "../agents/rigs.ts";
import type { StorePort, SupervisionRead } from "../core/ports.ts";
import { errorText } from "../errors.ts";
import { HEARTBEAT_SLOT } from "../core/targets.ts";
import { agentOutsideTown, clearRequestFlag, verifyRequestFlag } from "../lifecycle/verify.ts";
import { listSlotDir, markConsumed, readSlot, recordSend } from "../slots.ts";
import { writeState } from "../state.ts";
import { isDirectory, outsideTown, safeUnlink } from "../store.ts";
import { superviseFiles, type SuperviseFiles } from "../supervise-files.ts";
import type { TownPaths } from "../town.ts";
import { defaultWhich, type Which } from "./deacon-session.ts";
import { join } from "node:path";

export interface TownStoreOptions {
  /** Looks the agent command up; injectable so tests need no real PATH. */
  which?: Which;
  /** The PATH the pane will search, read at each call (default: this process's PATH). */
  path?: () => string | undefined;
}

export function townStore(paths: TownPaths, opts: TownStoreOptions = {}): StorePort {
  const dir = paths.notificationsDir;
  const which = opts.which ?? defaultWhich;
  const PATH = opts.path ?? (() => process.env.PATH);
  const supervise = superviseFiles(paths);
  return {
    slotDirProblem: () => outsideTown(paths.root, dir),
    listSlotDir: () => listSlotDir(dir),
    readSlot: (session) => readSlot(dir, session, HEARTBEAT_SLOT),
    removeSlot: (name) => safeUnlink(join(dir, name)),
    recordSlot: (session, text, atMs) => recordSend(dir, session, HEARTBEAT_SLOT, text, atMs),
    consumeSlot: (session, atMs) => markConsumed(dir, session, HEARTBEAT_SLOT, atMs),
    readStamp,
    discoverRigs: () => discoverRigs(paths.root),
    agentFacts: (spec, action) => ({
      outside: agentOutsideTown(spec, paths.root),
      flag: verifyRequestFlag(spec.stateFile, action),
      workDirExists: isDirectory(spec.workDir),
    }),
    clearFlag: clearRequestFlag,
    saveState: (state) => writeState(paths.stateFile, state),
    findCommand: (command) => {
      const path = PATH();
      return { found: which(command, { PATH: path, cwd: paths.root }) !== null, PATH: path };
    },
    supervisionFiles: (identities) => readSupervision(supervise, identities),
    setHold: (identity, on) => supervise.setHold(identity, on),
    takeRequest: (identity, kind) => supervise.takeRequest(identity, kind),
  };
}

/** Everything observe needs from daemon/supervise/, in one go; never throws (a problem is a line). */
function readSupervision(files: SuperviseFiles, identities: readonly string[]): SupervisionRead {
  const problems: string[] = [];
  const where = files.problem();
  if (where) return { paused: new Set(), holds: new Set(), runs: new Map(), requests: [], problems: [where] };
  const { paused, problem } = files.readPaused();
  if (problem) problems.push(problem);
  const holds = new Set<string>();
  const runs = new Map<string, { runs: number; status: number }>();
  for (const id of identities) {
    if (files.holdExists(id)) holds.add(id);
    const exit = files.readExit(id);
    if (exit) runs.set(id, exit);
  }
  let requests: SupervisionRead["requests"] = [];
  try {
    requests = files.listRequests();
  } catch (err) {
    problems.push(`${files.requestsDir}: ${errorText(err)}`);
  }
  return { paused: new Set(paused), holds, runs, requests, problems };
}
