/**
 * The interpreter: for the same observation, the dry run's plan is exactly the effects a real pass
 * applies, and the dry run changes nothing. In memory: fake tmux and mailbox, a store kept in maps.
 */
import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../../src/config/index.ts";
import { Memory } from "../../../src/core/decision.ts";
import type { Effect } from "../../../src/core/effects.ts";
import { agentKey, emptyObservation, type Observation } from "../../../src/core/observation.ts";
import { heartbeatPass, newDraft } from "../../../src/core/pass.ts";
import type { SessionInfo } from "../../../src/core/ports.ts";
import { emptyState } from "../../../src/core/state.ts";
import { applyPass } from "../../../src/tick/apply.ts";
import { STEPS } from "../../../src/tick/pipeline.ts";
import { townPaths } from "../../../src/town.ts";
import { fakeMailbox, fakePorts } from "../../helpers/fake-ports.ts";
import { memoryStore } from "../../helpers/memory-store.ts";

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const paths = townPaths("/town");

/** A town with work for every step: a stale slot, a dead Deacon pane, a stale Mayor, a cycle request. */
function busyTown(): Observation {
  const sessions = new Map<string, SessionInfo>([
    ["gt-deacon", { name: "gt-deacon", paneDead: true, paneCommand: "claude", paneId: "%1" }],
    ["gt-mayor", { name: "gt-mayor", paneDead: false, paneCommand: "claude" }],
  ]);
  return {
    ...emptyObservation("heartbeat", T0),
    sessions,
    deaconCommand: { found: true, PATH: "/usr/bin" },
    slotDir: { problem: null, entries: [{ name: "slot-gt-old-heartbeat.json", mtimeMs: T0 - 3_600_000, slot: null }] },
    stamps: new Map([[paths.townKeepalive, { kind: "at", ms: T0 - 200_000 }]]),
    inbox: { messages: [{ id: "m1", title: "LIFECYCLE: mayor requesting cycle", status: "open" }], skipped: [] },
    agents: new Map([[agentKey("mayor", "cycle"), { outside: null, flag: { ok: true }, workDirExists: true }]]),
  };
}

async function run(obs: Observation, dryRun: boolean) {
  const config = defaultConfig();
  config.poke.mayor = true;
  const f = fakePorts({ startMs: T0, mailbox: fakeMailbox(obs.inbox && "messages" in obs.inbox ? [...obs.inbox.messages] : []) });
  for (const [name, info] of obs.sessions as Map<string, SessionInfo>) f.tmux.add(name, info);
  const store = memoryStore();
  f.ports.store = store;
  const d = newDraft({ obs, config, paths, memory: new Memory(), state: emptyState() });
  const effects = await applyPass(d, heartbeatPass(d, STEPS), { ports: f.ports, config, dryRun, signal: new AbortController().signal });
  return { effects, f, store, d };
}

const shape = (e: Effect) => {
  const { start, done, plan, ...rest } = e;
  return rest.kind === "saveState" ? { kind: "saveState", step: rest.step } : rest;
};

describe("dry run = plan", () => {
  test("the dry run's effects are the effects a real pass applies, for the same observation", async () => {
    const dry = await run(busyTown(), true);
    const real = await run(busyTown(), false);
    expect(dry.effects.map(shape)).toEqual(real.effects.map(shape));
    expect(dry.effects.map((e) => e.kind)).toEqual([
      "removeSlot", "respawnPane", "poke", "recordSlot", "poke", "recordSlot",
      "saveState", "killSession", "awaitGone", "newSession", "clearFlag", "saveState", "closeMessage", "saveState",
    ]);
  });

  test("the dry run changes nothing and says what it would do; the real pass does it", async () => {
    const dry = await run(busyTown(), true);
    expect(dry.f.tmux.writes()).toEqual([]);
    expect(dry.store.writes).toEqual([]);
    expect(dry.f.mailbox.closed).toEqual([]);
    expect(dry.f.logs).toContain("Would poke Deacon (very stale, backoff now: 7m30s) (dry run: nothing sent)");
    expect(dry.f.logs).toContain("(dry run) would close message m1");
    const real = await run(busyTown(), false);
    expect(real.f.tmux.writes()).toEqual([
      // The Deacon's dead pane is re-spawned (its own pane only) and its poke verified.
      "respawnPane %1", "pokeVerified gt-deacon HEARTBEAT: run your rounds",
      "poke gt-mayor HEARTBEAT: check your rigs", "killSession gt-mayor", "newSession gt-mayor",
    ]);
    expect(real.f.mailbox.closed).toEqual(["m1"]);
    expect(real.store.writes).toContain("clearFlag /town/mayor/state.json cycle");
    expect(real.f.logs).toContain("Poked Deacon (very stale, backoff now: 7m30s)");
  });

  test("a lost lock stops every exclusive effect before it happens, with its reason", async () => {
    const obs = busyTown();
    const config = defaultConfig();
    const f = fakePorts({ startMs: T0 });
    for (const [name, info] of obs.sessions as Map<string, SessionInfo>) f.tmux.add(name, info);
    f.ports.store = memoryStore();
    f.ports.exclusive = () => false;
    const d = newDraft({ obs, config, paths, memory: new Memory(), state: emptyState() });
    await applyPass(d, heartbeatPass(d, STEPS), { ports: f.ports, config, dryRun: false, signal: new AbortController().signal });
    expect(f.tmux.writes().filter((w) => !w.startsWith("poke"))).toEqual([]);
    expect(f.logs).toContain("Not touching Deacon (gt-deacon): this process no longer holds the town's lock");
  });
});
