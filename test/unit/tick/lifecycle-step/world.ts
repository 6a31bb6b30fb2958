/**
 * Small fakes for the processLifecycle tests: one World (inbox, tmux, clock, log) shared across passes,
 * Ports over it, a pass that reads state.json back as a restarted daemon would, and the mayor's flags
 * file. useLifecycleTown() gives each test of the calling file a fresh town, and counts state.json
 * writes (stateWrites()) with a spy on writeState, the one function that writes it.
 */
import { afterEach, beforeEach, spyOn, type Mock } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../../../src/config/index.ts";
import type { MailMessage, Ports } from "../../../../src/ports.ts";
import * as stateModule from "../../../../src/state.ts";
import { readState, type DaemonState } from "../../../../src/state.ts";
import { Memory, newTickContext, type TickContext } from "../../../../src/tick/context.ts";
import { processLifecycle } from "../../../../src/tick/lifecycle-step.ts";
import { runSteps, saveStateStep } from "../../../../src/tick/pipeline.ts";
import { townPaths } from "../../../../src/town.ts";

export const T0 = Date.UTC(2025, 11, 20, 18, 0, 0);
export const MIN = 60_000;

/** The current test's town and its mayor's state.json (set by the beforeEach that useLifecycleTown registers). */
export let town: string;
export let mayorState: string;

/** Registers, for the calling file, a beforeEach that makes a fresh town with a mayor/ dir and an afterEach that removes it. */
export function useLifecycleTown(): void {
  beforeEach(() => {
    town = mkdtempSync(join(tmpdir(), "gtd-lstep-"));
    mkdirSync(join(town, "mayor"));
    mayorState = join(town, "mayor", "state.json");
    writeSpy = spyOn(stateModule, "writeState");
  });
  afterEach(() => {
    writeSpy?.mockRestore();
    rmSync(town, { recursive: true, force: true });
  });
}

let writeSpy: Mock<typeof stateModule.writeState> | undefined;
/** How many times state.json was written in this test so far (each pass's own save included). */
export const stateWrites = (): number => writeSpy?.mock.calls.length ?? 0;

/** The world the fakes share across passes: one inbox, one tmux, one clock, one log. */
export class World {
  now = T0;
  inbox: MailMessage[] = [];
  inboxError: Error | null = null;
  closeError: Error | null = null;
  closed: string[] = [];
  sessions = new Set<string>();
  /** tmux writes only: `kill <s>`, `new <s>`, `send <s>`. */
  tmux: string[] = [];
  lines: string[] = [];
  /** Hooks to look at the world mid-action. */
  onNewSession = () => {};
  onClose = (_id: string) => {};
}
export const world = () => new World();

export function ports(w: World): Ports {
  return {
    clock: { now: () => w.now },
    sleep: async () => {},
    log: (m) => void w.lines.push(m),
    run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false, notFound: false }),
    mailbox: {
      inbox: async () => {
        if (w.inboxError) throw w.inboxError;
        return { messages: w.inbox.map((m) => ({ ...m })), skipped: [] };
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
      sessions: async () => new Map(),
      hasSession: async (n) => w.sessions.has(n),
      killSession: async (n) => {
        w.tmux.push(`kill ${n}`);
        w.sessions.delete(n);
      },
      newSession: async (spec) => {
        w.tmux.push(`new ${spec.name}`);
        w.onNewSession();
        w.sessions.add(spec.name);
      },
      poke: async (n) => void w.tmux.push(`poke ${n}`),
      sendLine: async (n) => void w.tmux.push(`send ${n}`),
    },
  };
}

/**
 * One pass as the daemon runs it: processLifecycle, then the pass's save of state.json. Each call reads
 * state.json back, as a restarted daemon would, unless `state` is given.
 */
export async function pass(w: World, o: { memory?: Memory; dryRun?: boolean; signal?: AbortSignal; state?: DaemonState } = {}): Promise<TickContext> {
  const paths = townPaths(town);
  const state = o.state ?? readState(paths.stateFile, w.now).state;
  const ctx = newTickContext({
    ports: ports(w),
    config: defaultConfig(),
    paths,
    state,
    dryRun: o.dryRun ?? false,
    memory: o.memory ?? new Memory(),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return runSteps(ctx, [
    ["processLifecycle", processLifecycle],
    ["saveState", saveStateStep(false)],
  ]);
}

export const diskLedger = (): Record<string, { attempts: number; done: boolean; last_error: string | null; first_seen: string }> =>
  (readState(townPaths(town).stateFile, T0).state.extra.requests ?? {}) as never;
export const flags = (obj: Record<string, unknown>) => writeFileSync(mayorState, JSON.stringify(obj));
export const readFlags = () => JSON.parse(readFileSync(mayorState, "utf8"));
export const msg = (id: string, title: string, extra: Partial<MailMessage> = {}): MailMessage => ({ id, title, status: "open", ...extra });
