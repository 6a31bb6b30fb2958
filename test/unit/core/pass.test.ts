/**
 * The decide phase in memory: an Observation in, the effects out, with a fake clock and scripted
 * outcomes. No temp dirs, no tmux, no real time: tables of observation → effects.
 */
import { describe, expect, test } from "bun:test";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import { Memory } from "../../../src/core/decision.ts";
import type { Effect, Outcome } from "../../../src/core/effects.ts";
import { PASS_BUDGET_MS } from "../../../src/core/lifecycle.ts";
import { agentKey, emptyObservation, type Observation } from "../../../src/core/observation.ts";
import { heartbeatPass, lifecyclePass, newDraft, type Draft } from "../../../src/core/pass.ts";
import type { AgentFacts, MailMessage, SessionInfo } from "../../../src/core/ports.ts";
import { emptyState, type DaemonState } from "../../../src/core/state.ts";
import { STEPS } from "../../../src/tick/pipeline.ts";
import { townPaths } from "../../../src/town.ts";

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const TOWN = "/town";
const paths = townPaths(TOWN);
const MIN = 60_000;

type Answer = (e: Effect, i: number) => Partial<Outcome> | undefined;

/** Run a pass's decisions to the end, answering each effect (default: done, the clock unmoved). */
function decide(obs: Observation, o: { state?: DaemonState; config?: Config; answer?: Answer; memory?: Memory } = {}) {
  const d = newDraft({ obs, config: o.config ?? defaultConfig(), paths, memory: o.memory ?? new Memory(), state: o.state ?? emptyState() });
  const gen = obs.kind === "heartbeat" ? heartbeatPass(d, STEPS) : lifecyclePass(d, STEPS);
  const effects: Effect[] = [];
  let next = gen.next();
  while (!next.done) {
    effects.push(next.value);
    const extra = o.answer?.(next.value, effects.length - 1) ?? {};
    next = gen.next({ ok: true, changed: true, nowMs: obs.nowMs, stopping: false, ...extra } as Outcome);
  }
  return { effects, d, messages: d.decisions.map((x) => x.message), kinds: effects.map(word) };
}

/** An effect in one word and its subject: `newSession gt-deacon`, `poke gt-deacon`, `saveState`. */
function word(e: Effect): string {
  switch (e.kind) {
    case "newSession":
      return `newSession ${e.spec.name}`;
    case "removeSlot":
      return `removeSlot ${e.name}`;
    case "closeMessage":
      return `closeMessage ${e.id}`;
    case "saveState":
      return "saveState";
    case "clearFlag":
      return `clearFlag ${e.action}`;
    case "presync":
      return `presync ${e.identity}`;
    case "setHold":
    case "takeRequest":
      return `${e.kind} ${e.identity}`;
    case "respawnPane":
      return `respawnPane ${e.session}`;
    default:
      return `${e.kind} ${e.session}`;
  }
}

const alive = (name: string, paneCommand = "bash"): [string, SessionInfo] => [name, { name, paneDead: false, paneCommand }];
const dead = (name: string): [string, SessionInfo] => [name, { name, paneDead: true, paneCommand: "claude" }];

function heartbeat(over: Partial<Observation> = {}): Observation {
  return { ...emptyObservation("heartbeat", T0), deaconCommand: { found: true, PATH: "/usr/bin" }, slotDir: { problem: null, entries: [] }, ...over };
}
const seenAgo = (ms: number) => new Map([[paths.deaconHeartbeat, { kind: "at" as const, ms: T0 - ms }]]);

describe("heartbeat: observation → effects", () => {
  const table: Array<{ name: string; obs: Observation; kinds: string[]; says?: string[] }> = [
    {
      name: "no Deacon session: create it, then poke it (very stale) and record the slot",
      obs: heartbeat(),
      kinds: ["newSession gt-deacon", "poke gt-deacon", "recordSlot gt-deacon", "saveState"],
    },
    {
      name: "a running, fresh Deacon: nothing but the state save",
      obs: heartbeat({ sessions: new Map([alive("gt-deacon")]), stamps: seenAgo(10_000) }),
      kinds: ["saveState"],
      says: ["Deacon is fresh, skipping poke"],
    },
    {
      name: "a stale Deacon is poked",
      obs: heartbeat({ sessions: new Map([alive("gt-deacon")]), stamps: seenAgo(3 * MIN) }),
      kinds: ["poke gt-deacon", "recordSlot gt-deacon", "saveState"],
    },
    {
      name: "a dead pane: its own pane re-spawned (the session and other panes live), then poked",
      obs: heartbeat({ sessions: new Map([["gt-deacon", { ...dead("gt-deacon")[1], paneId: "%1" }]]) }),
      kinds: ["respawnPane gt-deacon", "poke gt-deacon", "recordSlot gt-deacon", "saveState"],
    },
    {
      name: "a failed session list: nothing created, nothing poked",
      obs: heartbeat({ sessions: { error: "tmux exploded" } }),
      kinds: ["saveState"],
      says: [
        "Error listing tmux sessions: tmux exploded",
        "Error checking Deacon session: tmux session list failed, not creating gt-deacon blindly",
        "Error checking agent sessions: tmux session list failed, skipping pokes",
      ],
    },
    {
      name: "shutdown asked before the pass: only the state is saved",
      obs: heartbeat({ stopping: true }),
      kinds: ["saveState"],
    },
    {
      name: "a stale slot is removed, and its pending notification no longer holds the poke back",
      obs: heartbeat({
        sessions: new Map([alive("gt-deacon")]),
        stamps: seenAgo(3 * MIN),
        slotDir: { problem: null, entries: [{ name: "slot-gt-deacon-heartbeat.json", mtimeMs: T0 - 60 * MIN, slot: null }] },
        slots: new Map([["gt-deacon", { slot: "heartbeat", session: "gt-deacon", message: "x", sentAtMs: T0 - 60_000, sentAtText: "", consumed: false, consumedAtMs: null }]]),
      }),
      kinds: ["removeSlot slot-gt-deacon-heartbeat.json", "poke gt-deacon", "recordSlot gt-deacon", "saveState"],
    },
    {
      name: "a pending, unexpired slot holds the poke back",
      obs: heartbeat({
        sessions: new Map([alive("gt-deacon")]),
        stamps: seenAgo(3 * MIN),
        slots: new Map([["gt-deacon", { slot: "heartbeat", session: "gt-deacon", message: "x", sentAtMs: T0 - 60_000, sentAtText: "", consumed: false, consumedAtMs: null }]]),
      }),
      kinds: ["saveState"],
      says: ["Heartbeat already pending for Deacon, skipping"],
    },
  ];
  for (const row of table) {
    test(row.name, () => {
      const r = decide(row.obs);
      expect(r.kinds).toEqual(row.kinds);
      for (const line of row.says ?? []) expect(r.messages).toContain(line);
    });
  }

  test("the backoff holds a second poke back until its interval has passed, by the pass's clock", () => {
    const obs = heartbeat({ sessions: new Map([alive("gt-deacon")]), stamps: seenAgo(3 * MIN) });
    const first = decide(obs);
    const state = first.d.state;
    expect(state.backoff?.get("deacon")?.lastPokeMs).toBe(T0);
    const soon = decide({ ...obs, nowMs: T0 + 60_000 }, { state });
    expect(soon.kinds).toEqual(["saveState"]);
    expect(soon.messages.some((m) => m.startsWith("Deacon backoff in effect"))).toBe(true);
    const later = decide({ ...obs, nowMs: T0 + 5 * MIN }, { state });
    expect(later.kinds).toContain("poke gt-deacon");
  });

  test("outcomes steer what follows: a duplicate create is success, a refused lock stops the poke", () => {
    const dup = decide(heartbeat(), { answer: (e) => (e.kind === "newSession" ? { ok: false, kind: "duplicate", error: "duplicate session" } : undefined) });
    expect(dup.messages).toContain("Deacon session gt-deacon was created meanwhile by someone else (e.g. gt up), leaving it");
    expect(dup.kinds).toContain("poke gt-deacon");
    const lost = decide(heartbeat(), { answer: (e) => (e.kind === "newSession" ? { ok: false, kind: "not-exclusive", error: "lock" } : undefined) });
    expect(lost.messages).toContain("Not touching Deacon session gt-deacon: this process no longer holds the town's lock");
    expect(lost.kinds).toEqual(["newSession gt-deacon", "saveState"]);
    expect(lost.messages).toContain("Deacon session not running after ensure, skipping poke");
  });

  test("a failed poke leaves the backoff unchanged and records no slot", () => {
    const obs = heartbeat({ sessions: new Map([alive("gt-deacon")]), stamps: seenAgo(3 * MIN) });
    const r = decide(obs, { answer: (e) => (e.kind === "poke" ? { ok: false, kind: "failed", error: "no pane" } : undefined) });
    expect(r.kinds).toEqual(["poke gt-deacon", "saveState"]);
    expect(r.messages).toContain("Error poking Deacon: no pane");
    expect(r.d.state.backoff?.get("deacon")).toBeUndefined();
  });

  test("the heartbeat count and time are the pass's, and the caller's state is not touched", () => {
    const state = emptyState();
    const r = decide(heartbeat({ sessions: new Map([alive("gt-deacon")]), stamps: seenAgo(0) }), { state });
    expect(r.d.state.heartbeatCount).toBe(1);
    expect(r.d.state.lastHeartbeatMs).toBe(T0);
    expect(state.heartbeatCount).toBe(0);
  });
});

const msg = (id: string, title: string): MailMessage => ({ id, title, status: "open" });
const flagSet: AgentFacts = { outside: null, flag: { ok: true }, workDirExists: true };

function lifecycle(messages: MailMessage[], agents: Array<[string, AgentFacts]>, over: Partial<Observation> = {}): Observation {
  return { ...emptyObservation("lifecycle", T0), inbox: { messages, skipped: [] }, agents: new Map(agents), ...over };
}

describe("lifecycle: observation → effects", () => {
  test("a verified cycle: save the attempt, kill, wait, create, clear the flag, save done, close", () => {
    const obs = lifecycle([msg("m1", "LIFECYCLE: mayor requesting cycle")], [[agentKey("mayor", "cycle"), flagSet]], { sessions: new Map([alive("gt-mayor")]) });
    const r = decide(obs);
    expect(r.kinds).toEqual(["saveState", "killSession gt-mayor", "awaitGone gt-mayor", "newSession gt-mayor", "clearFlag cycle", "saveState", "closeMessage m1", "saveState"]);
    expect(r.d.state.requests.get("m1")).toMatchObject({ attempts: 1, done: true, lastError: null });
  });

  test("a supervised agent's cycle re-spawns its own pane (no kill-session); panes a person added live", () => {
    const config = defaultConfig();
    config.supervise = { ...config.supervise, agents: ["mayor"] };
    const sessions = new Map([["gt-mayor", { ...alive("gt-mayor")[1], paneId: "%7" }]]);
    const obs = lifecycle([msg("m1", "LIFECYCLE: mayor requesting cycle")], [[agentKey("mayor", "cycle"), flagSet]], { sessions });
    const r = decide(obs, { config });
    expect(r.kinds).toEqual(["saveState", "respawnPane gt-mayor", "clearFlag cycle", "saveState", "closeMessage m1", "saveState"]);
  });

  test("a flag that is not set: no kill, the attempt counted, the message left open", () => {
    const notSet: AgentFacts = { outside: null, flag: { ok: false, reason: "agent state missing requesting_cycle field" }, workDirExists: true };
    const r = decide(lifecycle([msg("m1", "LIFECYCLE: mayor requesting cycle")], [[agentKey("mayor", "cycle"), notSet]]));
    expect(r.kinds).toEqual(["saveState"]);
    expect(r.messages).toContain("Error executing lifecycle action: state verification failed: agent state missing requesting_cycle field");
    expect(r.d.state.requests.get("m1")).toMatchObject({ attempts: 1, done: false });
  });

  test("a session that will not die fails the request before anything is created", () => {
    const obs = lifecycle([msg("m1", "LIFECYCLE: mayor requesting restart")], [[agentKey("mayor", "restart"), flagSet]], { sessions: new Map([alive("gt-mayor")]) });
    const r = decide(obs, { answer: (e) => (e.kind === "awaitGone" ? { ok: false, kind: "failed", error: "still there" } : undefined) });
    expect(r.kinds).toEqual(["saveState", "killSession gt-mayor", "awaitGone gt-mayor", "saveState"]);
    expect(r.messages).toContain("Error executing lifecycle action: killing session: gt-mayor still exists after kill-session");
  });

  test("an unknown title is rejected and closed, never acted on", () => {
    const r = decide(lifecycle([msg("m1", "LIFECYCLE: mayor requesting dance")], []));
    expect(r.kinds).toEqual(["closeMessage m1", "saveState"]);
    expect(r.messages.some((m) => m.startsWith("Rejecting lifecycle request m1"))).toBe(true);
  });

  test("the pass budget is measured by the outcomes' clock: once it is spent, the rest wait", () => {
    const messages = ["a", "b", "c"].map((id) => msg(id, "LIFECYCLE: mayor requesting dance"));
    const r = decide(lifecycle(messages, []), { answer: () => ({ nowMs: T0 + PASS_BUDGET_MS }) });
    expect(r.kinds).toEqual(["closeMessage a", "saveState"]);
    expect(r.messages).toContain("2 lifecycle requests wait for the next pass (no request starts once a pass has run 10s)");
    expect(r.d.backlog).toBe(true);
  });

  test("shutdown reported by an outcome: no further request starts", () => {
    const messages = ["a", "b"].map((id) => msg(id, "LIFECYCLE: mayor requesting dance"));
    const r = decide(lifecycle(messages, []), { answer: (e) => (e.kind === "closeMessage" ? { stopping: true } : undefined) });
    expect(r.kinds).toEqual(["closeMessage a", "saveState"]);
    expect(r.messages).toContain("Shutdown requested: remaining lifecycle requests wait for the next start");
  });

  test("an unreadable inbox is said once per window, and nothing is done", () => {
    const memory = new Memory();
    const obs = { ...lifecycle([], []), inbox: { error: "bd: exit 1" } };
    expect(decide(obs, { memory }).messages).toContain("Error reading lifecycle mail: bd: exit 1");
    expect(decide({ ...obs, nowMs: T0 + 60_000 }, { memory }).messages).not.toContain("Error reading lifecycle mail: bd: exit 1");
  });
});

describe("every effect carries its words", () => {
  test("each effect that changes something visible has a plan line for the dry run", () => {
    const obs = heartbeat({ sessions: new Map([["gt-deacon", { ...dead("gt-deacon")[1], paneId: "%1" }]]) });
    const r = decide(obs);
    const visible = r.effects.filter((e) => ["respawnPane", "poke"].includes(e.kind));
    expect(visible.map((e) => e.plan?.action)).toEqual(["would-restart", "would-poke"]);
    const lc = decide(lifecycle([msg("m1", "LIFECYCLE: mayor requesting cycle")], [[agentKey("mayor", "cycle"), flagSet]], { sessions: new Map([alive("gt-mayor")]) }));
    expect(lc.effects.map((e) => e.plan?.action).filter(Boolean)).toEqual(["would-kill", "would-restart", "would-clear", "would-close"]);
  });
});

export type { Draft };
