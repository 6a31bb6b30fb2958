/** processLifecycle's request ledger: bounded retries and expiry, and never carrying out a request twice. */
import { describe, expect, test } from "bun:test";
import { GtdError } from "../../../../src/errors.ts";
import { formatGoTime } from "../../../../src/gotime.ts";
import { emptyState } from "../../../../src/state.ts";
import { Memory } from "../../../../src/tick/context.ts";
import { INBOX_ERROR_WINDOW_MS } from "../../../../src/core/lifecycle.ts";
import { diskLedger, flags, ledger, mayorState, MIN, msg, pass, readFlags, T0, useLifecycleTown, world } from "./world.ts";

useLifecycleTown();

describe("bounded retries", () => {
  test("attempts persist across restarts; after maxAttempts the request is closed with the reason", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    const reason = `state verification failed: agent state file not found: ${mayorState} (agent must set requesting_cycle=true before lifecycle request)`;
    for (const n of [1, 2]) {
      w.lines = [];
      await pass(w);
      expect(w.lines).toContain(`Error executing lifecycle action: ${reason}`);
      expect(diskLedger().m1).toMatchObject({ attempts: n, done: false, last_error: reason });
      expect(w.closed).toEqual([]);
    }
    w.lines = [];
    await pass(w);
    expect(w.lines.slice(-2)).toEqual([`Giving up on lifecycle request m1 from mayor after 3 attempts: ${reason}`, "Closed lifecycle message m1"]);
    expect(diskLedger().m1).toMatchObject({ attempts: 3, done: true });
    expect(w.closed).toEqual(["m1"]);
  });

  test("a daemon that died mid-action on the last attempt gives up on restart, without a fourth try", async () => {
    const w = world();
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    const state = emptyState();
    state.requests = ledger({ m1: { attempts: 3, first_seen: formatGoTime(T0), last_error: null, done: false } });
    await pass(w, { state });
    expect(w.tmux).toEqual([]);
    expect(w.lines).toEqual(["Giving up on lifecycle request m1 from mayor after 3 attempts: no result recorded (interrupted)", "Closed lifecycle message m1"]);
  });

  test("expired (created_at older than 6h): closed unexecuted, flag kept", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle", { created_at: formatGoTime(T0 - 7 * 60 * MIN) })];
    await pass(w);
    expect(w.lines).toEqual([
      "Closing expired lifecycle request m1 from mayor (cycle) unexecuted: 7h0m0s old, older than 6h0m0s",
      "Closed lifecycle message m1",
    ]);
    expect(w.tmux).toEqual([]);
    expect(readFlags()).toEqual({ requesting_cycle: true });
    expect(diskLedger().m1).toMatchObject({ done: true, attempts: 0 });
  });

  test("expired without created_at: age counts from when gtd first saw it", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    await pass(w); // fails verification, attempt 1
    w.now = T0 + 6 * 60 * MIN + 1000;
    w.lines = [];
    await pass(w);
    expect(w.lines[0]).toBe("Closing expired lifecycle request m1 from mayor (cycle) unexecuted: 6h0m1s old, older than 6h0m0s");
    expect(w.closed).toEqual(["m1"]);
  });
});

describe("never twice", () => {
  test("close fails: the next passes (and a restarted daemon) only close again, even with the flag set again", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    w.closeError = new GtdError("MAILBOX", "mailbox close (bd close {id}) failed: exit status 1");
    await pass(w);
    expect(w.lines.at(-1)).toBe("Warning: failed to close message m1: mailbox close (bd close {id}) failed: exit status 1");
    expect(w.tmux).toEqual(["kill gt-mayor", "new gt-mayor"]);

    flags({ requesting_cycle: true }); // the agent (or a forger) asks again: the old mail must not do it
    w.closeError = null;
    w.lines = [];
    await pass(w);
    expect(w.tmux).toEqual(["kill gt-mayor", "new gt-mayor"]);
    expect(w.lines).toEqual(["Lifecycle request m1 was already handled; closing it again", "Closed lifecycle message m1"]);
    expect(w.closed).toEqual(["m1"]);
  });

  test("an id listed twice in one inbox is one request", async () => {
    const w = world();
    flags({ requesting_cycle: true, requesting_shutdown: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle"), msg("m1", "LIFECYCLE: mayor requesting shutdown")];
    w.closeError = new Error("exit status 1");
    await pass(w);
    expect(w.tmux).toEqual(["new gt-mayor"]);
    expect(w.lines.filter((l) => l.startsWith("Processing"))).toEqual(["Processing lifecycle request from mayor: cycle"]);
  });

  test("close warnings are rate-limited per message and error", async () => {
    const w = world();
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    w.closeError = new Error("exit status 1");
    const memory = new Memory();
    await pass(w, { memory });
    w.lines = [];
    w.now += MIN;
    await pass(w, { memory });
    expect(w.lines).toEqual(["Lifecycle request m1 was already handled; closing it again"]);
    w.lines = [];
    w.now += INBOX_ERROR_WINDOW_MS;
    await pass(w, { memory });
    expect(w.lines).toEqual(["Warning: failed to close message m1: exit status 1"]);
  });
});
