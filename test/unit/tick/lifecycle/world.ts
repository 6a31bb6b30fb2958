/**
 * Small fakes for the processLifecycle tests: one World (inbox, tmux, clock, log) shared across passes,
 * Ports over it (the real town store over a temp dir, its state.json saves counted), a lifecycle pass
 * (runLifecyclePass: observe → decide → apply) that reads state.json back as a restarted daemon would,
 * and the mayor's flags file. useLifecycleTown() gives each test of the calling file a fresh town.
 */
import { afterEach, beforeEach } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultConfig } from "../../../../src/config/index.ts";
import { ledgerToJson, loadLedger, type RequestEntry, type RequestEntryJson } from "../../../../src/core/ledger.ts";
import type { MailMessage, Ports } from "../../../../src/ports.ts";
import { readState, type DaemonState } from "../../../../src/state.ts";
import { Memory, newTickContext, type TickContext } from "../../../../src/tick/context.ts";
import { runLifecyclePass } from "../../../../src/tick/pipeline.ts";
import { townPaths } from "../../../../src/town.ts";
import { fakeStore } from "../../../helpers/fake-ports.ts";

export const T0 = Date.UTC(2025, 11, 20, 18, 0, 0);
export const MIN = 60_000;

/** The current test's town and its mayor's state.json (set by the beforeEach that useLifecycleTown registers). */
export let town: string;
export let mayorState: string;
let writes = 0;

/** Registers, for the calling file, a beforeEach that makes a fresh town with a mayor/ dir and an afterEach that removes it. */
export function useLifecycleTown(): void {
  beforeEach(() => {
    town = mkdtempSync(join(tmpdir(), "gtd-lstep-"));
    mkdirSync(join(town, "mayor"));
    mayorState = join(town, "mayor", "state.json");
    writes = 0;
  });
  afterEach(() => {
    rmSync(town, { recursive: true, force: true });
  });
}

/** How many times state.json was written in this test so far (each pass's own save included). */
export const stateWrites = (): number => writes;

/** The world the fakes share across passes: one inbox, one tmux, one clock, one log. */
export class World {
  now = T0;
  inbox: MailMessage[] = [];
  skipped: string[] = [];
  inboxError: Error | null = null;
  closeError: Error | null = null;
  closed: string[] = [];
  sessions = new Set<string>();
  /** tmux writes only: `kill <s>`, `new <s>`, `send <s>`. */
  tmux: string[] = [];
  lines: string[] = [];
  /** Hooks to look at (or change) the world mid-pass. */
  onInbox = () => {};
  onNewSession = () => {};
  onClose = (_id: string) => {};
}
export const world = () => new World();

export function ports(w: World): Ports {
  const listed = () => new Map([...w.sessions].map((name) => [name, { name, paneDead: false, paneCommand: "claude" }]));
  const store = fakeStore(town);
  return {
    clock: { now: () => w.now },
    sleep: async () => {},
    log: (m) => void w.lines.push(m),
    run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false, notFound: false }),
    mailbox: {
      inbox: async () => {
        w.onInbox();
        if (w.inboxError) throw w.inboxError;
        return { messages: w.inbox.map((m) => ({ ...m })), skipped: [...w.skipped] };
      },
      close: async (id) => {
        w.onClose(id);
        if (w.closeError) throw w.closeError;
        w.closed.push(id);
        w.inbox = w.inbox.filter((m) => m.id !== id);
      },
      send: async () => {},
    },
    tmux: {
      sessions: async () => listed(),
      hasSession: async (n) => w.sessions.has(n),
      killSession: async (n) => {
        w.tmux.push(`kill ${n}`);
        w.sessions.delete(n);
      },
      newSession: async (spec) => {
        w.tmux.push(`new ${spec.name}`);
        w.onNewSession();
        w.sessions.add(spec.name);
        return { ok: true };
      },
      poke: async (n) => void w.tmux.push(`poke ${n}`),
      sendLine: async (n) => void w.tmux.push(`send ${n}`),
      sessionsAndClients: async () => ({ sessions: listed(), clients: [] }),
      respawnPane: async (p) => (w.tmux.push(`respawn ${p}`), { ok: true }),
      pokeVerified: async (n) => (w.tmux.push(`poke ${n}`), { kind: "consumed" }),
    },
    procs: { agentUnder: () => null, agentsUnder: (qs) => qs.map(() => null) },
    store: {
      ...store,
      saveState: (s) => {
        writes += 1;
        store.saveState(s);
      },
    },
  };
}

/**
 * One lifecycle pass as the daemon runs it (processLifecycle, then the pass's save of state.json). Each
 * call reads state.json back, as a restarted daemon would (its load warnings logged, as the daemon logs
 * them), unless `state` is given.
 */
export async function pass(w: World, o: { memory?: Memory; dryRun?: boolean; signal?: AbortSignal; state?: DaemonState } = {}): Promise<TickContext> {
  const paths = townPaths(town);
  const p = ports(w);
  let state = o.state;
  if (!state) {
    const read = readState(paths.stateFile, w.now);
    for (const line of read.notes) p.log(line);
    state = read.state;
  }
  const ctx = newTickContext({
    ports: p,
    config: defaultConfig(),
    paths,
    state,
    dryRun: o.dryRun ?? false,
    memory: o.memory ?? new Memory(),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return runLifecyclePass(ctx);
}

/** The ledger in its file form (`attempts`, `first_seen`, `last_error`, `done`), as read back from state.json. */
export const diskLedger = (): Record<string, RequestEntryJson> => ledgerToJson(readState(townPaths(town).stateFile, T0).state.requests);
/** A ledger from its file form, for a state a test starts from. */
export const ledger = (json: Record<string, unknown>): Map<string, RequestEntry> => loadLedger(json).entries;
/** Write state.json with these `requests` as they are (a corrupt entry included). */
export function saveLedgerFile(json: Record<string, unknown>): void {
  const file = townPaths(town).stateFile;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ running: false, pid: 0, heartbeat_count: 0, requests: json }));
}
export const flags = (obj: Record<string, unknown>) => writeFileSync(mayorState, JSON.stringify(obj));
export const readFlags = () => JSON.parse(readFileSync(mayorState, "utf8"));
export const msg = (id: string, title: string, extra: Partial<MailMessage> = {}): MailMessage => ({ id, title, status: "open", ...extra });
