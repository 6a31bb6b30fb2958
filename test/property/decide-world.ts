/**
 * Generated worlds for the decide-phase properties: a temp town (rigs, heartbeat and keepalive files of
 * random age, slots, agents' request flags and working directories), tmux sessions alive, dead or
 * missing, saved backoff and request-ledger state, and an inbox of random lifecycle mail. One heartbeat
 * (observe → decide → apply, src/tick/pipeline.ts) runs over fake ports and a fake clock
 * (test/helpers/fake-ports.ts) with the real store over the temp town: no tmux, no sleeps.
 */
import fc from "fast-check";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { defaultConfig, type Config } from "../../src/config/index.ts";
import { formatGoTime } from "../../src/gotime.ts";
import { resolveAgent } from "../../src/core/identity.ts";
import { messageIdProblem } from "../../src/lifecycle/mailbox.ts";
import { parseLifecycleTitle, type LifecycleAction } from "../../src/core/parse.ts";
import type { MailMessage } from "../../src/ports.ts";
import { markConsumed, recordSend, slotPath } from "../../src/slots.ts";
import { emptyState, type DaemonState } from "../../src/state.ts";
import { Memory, newTickContext, type Decision, type TickContext } from "../../src/tick/context.ts";
import { runHeartbeat } from "../../src/tick/pipeline.ts";
import { townPaths } from "../../src/town.ts";
import { fakeMailbox, fakePorts, fakeTmux, type FakeMailbox, type FakeTmux } from "../helpers/fake-ports.ts";

export const NOW = Date.UTC(2025, 11, 20, 10, 0, 0);
const MIN = 60_000;

export const RIGS = ["gastown", "beads"] as const;
/** Lifecycle agents (canonical identity → how mail may name it). */
const AGENT_FORMS: Record<string, string[]> = {
  mayor: ["mayor", "Mayor"],
  "gastown-witness": ["gastown-witness", "gastown/witness", "gastown/WITNESS"],
  "gastown-refinery": ["gastown-refinery", "gastown/refinery"],
  "gastown-crew-joe": ["gastown-crew-joe", "gastown/crew/joe"],
  "beads-witness": ["beads-witness", "beads/witness"],
  "beads-crew-Ann": ["beads-crew-Ann", "beads/Crew/Ann"],
};
export const AGENTS = Object.keys(AGENT_FORMS);
/** Names that are no agent, or an agent of no rig: refused, or failing verification. */
const OTHER_NAMES = ["deacon", "nobody", "GASTOWN-witness", "ghost/crew/x", "gastown-crew-", "../mayor", "gastown/crew/joe/x"];
export const SESSIONS = ["gt-deacon", ...AGENTS.map((a) => `gt-${a}`), "gt-GASTOWN-witness", "gt-other"];

type Beat = { kind: "missing" } | { kind: "corrupt" } | { kind: "age"; ms: number };
type SessionState = "missing" | "alive" | "dead";

export interface WorldSpec {
  sessions: Record<string, SessionState>;
  pokeMayor: boolean;
  pokeWitnesses: boolean;
  prime: boolean;
  beats: { deacon: Beat; town: Beat; gastown: Beat; beads: Beat };
  slots: Array<{ session: string; agoMs: number; consumed: boolean }>;
  backoff: Array<{ id: string; intervalMs: number; lastPokeAgoMs: number | null; misses: number }>;
  /** Request flags each agent set in its state file; absent: no state file. */
  flags: Array<{ agent: string; actions: LifecycleAction[] }>;
  /** Refinery working trees that exist (witness and mayor ones always do; a crew's is its state file's dir). */
  refineryTrees: string[];
  inbox: MailMessage[];
  ledger: Array<{ id: string; attempts: number; done: boolean; firstSeenAgoMs: number }>;
}

const beat: fc.Arbitrary<Beat> = fc.oneof(
  fc.constant({ kind: "missing" as const }),
  fc.constant({ kind: "corrupt" as const }),
  fc.integer({ min: -3 * MIN, max: 20 * MIN }).map((ms) => ({ kind: "age" as const, ms })),
);
const ACTION_WORDS = ["cycle", "restart", "shutdown", "stop", "cycling", "Restarting", "recycle"];
const IDS = ["m1", "m2", "m3", "m4", "bd-1.2", "__proto__", "constructor", "-rf", "a b", ""];
const nameForm = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.values(AGENT_FORMS).flat()) },
  { weight: 1, arbitrary: fc.constantFrom(...OTHER_NAMES) },
);
/** Titles other than `LIFECYCLE: <name> requesting <word>`, which worldAbout builds around its agents. */
const otherTitle = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...ACTION_WORDS).map((w) => `lifecycle: requesting ${w}`) },
  { weight: 1, arbitrary: fc.constantFrom("LIFECYCLE: mayor wants a cycle", "LIFECYCLE: mayor requesting", "Hello", "HEARTBEAT: check rigs", "LIFECYCLE: a\u0007b requesting cycle") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `LIFECYCLE:${s}`) },
);
const createdAt = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 8 * 60 }).map((m) => formatGoTime(NOW - m * MIN)),
  fc.constantFrom("yesterday", ""),
);
const message: fc.Arbitrary<MailMessage> = fc
  .record({
    id: fc.constantFrom(...IDS),
    title: otherTitle,
    sender: fc.option(nameForm, { nil: undefined }),
    status: fc.constantFrom(undefined, "open", "closed"),
    created_at: createdAt,
  })
  .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as unknown as MailMessage);

/**
 * Worlds. Each picks one to three agents it is about, so that mail and request flags often meet on one
 * agent (two requests for one agent in one pass is where the invariants are at risk).
 */
export const worldSpec: fc.Arbitrary<WorldSpec> = fc.subarray(AGENTS, { minLength: 1, maxLength: 3 }).chain((focus) => worldAbout(focus));

function worldAbout(focus: string[]): fc.Arbitrary<WorldSpec> {
  const focusForm = fc.constantFrom(...focus.flatMap((a) => AGENT_FORMS[a]!));
  const name = fc.oneof({ weight: 3, arbitrary: focusForm }, { weight: 1, arbitrary: nameForm });
  const request = fc.tuple(message, name, fc.constantFrom(...ACTION_WORDS), fc.boolean(), fc.option(name, { nil: undefined })).map(([m, n, word, named, sender]) => ({
    ...m,
    // Named in the title, or (sometimes) only by the sender.
    title: named || sender === undefined ? `LIFECYCLE: ${n} requesting ${word}` : `LIFECYCLE: requesting ${word}`,
    ...(sender === undefined ? {} : { sender }),
  }));
  const mail = fc.oneof({ weight: 4, arbitrary: request }, { weight: 1, arbitrary: message });
  return fc.record({
    sessions: fc.record(Object.fromEntries(SESSIONS.map((s) => [s, fc.constantFrom<SessionState>("missing", "alive", "alive", "dead")]))),
    pokeMayor: fc.boolean(),
    pokeWitnesses: fc.boolean(),
    prime: fc.boolean(),
    beats: fc.record({ deacon: beat, town: beat, gastown: beat, beads: beat }),
    slots: fc.array(
      fc.record({ session: fc.constantFrom("gt-deacon", "gt-mayor", "gt-gastown-witness", "gt-beads-witness"), agoMs: fc.integer({ min: 0, max: 12 * MIN }), consumed: fc.boolean() }),
      { maxLength: 3 },
    ),
    backoff: fc.array(
      fc.record({
        id: fc.constantFrom("deacon", "mayor", "gastown-witness", "beads-witness"),
        intervalMs: fc.integer({ min: 5 * MIN, max: 30 * MIN }),
        lastPokeAgoMs: fc.option(fc.integer({ min: 0, max: 40 * MIN }), { nil: null }),
        misses: fc.integer({ min: 0, max: 4 }),
      }),
      { maxLength: 3 },
    ),
    // Most focus agents asked for something (the handshake a request needs), some for more than one thing.
    flags: fc.tuple(
      fc.subarray(focus.map((agent) => fc.record({ agent: fc.constant(agent), actions: fc.subarray<LifecycleAction>(["cycle", "restart", "shutdown"], { minLength: 1 }) }))),
      fc.array(fc.record({ agent: fc.constantFrom(...AGENTS), actions: fc.subarray<LifecycleAction>(["cycle", "restart", "shutdown"]) }), { maxLength: 2 }),
    ).chain(([mine, others]) => fc.tuple(fc.tuple(...mine), fc.constant(others)).map(([a, b]) => [...b, ...a])),
    refineryTrees: fc.subarray(["gastown"]),
    inbox: fc.array(mail, { maxLength: 6 }),
    ledger: fc.array(
      fc.record({ id: fc.constantFrom("m1", "m2", "m3", "__proto__"), attempts: fc.integer({ min: 0, max: 3 }), done: fc.boolean(), firstSeenAgoMs: fc.integer({ min: 0, max: 8 * 60 * MIN }) }),
      { maxLength: 2 },
    ),
  });
}

/**
 * How many open requests (distinct valid ids, understood titles) name each agent. The code as it is acts
 * on every one of them in the same pass; see the pending property in the report of issue 7.
 */
export function requestsPerAgent(w: WorldSpec): Map<string, number> {
  const seen = new Set<string>();
  const per = new Map<string, number>();
  for (const m of w.inbox) {
    if (m.status === "closed" || seen.has(m.id) || messageIdProblem(m.id) !== null) continue;
    seen.add(m.id);
    const parsed = parseLifecycleTitle(m.title, m.sender);
    if (!("identity" in parsed)) continue;
    const spec = resolveAgent(parsed.identity, "/town");
    if ("error" in spec) continue;
    per.set(spec.identity, (per.get(spec.identity) ?? 0) + 1);
  }
  return per;
}
export const oneRequestPerAgent = (w: WorldSpec) => [...requestsPerAgent(w).values()].every((n) => n <= 1);

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
}

function writeBeat(path: string, b: Beat): void {
  if (b.kind === "corrupt") writeJson(path, "{not json");
  else if (b.kind === "age") writeJson(path, { timestamp: formatGoTime(NOW - b.ms) });
}

/** Lay the world's files out under `town`; returns the state a daemon would have loaded. */
export function buildTown(town: string, w: WorldSpec): DaemonState {
  const paths = townPaths(town);
  mkdirSync(paths.daemonDir, { recursive: true });
  writeJson(paths.rigsFile, { version: 1, rigs: Object.fromEntries(RIGS.map((r) => [r, {}])) });
  for (const rig of RIGS) mkdirSync(join(town, rig), { recursive: true });
  writeBeat(paths.deaconHeartbeat, w.beats.deacon);
  writeBeat(paths.townKeepalive, w.beats.town);
  for (const rig of RIGS) writeBeat(join(town, rig, ".gastown", "keepalive.json"), w.beats[rig]);
  for (const s of w.slots) {
    recordSend(paths.notificationsDir, s.session, "heartbeat", "HEARTBEAT", NOW - s.agoMs);
    if (s.consumed) markConsumed(paths.notificationsDir, s.session, "heartbeat", NOW - Math.floor(s.agoMs / 2));
    // Slot cleanup goes by mtime: stamp it on the fake clock's time line, not the wall clock's.
    const at = (NOW - s.agoMs) / 1000;
    utimesSync(slotPath(paths.notificationsDir, s.session, "heartbeat"), at, at);
  }
  const stateFiles: Record<string, string> = {
    mayor: join(town, "mayor", "state.json"),
    "gastown-witness": join(town, "gastown", "witness", "state.json"),
    "gastown-refinery": join(town, "gastown", "refinery", "state.json"),
    "gastown-crew-joe": join(town, "gastown", "crew", "joe", "state.json"),
    "beads-witness": join(town, "beads", "witness", "state.json"),
    "beads-crew-Ann": join(town, "beads", "crew", "Ann", "state.json"),
  };
  for (const f of w.flags) writeJson(stateFiles[f.agent]!, Object.fromEntries(f.actions.map((a) => [`requesting_${a}`, true])));
  for (const rig of w.refineryTrees) mkdirSync(join(town, rig, "refinery", "rig"), { recursive: true });

  const state = emptyState();
  state.running = true;
  state.pid = 4242;
  if (w.backoff.length) {
    state.backoff = new Map(
      w.backoff.map((b) => [b.id, { intervalMs: b.intervalMs, lastPokeMs: b.lastPokeAgoMs === null ? null : NOW - b.lastPokeAgoMs, misses: b.misses, lastActivityMs: null }]),
    );
  }
  for (const e of w.ledger) {
    const seen = NOW - e.firstSeenAgoMs;
    state.requests.set(e.id, { attempts: e.attempts, firstSeenMs: seen, lastSeenMs: seen, lastError: null, done: e.done });
  }
  return state;
}

export function worldConfig(w: WorldSpec): Config {
  const base = defaultConfig();
  return { ...base, poke: { mayor: w.pokeMayor, witnesses: w.pokeWitnesses }, agent: { ...base.agent, prime: w.prime ? "gt prime" : null } };
}

export interface PassResult {
  ctx: TickContext;
  tmux: FakeTmux;
  mailbox: FakeMailbox;
  /** Pokes typed into a session that was missing or had a dead pane at that moment. */
  badPokes: string[];
}

/**
 * One heartbeat over fakes seeded from the world. A dry run gets the same ports: the interpreter prints
 * each effect's plan instead of applying it (the snapshot and the fakes' write logs show it did).
 */
export async function runPass(town: string, w: WorldSpec, state: DaemonState, dryRun: boolean): Promise<PassResult> {
  const tmux = fakeTmux();
  for (const [name, s] of Object.entries(w.sessions)) if (s !== "missing") tmux.add(name, { paneDead: s === "dead" });
  const badPokes: string[] = [];
  const poke = tmux.poke.bind(tmux);
  tmux.poke = async (name, text) => {
    const s = tmux.map.get(name);
    if (!s || s.info.paneDead) badPokes.push(`${name} (${s ? "dead pane" : "missing"})`);
    return poke(name, text);
  };
  const mailbox = fakeMailbox(structuredClone(w.inbox));
  const f = fakePorts({ startMs: NOW, tmux, mailbox, town });
  const ctx = newTickContext({
    ports: f.ports,
    config: worldConfig(w),
    paths: townPaths(town),
    state,
    dryRun,
    memory: new Memory(),
  });
  return { ctx: await runHeartbeat(ctx), tmux, mailbox, badPokes };
}

/** Every file and directory under `dir` with its content: to show that a dry run changed nothing. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out[`${relative(dir, p)}/`] = "";
        walk(p);
      } else out[relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

/** withTown(world, fn): a fresh town under `root` for one run, and a copy of the world's state per pass (a pass mutates it). */
export function townRunner(root: string) {
  let runs = 0;
  return async <T>(w: WorldSpec, fn: (town: string, state: () => DaemonState) => Promise<T>): Promise<T> => {
    const town = join(root, String(++runs));
    mkdirSync(town);
    try {
      const state = buildTown(town, w);
      return await fn(town, () => structuredClone(state));
    } finally {
      rmSync(town, { recursive: true, force: true });
    }
  };
}

/** Per session, how many lifecycle requests a pass carried out (killed or started the session). */
export function actionsPerSession(decisions: Decision[]): Map<string, number> {
  const per = new Map<string, number>();
  let current: string | null = null;
  let counted = false;
  for (const d of decisions) {
    if (d.step !== "processLifecycle") continue;
    if (d.action === "executing") {
      current = String(d.data?.session);
      counted = false;
    } else if ((d.action === "killed" || d.action === "restarted") && current !== null && !counted) {
      per.set(current, (per.get(current) ?? 0) + 1);
      counted = true;
    }
  }
  return per;
}
