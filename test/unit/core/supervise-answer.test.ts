/**
 * When a poke is judged: not before answerDueMs (the end of the first whole second after ECHO_MS: tmux's
 * activity clock has whole seconds), and no new poke to a supervised agent until then, so a heartbeat
 * shorter than that cannot judge every answer as silence (nor replace each poke before it is judged).
 * Each rule at its boundary: exactly at the due time, and one millisecond before; and for a poke late
 * in its second as for one early in it.
 */
import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../../src/config/index.ts";
import { Memory } from "../../../src/core/decision.ts";
import type { Effect, Outcome } from "../../../src/core/effects.ts";
import { emptyObservation, noSupervisionFiles, type Observation } from "../../../src/core/observation.ts";
import { heartbeatPass, newDraft } from "../../../src/core/pass.ts";
import { emptyState } from "../../../src/core/state.ts";
import { answerDueMs, ECHO_MS } from "../../../src/core/supervise.ts";
import { emptyRecord } from "../../../src/core/supervise-state.ts";
import { STEPS } from "../../../src/tick/pipeline.ts";
import { townPaths } from "../../../src/town.ts";

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const MIN = 60_000;
const paths = townPaths("/town");

/** T0 is a whole second: its answer is due 5 s later (the echo to T0 + 3 s, then all of the next second). */
const ANSWER_MS = answerDueMs(T0) - T0;

/** One heartbeat at `nowMs` after a delivered poke at `pokeMs` (unjudged), the Deacon very stale and due a poke. */
function pass(nowMs: number, activityMs: number | null = null, pokeMs = T0) {
  const obs: Observation = {
    ...emptyObservation("heartbeat", nowMs),
    sessions: new Map([["gt-deacon", { name: "gt-deacon", paneDead: false, paneCommand: "bash", paneId: "%1", panePid: 100, inMode: false, activityMs, panes: 1 }]]),
    deaconCommand: { found: true, PATH: "/usr/bin" },
    slotDir: { problem: null, entries: [] },
    procs: new Map([["deacon", { pid: 200, startedAtMs: T0 - 60 * MIN }]]),
    supervision: noSupervisionFiles(),
    clients: [],
  };
  const state = emptyState();
  state.supervise.set("deacon", { ...emptyRecord(), pid: 200, startedAtMs: T0 - 60 * MIN, lastPokeMs: pokeMs, pokeAnswered: null });
  const d = newDraft({ obs, config: defaultConfig(), paths, memory: new Memory(), state });
  const gen = heartbeatPass(d, STEPS);
  const effects: Effect[] = [];
  let next = gen.next();
  while (!next.done) {
    effects.push(next.value);
    next = gen.next({ ok: true, changed: true, nowMs, stopping: false } as Outcome);
  }
  return { kinds: effects.map((e) => e.kind), messages: d.decisions.map((x) => x.message), rec: d.state.supervise.get("deacon")! };
}

describe("a poke is judged once an answer would show", () => {
  test("one millisecond before ANSWER_MS: not judged, and no new poke replaces it", () => {
    const r = pass(T0 + ANSWER_MS - 1);
    expect(r.rec).toMatchObject({ pokeAnswered: null, unanswered: 0, lastPokeMs: T0 });
    expect(r.kinds).not.toContain("poke");
    expect(r.messages).toContain("Deacon's last poke is still awaiting its answer, skipping poke");
  });

  test("exactly at ANSWER_MS: a silent pane counts as unanswered, and the next poke goes out", () => {
    const r = pass(T0 + ANSWER_MS);
    expect(r.kinds).toContain("poke");
    expect(r.rec).toMatchObject({ unanswered: 1, firstUnansweredMs: T0, lastPokeMs: T0 + ANSWER_MS, pokeAnswered: null });
  });

  test("output after the echo counts at once, even before ANSWER_MS; output within ECHO_MS does not", () => {
    const answered = pass(T0 + ANSWER_MS - 1, T0 + ECHO_MS + 1);
    expect(answered.kinds).toContain("poke");
    expect(answered.rec.unanswered).toBe(0);
    const echo = pass(T0 + ANSWER_MS, T0 + ECHO_MS);
    expect(echo.rec.unanswered).toBe(1);
  });

  test("whatever the poke's fraction of a second, an answer shown in the first whole second after the echo is seen", () => {
    expect(ANSWER_MS).toBe(5000);
    for (const fraction of [1, 100, 500, 999]) {
      const poke = T0 + fraction;
      // tmux reports output at T0 + 4.0..4.999 s as T0 + 4 s: after the echo for every fraction.
      const shown = T0 + 4000;
      expect(answerDueMs(poke)).toBe(T0 + 5000);
      // The old rule judged at poke + 4 s: for a poke at .1 s that left 0.1 s for the answer to show.
      const early = pass(poke + 4000, shown - 1000, poke);
      expect(early.rec).toMatchObject({ pokeAnswered: null, unanswered: 0 });
      expect(pass(T0 + 5000, shown, poke).rec.unanswered).toBe(0);
      expect(pass(T0 + 5000, shown - 1000, poke).rec.unanswered).toBe(1);
    }
  });
});
