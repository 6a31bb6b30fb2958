/** processLifecycle with message ids named like Object's own properties: ordinary ids, tracked and given up like any other. */
import { describe, expect, test } from "bun:test";
import { diskLedger, flags, mayorState, msg, pass, useLifecycleTown, world } from "./world.ts";

useLifecycleTown();

const HOSTILE = ["__proto__", "constructor", "toString", "hasOwnProperty"];

describe("hostile ids", () => {
  test("a failing request with id __proto__ (or constructor, ...) is given up after maxAttempts and closed", async () => {
    const w = world();
    w.inbox = HOSTILE.map((id) => msg(id, "LIFECYCLE: mayor requesting cycle"));
    const reason = `state verification failed: agent state file not found: ${mayorState} (agent must set requesting_cycle=true before lifecycle request)`;
    for (const n of [1, 2]) {
      await pass(w); // each pass reads state.json back, as a restarted daemon would
      const ledger = diskLedger();
      for (const id of HOSTILE) {
        expect(Object.hasOwn(ledger, id)).toBe(true);
        expect(ledger[id]).toMatchObject({ attempts: n, done: false, last_error: reason });
      }
      expect(w.closed).toEqual([]);
    }
    w.lines = [];
    await pass(w);
    for (const id of HOSTILE) {
      expect(w.lines).toContain(`Giving up on lifecycle request ${id} from mayor after 3 attempts: ${reason}`);
      expect(diskLedger()[id]).toMatchObject({ attempts: 3, done: true });
    }
    expect(w.closed).toEqual(HOSTILE);
    // Nothing left to do: no fourth attempt, however many passes follow.
    w.lines = [];
    for (let i = 0; i < 3; i++) await pass(w);
    expect(w.lines).toEqual([]);
  });

  test("a __proto__ request already done is only closed again, never executed again", async () => {
    const w = world();
    w.inbox = [msg("__proto__", "LIFECYCLE: mayor requesting cycle")];
    w.closeError = new Error("exit status 1");
    for (let i = 0; i < 3; i++) await pass(w); // given up; the close failed
    expect(diskLedger().__proto__).toMatchObject({ attempts: 3, done: true });
    w.closeError = null;
    w.lines = [];
    await pass(w);
    expect(w.lines).toEqual(["Lifecycle request __proto__ was already handled; closing it again", "Closed lifecycle message __proto__"]);
  });

  test("an action word named like Object's own properties is an unknown action: rejected and closed, nothing runs", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ "requesting_function Object() { [native code] }": true, "requesting_[object Object]": true });
    w.inbox = ["constructor", "__proto__", "toString"].map((word, i) => msg(`m${i}`, `LIFECYCLE: mayor requesting ${word}`));
    await pass(w);
    expect(w.lines).toEqual(
      ["constructor", "__proto__", "toString"].flatMap((word, i) => [
        `Rejecting lifecycle request m${i}: unknown lifecycle action "${word}" (expected cycle, restart or shutdown)`,
        `Closed lifecycle message m${i}`,
      ]),
    );
    expect(w.tmux).toEqual([]);
  });
});

