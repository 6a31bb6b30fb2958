/**
 * A reusable fake Ports for unit tests of the tick steps: a clock the test moves, a tmux that keeps its
 * sessions in a map and records every call, a mailbox with a settable inbox, a no-op sleep, a runner that
 * records argv, and a log collector. Nothing here starts a process or touches tmux.
 */
import { defaultConfig, type Config } from "../../src/config/index.ts";
import type {
  AgentProcess, ClientInfo, InboxResult, MailMessage, MailboxPort, NewSessionSpec, PokeDelivery, Ports, ProcessPort, SessionInfo, TmuxPort,
} from "../../src/ports.ts";
import type { RunOptions, RunResult, Runner } from "../../src/proc.ts";
import { emptyState, type DaemonState } from "../../src/state.ts";
import { newTickContext, type Memory, type TickContext } from "../../src/tick/context.ts";
import { TmuxError } from "../../src/tmux.ts";
import { errorText } from "../../src/errors.ts";
import type { StorePort } from "../../src/ports.ts";
import { townStore, type TownStoreOptions } from "../../src/tick/town-store.ts";
import { townPaths } from "../../src/town.ts";

export interface FakeClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function fakeClock(startMs = Date.UTC(2025, 11, 20, 10, 0, 0)): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface FakeSession {
  info: SessionInfo;
  /** How it was created; null for sessions a test added by hand. */
  spec: NewSessionSpec | null;
  /** Text typed into it, one entry per poke/sendLine and per pokeVerified that answered "consumed". */
  typed: string[];
}

type TmuxMethod = keyof TmuxPort;

export interface FakeTmux extends TmuxPort {
  readonly map: Map<string, FakeSession>;
  /** One line per call: `newSession gt-deacon`, `poke gt-deacon HEARTBEAT: ...`, `killSession x`, ... */
  readonly calls: string[];
  /** While set, the method throws this error (after recording the call). */
  readonly fail: Partial<Record<TmuxMethod, Error>>;
  /** The clients sessionsAndClients() answers (none by default). */
  clientList: ClientInfo[];
  /** What pokeVerified answers per session; a session not here answers "consumed". */
  readonly delivery: Map<string, PokeDelivery>;
  /** Add a session as if someone else created it. */
  add(name: string, info?: Partial<SessionInfo>): FakeSession;
  /** Calls that change something (everything but the session and client lists and hasSession). */
  writes(): string[];
}

export function fakeTmux(): FakeTmux {
  const map = new Map<string, FakeSession>();
  const calls: string[] = [];
  const fail: Partial<Record<TmuxMethod, Error>> = {};

  function check(method: TmuxMethod, line: string): void {
    calls.push(line);
    const err = fail[method];
    if (err) throw err;
  }
  function add(name: string, info: Partial<SessionInfo> = {}): FakeSession {
    const s: FakeSession = { info: { name, paneDead: false, paneCommand: "bash", ...info }, spec: null, typed: [] };
    map.set(name, s);
    return s;
  }
  function typeInto(method: "poke" | "sendLine", name: string, text: string): void {
    check(method, `${method} ${name} ${text}`);
    const s = map.get(name);
    if (!s) throw new TmuxError("no-session", `tmux send-keys: can't find session: ${name}`);
    s.typed.push(text);
  }

  const tmux: FakeTmux = {
    map,
    calls,
    fail,
    clientList: [],
    delivery: new Map(),
    add,
    writes: () => calls.filter((c) => !c.startsWith("sessions") && !c.startsWith("hasSession")),
    async sessions() {
      check("sessions", "sessions");
      return new Map([...map].map(([name, s]) => [name, { ...s.info }]));
    },
    async hasSession(name) {
      check("hasSession", `hasSession ${name}`);
      return map.has(name);
    },
    async newSession(spec) {
      try {
        check("newSession", `newSession ${spec.name}`);
      } catch (err) {
        const kind = err instanceof TmuxError && err.kind !== "other" ? err.kind : "failed";
        return { ok: false, kind, error: errorText(err) };
      }
      if (map.has(spec.name)) return { ok: false, kind: "duplicate", error: `tmux new-session: duplicate session: ${spec.name}` };
      const s = add(spec.name, { paneCommand: spec.argv[0] ?? "" });
      s.spec = structuredClone(spec);
      return { ok: true };
    },
    async killSession(name) {
      check("killSession", `killSession ${name}`);
      map.delete(name);
    },
    async poke(name, text) {
      typeInto("poke", name, text);
    },
    async sendLine(name, text) {
      typeInto("sendLine", name, text);
    },
    /** sessions() and the clients in one call, as the real one: `fail.sessions` (or a replaced sessions()) rules it. */
    async sessionsAndClients() {
      return { sessions: await tmux.sessions(), clients: tmux.clientList.map((c) => ({ ...c })) };
    },
    /** Finds the session by its info.paneId; the pane comes back alive (its pid, if any, is kept). */
    async respawnPane(paneId) {
      try {
        check("respawnPane", `respawnPane ${paneId}`);
      } catch (err) {
        return { ok: false, kind: "failed", error: errorText(err) };
      }
      const s = [...map.values()].find((x) => x.info.paneId === paneId);
      if (!s) return { ok: false, kind: "no-session", error: `tmux respawn-pane: can't find pane: ${paneId}` };
      s.info = { ...s.info, paneDead: false, deadStatus: null };
      return { ok: true };
    },
    async pokeVerified(name, text) {
      check("pokeVerified", `pokeVerified ${name} ${text}`);
      const s = map.get(name);
      if (!s) throw new TmuxError("no-session", `tmux list-panes: can't find session: ${name}`);
      const delivery = tmux.delivery.get(name) ?? { kind: "consumed" };
      if (delivery.kind === "consumed") s.typed.push(text);
      return { ...delivery };
    },
  };
  return tmux;
}

export interface FakeProcs extends ProcessPort {
  /** The agent found under each pane pid (none by default). */
  readonly agents: Map<number, AgentProcess>;
  /** One line per call: `agentUnder 100 claude`. */
  readonly calls: string[];
}

/** A process table the test fills: agentUnder(panePid) answers agents.get(panePid) ?? null. */
export function fakeProcs(): FakeProcs {
  const agents = new Map<number, AgentProcess>();
  const calls: string[] = [];
  return {
    agents,
    calls,
    agentUnder(panePid, command) {
      calls.push(`agentUnder ${panePid} ${command}`);
      const found = agents.get(panePid);
      return found ? { ...found } : null;
    },
    agentsUnder(queries) {
      return queries.map((q) => this.agentUnder(q.panePid, q.command));
    },
  };
}

export interface FakeMailbox extends MailboxPort {
  messages: MailMessage[];
  skipped: string[];
  /** While set, inbox() throws it. */
  inboxError: Error | null;
  readonly closed: string[];
  readonly sent: Array<{ to: string; subject: string; body: string }>;
}

/** An inbox that returns `messages` (none by default); close and send are recorded. */
export function fakeMailbox(messages: MailMessage[] = []): FakeMailbox {
  const box: FakeMailbox = {
    messages,
    skipped: [],
    inboxError: null,
    closed: [],
    sent: [],
    async inbox(): Promise<InboxResult> {
      if (box.inboxError) throw box.inboxError;
      return { messages: [...box.messages], skipped: [...box.skipped] };
    },
    async close(id) {
      box.closed.push(id);
      box.messages = box.messages.filter((m) => m.id !== id);
    },
    async send(to, subject, body) {
      box.sent.push({ to, subject, body });
    },
  };
  return box;
}

export interface FakeRunner extends Runner {
  readonly calls: Array<{ argv: string[]; opts: RunOptions }>;
}

/** Records argv and answers every command with `answer` (exit 0, no output by default). */
export function fakeRunner(answer: (argv: string[]) => Partial<RunResult> = () => ({})): FakeRunner {
  const calls: Array<{ argv: string[]; opts: RunOptions }> = [];
  const run = (async (argv: string[], opts: RunOptions) => {
    calls.push({ argv, opts });
    return { code: 0, stdout: "", stderr: "", timedOut: false, notFound: false, ...answer(argv) };
  }) as FakeRunner;
  Object.defineProperty(run, "calls", { value: calls });
  return run;
}

export interface FakePorts {
  ports: Ports;
  clock: FakeClock;
  tmux: FakeTmux;
  mailbox: FakeMailbox;
  procs: FakeProcs;
  run: FakeRunner;
  /** Every log line, in order. */
  logs: string[];
  /** How long each sleep asked for (sleeps return at once). */
  sleeps: number[];
}

/** The real store over a town directory, with a `which` that finds every command (no PATH needed). */
export function fakeStore(town: string, opts: TownStoreOptions = {}): StorePort {
  return townStore(townPaths(town), { which: (c) => `/usr/bin/${c}`, path: () => "/usr/bin", ...opts });
}

export function fakePorts(opts: { startMs?: number; tmux?: FakeTmux; mailbox?: FakeMailbox; town?: string } = {}): FakePorts {
  const clock = fakeClock(opts.startMs);
  const tmux = opts.tmux ?? fakeTmux();
  const mailbox = opts.mailbox ?? fakeMailbox();
  const run = fakeRunner();
  const procs = fakeProcs();
  const logs: string[] = [];
  const sleeps: number[] = [];
  const ports: Ports = {
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    tmux,
    mailbox,
    // Replaced by fakeTick with the test's own town.
    store: fakeStore(opts.town ?? "/nonexistent-town"),
    procs,
    run,
    log: (m) => {
      logs.push(m);
    },
  };
  return { ports, clock, tmux, mailbox, procs, run, logs, sleeps };
}

export interface FakeTickOptions {
  town: string;
  config?: Config;
  state?: DaemonState;
  dryRun?: boolean;
  signal?: AbortSignal;
  memory?: Memory;
}

/**
 * A tick context over fake ports and the test's town (the real store over its temp dir). The pass
 * observes the fake tmux itself; to make the session list fail, set `f.tmux.fail.sessions`.
 */
export async function fakeTick(f: FakePorts, o: FakeTickOptions): Promise<TickContext> {
  if (o.town) f.ports.store = fakeStore(o.town);
  const ctx = newTickContext({
    ports: f.ports,
    config: o.config ?? defaultConfig(),
    paths: townPaths(o.town),
    state: o.state ?? emptyState(),
    ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
  });
  return ctx;
}
