/**
 * Supervision decided in memory: observation → effects with a fake clock, each rule at its boundary
 * (exactly at the threshold, and one millisecond before).
 */
import { describe, expect, test } from "bun:test";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import { Memory } from "../../../src/core/decision.ts";
import type { Effect, Outcome } from "../../../src/core/effects.ts";
import { emptyObservation, noSupervisionFiles, type Observation, type SupervisionFiles } from "../../../src/core/observation.ts";
import { heartbeatPass, newDraft } from "../../../src/core/pass.ts";
import type { AgentProcess, ClientInfo, SessionInfo } from "../../../src/core/ports.ts";
import { emptyState, type DaemonState } from "../../../src/core/state.ts";
import type { SuperviseSettings } from "../../../src/core/supervise-set.ts";
import { emptyRecord, type AgentRecord } from "../../../src/core/supervise-state.ts";
import { STEPS } from "../../../src/tick/pipeline.ts";
import { townPaths } from "../../../src/town.ts";

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const MIN = 60_000;
const paths = townPaths("/town");
const S: SuperviseSettings = defaultConfig().supervise;

function config(over: Partial<SuperviseSettings> = {}): Config {
  return { ...defaultConfig(), supervise: { ...S, ...over } } as Config;
}

const deacon = (over: Partial<SessionInfo> = {}): [string, SessionInfo] => [
  "gt-deacon",
  { name: "gt-deacon", paneDead: false, paneCommand: "bash", paneId: "%1", panePid: 100, inMode: false, activityMs: null, panes: 1, ...over },
];

interface World {
  nowMs?: number;
  session?: Partial<SessionInfo> | null;
  proc?: AgentProcess | null;
  files?: Partial<SupervisionFiles>;
  clients?: ClientInfo[];
  record?: Partial<AgentRecord>;
  stampMs?: number;
  config?: Config;
  answer?: (e: Effect) => Partial<Outcome> | undefined;
}

function pass(w: World) {
  const nowMs = w.nowMs ?? T0;
  const obs: Observation = {
    ...emptyObservation("heartbeat", nowMs),
    sessions: new Map(w.session === null ? [] : [deacon(w.session ?? {})]),
    deaconCommand: { found: true, PATH: "/usr/bin" },
    slotDir: { problem: null, entries: [] },
    stamps: new Map(w.stampMs === undefined ? [] : [[paths.deaconHeartbeat, { kind: "at" as const, ms: w.stampMs }]]),
    procs: new Map([["deacon", w.proc === undefined ? { pid: 200, startedAtMs: T0 - 60 * MIN } : w.proc]]),
    supervision: { ...noSupervisionFiles(), ...w.files },
    clients: w.clients ?? [],
  };
  const state: DaemonState = emptyState();
  if (w.record) state.supervise.set("deacon", { ...emptyRecord(), pid: 200, startedAtMs: T0 - 60 * MIN, ...w.record });
  const d = newDraft({ obs, config: w.config ?? config(), paths, memory: new Memory(), state });
  const gen = heartbeatPass(d, STEPS);
  const effects: Effect[] = [];
  let next = gen.next();
  while (!next.done) {
    effects.push(next.value);
    next = gen.next({ ok: true, changed: true, nowMs, stopping: false, ...w.answer?.(next.value) } as Outcome);
  }
  const rec = d.state.supervise.get("deacon")!;
  return { effects, kinds: effects.map((e) => e.kind), messages: d.decisions.map((x) => x.message), rec, d };
}

const restarts = (r: ReturnType<typeof pass>) => r.effects.filter((e) => e.kind === "respawnPane" || e.kind === "newSession");

describe("liveness from the process tree", () => {
  test.each([
    ["running", { session: {}, proc: { pid: 200, startedAtMs: T0 - MIN } }],
    ["restarting", { session: {}, proc: null }],
    ["dead", { session: { paneDead: true }, proc: null }],
  ] as const)("%s", (liveness, w) => {
    const r = pass({ ...w, stampMs: T0 } as World);
    expect(r.rec.liveness).toBe(liveness);
  });

  test("missing: created (it is then starting, its process not yet seen)", () => {
    const r = pass({ session: null, proc: null, stampMs: T0 });
    expect(r.kinds[0]).toBe("newSession");
    expect(r.rec.liveness).toBe("restarting");
  });

  test("a dead pane is re-spawned (its own pane only), never the session killed", () => {
    const r = pass({ session: { paneDead: true, deadStatus: 1 }, proc: null, stampMs: T0 });
    expect(r.effects.find((e) => e.kind === "respawnPane")).toMatchObject({ paneId: "%1" });
    expect(r.kinds).not.toContain("killSession");
  });
});

describe("hung: unanswered pokes, never staleness alone", () => {
  const hungRecord = (firstUnansweredMs: number, unanswered = 2): Partial<AgentRecord> => ({
    unanswered,
    firstUnansweredMs,
    lastPokeMs: T0 - 5 * MIN,
    pokeAnswered: null,
  });

  test("a stale but answering agent (its pane prints after the poke) is never restarted", () => {
    const r = pass({ record: { lastPokeMs: T0 - 5 * MIN, unanswered: 5, firstUnansweredMs: T0 - 60 * MIN }, session: { activityMs: T0 - 5 * MIN + 10_000 } });
    expect(restarts(r)).toEqual([]);
    expect(r.rec.unanswered).toBe(0);
  });

  test("the third unanswered poke over 30m restarts it: exactly at the threshold", () => {
    const r = pass({ record: hungRecord(T0 - 30 * MIN) });
    expect(restarts(r).map((e) => e.kind)).toEqual(["respawnPane"]);
    expect(restarts(r)[0]?.start?.message).toBe("Restarting Deacon's pane in gt-deacon: hung: 3 pokes in a row unanswered over 30m0s");
  });

  test("one millisecond before 30m: not yet", () => {
    const r = pass({ record: hungRecord(T0 - 30 * MIN + 1) });
    expect(restarts(r)).toEqual([]);
  });

  test("two unanswered pokes are not enough", () => {
    const r = pass({ record: hungRecord(T0 - 60 * MIN, 1) });
    expect(r.rec.unanswered).toBe(2);
    expect(restarts(r)).toEqual([]);
  });

  test("within the grace after its own start: not restarted (exactly at grace it may be)", () => {
    const inGrace = pass({ record: hungRecord(T0 - 60 * MIN), proc: { pid: 200, startedAtMs: T0 - 5 * MIN + 1 } });
    expect(restarts(inGrace)).toEqual([]);
  });

  test("a new process is never judged by the old one's pokes", () => {
    const r = pass({ record: hungRecord(T0 - 60 * MIN), proc: { pid: 300, startedAtMs: T0 - 20 * MIN } });
    expect(restarts(r)).toEqual([]);
    expect(r.rec.unanswered).toBe(0);
    expect(r.rec.pid).toBe(300);
  });
});

describe("crash loops", () => {
  const loop = (runs: number, status = 1): Partial<SupervisionFiles> => ({ runs: new Map([["deacon", { runs, status }]]) });

  test("the fifth restart within 15m holds the agent, once, with the count and the last exit status", () => {
    const r = pass({ record: { runsSeen: 0 }, files: loop(5, 3), proc: null });
    expect(r.rec.heldUntilMs).toBe(T0 + 60 * MIN);
    expect(r.rec.liveness).toBe("held");
    expect(r.effects.find((e) => e.kind === "setHold")).toMatchObject({ identity: "deacon", on: true });
    expect(r.messages.find((m) => m.startsWith("Holding Deacon"))).toContain("5 restarts within 15m0s, last exit status 3");
  });

  test("four restarts: not held, the delay grows from its base", () => {
    const r = pass({ record: { runsSeen: 0 }, files: loop(4), proc: null });
    expect(r.rec.heldUntilMs).toBeNull();
    expect(r.rec.delayMs).toBe(Math.min(S.restart.baseMs * 8, S.restart.maxMs));
  });

  test("restarts older than the window do not count (one millisecond past 15m)", () => {
    const starts = [1, 2, 3, 4].map(() => T0 - 15 * MIN);
    const r = pass({ record: { starts, runsSeen: 4 }, files: loop(5), proc: null });
    expect(r.rec.starts).toHaveLength(1);
    expect(r.rec.heldUntilMs).toBeNull();
  });

  test("the hold decays by itself: exactly at held_until it ends; one millisecond before it holds", () => {
    const held = { heldUntilMs: T0, heldWhy: "x", starts: [] };
    expect(pass({ record: held, files: { holds: new Set(["deacon"]) } }).effects.find((e) => e.kind === "setHold")).toMatchObject({ on: false });
    const still = pass({ record: { ...held, heldUntilMs: T0 + 1 }, files: { holds: new Set(["deacon"]) } });
    expect(still.kinds).not.toContain("setHold");
    expect(still.rec.liveness).toBe("held");
  });

  test("a held agent's dead pane is not repaired; gtd reset clears the hold", () => {
    const held = { heldUntilMs: T0 + MIN, heldWhy: "x" };
    const r = pass({ record: held, session: { paneDead: true }, proc: null, files: { holds: new Set(["deacon"]) } });
    expect(restarts(r)).toEqual([]);
    const reset = pass({ record: held, session: { paneDead: true }, proc: null, files: { holds: new Set(["deacon"]), requests: [{ identity: "deacon", kind: "reset" }] } });
    expect(reset.rec.heldUntilMs).toBeNull();
    expect(reset.kinds).toContain("takeRequest");
    expect(restarts(reset).map((e) => e.kind)).toEqual(["respawnPane"]);
  });
});

describe("operator intent", () => {
  const paused = { paused: new Set(["deacon"]), holds: new Set(["deacon"]) };

  test("a paused Deacon is neither created nor poked", () => {
    const r = pass({ session: null, proc: null, files: paused });
    expect(restarts(r)).toEqual([]);
    expect(r.kinds).not.toContain("poke");
    expect(r.rec.liveness).toBe("paused");
  });

  test("a paused Deacon's dead pane is left dead, and a stale one is not poked", () => {
    const r = pass({ session: { paneDead: true }, proc: null, files: paused });
    expect(restarts(r)).toEqual([]);
    const stale = pass({ files: paused, stampMs: T0 - 10 * MIN });
    expect(stale.kinds).not.toContain("poke");
    expect(stale.messages).toContain("Deacon is paused, skipping poke");
  });

  test("pausing creates the hold file if gtd pause had not; resuming removes it", () => {
    expect(pass({ files: { paused: new Set(["deacon"]) } }).effects.find((e) => e.kind === "setHold")).toMatchObject({ on: true });
    expect(pass({ files: { holds: new Set(["deacon"]) } }).effects.find((e) => e.kind === "setHold")).toMatchObject({ on: false });
  });

  test("gtd restart works on a held agent and clears the hold; on a paused one it is refused", () => {
    const held = pass({ record: { heldUntilMs: T0 + MIN, heldWhy: "x" }, files: { holds: new Set(["deacon"]), requests: [{ identity: "deacon", kind: "restart" }] } });
    expect(restarts(held).map((e) => e.kind)).toEqual(["respawnPane"]);
    expect(held.rec.heldUntilMs).toBeNull();
    const p = pass({ files: { ...paused, requests: [{ identity: "deacon", kind: "restart" }] } });
    expect(restarts(p)).toEqual([]);
    expect(p.messages).toContain("Not restarting Deacon: deacon is paused (gtd resume deacon)");
  });
});

describe("nudges that do not collide with people", () => {
  const stale = { stampMs: T0 - 10 * MIN };

  test("a person active at an attached terminal within 60s defers the poke; at 60s it goes out", () => {
    const r = pass({ ...stale, clients: [{ session: "gt-deacon", activityMs: T0 - 60_000 + 1 }] });
    expect(r.kinds).not.toContain("poke");
    expect(r.rec.deferredWhy).toContain("was active");
    const quiet = pass({ ...stale, clients: [{ session: "gt-deacon", activityMs: T0 - 60_000 }] });
    expect(quiet.kinds).toContain("poke");
    expect(quiet.rec.deferredWhy).toBeNull();
  });

  test("a client of another session does not defer; copy mode does", () => {
    expect(pass({ ...stale, clients: [{ session: "other", activityMs: T0 }] }).kinds).toContain("poke");
    expect(pass({ ...stale, session: { inMode: true } }).kinds).not.toContain("poke");
  });

  test("a stranded poke is said and not counted as unanswered; no echo counts", () => {
    const stranded = pass({ ...stale, answer: (e) => (e.kind === "poke" ? { delivery: { kind: "stranded" } } : undefined) });
    expect(stranded.rec.stranded).toBe(true);
    expect(stranded.rec.unanswered).toBe(0);
    const silent = pass({ ...stale, answer: (e) => (e.kind === "poke" ? { delivery: { kind: "no-echo" } } : undefined) });
    expect(silent.rec.unanswered).toBe(1);
  });

  test("the Deacon's pokes are verified", () => {
    const r = pass(stale);
    expect(r.effects.find((e) => e.kind === "poke")).toMatchObject({ verify: true });
  });
});
