/** processLifecycle carrying out a request: the happy path, a dry run that changes nothing, and a shutdown asked mid-pass. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { formatGoTime } from "../../../../src/gotime.ts";
import { ledgerToJson } from "../../../../src/core/ledger.ts";
import { emptyState, serializeState } from "../../../../src/state.ts";
import { townPaths } from "../../../../src/town.ts";
import { diskLedger, flags, ledger, MIN, msg, pass, readFlags, stateWrites, T0, town, useLifecycleTown, world } from "./world.ts";

useLifecycleTown();

describe("a request that succeeds", () => {
  test("executed once, flag cleared (other keys kept), done saved before the close, closed", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    flags({ requesting_cycle: true, requesting_time: "2025-12-20T18:00:00Z", mine: 1 });
    w.onNewSession = () => expect(diskLedger().m1?.attempts).toBe(1); // counted before the action
    w.onClose = () => expect(diskLedger().m1?.done).toBe(true); // saved before the close
    const ctx = await pass(w);
    expect(w.lines).toEqual([
      "Processing lifecycle request from mayor: cycle",
      "Executing cycle for session gt-mayor",
      "Verified agent mayor has requesting_cycle=true",
      "Killed session gt-mayor for restart",
      "Restarted session gt-mayor",
      "Cleared requesting_cycle for agent mayor",
      "Closed lifecycle message m1",
    ]);
    expect(readFlags()).toEqual({ requesting_time: "2025-12-20T18:00:00Z", mine: 1 });
    expect(w.closed).toEqual(["m1"]);
    expect(ledgerToJson(ctx.state.requests)).toEqual(diskLedger());
  });

  test("the caller's state holds each mid-pass save at once (the daemon's shutdown save cannot undo it)", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    flags({ requesting_cycle: true });
    const state = emptyState();
    const seen: string[] = [];
    w.onNewSession = () => void seen.push(`action: attempts ${state.requests.get("m1")?.attempts}`);
    w.onClose = () => void seen.push(`close: done ${state.requests.get("m1")?.done}`);
    await pass(w, { state });
    expect(seen).toEqual(["action: attempts 1", "close: done true"]);
  });

  test("closed messages and other mail are left alone without a word", async () => {
    const w = world();
    flags({ requesting_cycle: true });
    w.inbox = [
      msg("a", "LIFECYCLE: mayor requesting cycle", { status: "closed" }),
      msg("b", "Regular mail"),
      msg("c", "  LIFECYCLE: mayor requesting cycle"),
      msg("d", "HEARTBEAT: check rigs"),
    ];
    const ctx = await pass(w);
    expect(w.lines).toEqual([]);
    expect(ctx.decisions).toEqual([]);
    expect(w.closed).toEqual([]);
    expect(w.tmux).toEqual([]);
    expect(stateWrites()).toBe(1); // the pass's own save only
    expect(ctx.state.requests.size).toBe(0);
  });
});

describe("dry run", () => {
  test("decides, but kills, creates, closes and writes nothing", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true });
    w.inbox = [
      msg("m1", "LIFECYCLE: mayor requesting cycle"),
      msg("m2", "LIFECYCLE: $(touch x) requesting cycle"),
      msg("m3", "LIFECYCLE: mayor requesting shutdown", { created_at: formatGoTime(T0 - 24 * 60 * MIN) }),
    ];
    const state = emptyState();
    state.requests = ledger({ old: { attempts: 1, first_seen: formatGoTime(T0 - 48 * 60 * MIN), last_error: null, done: false } });
    const before = serializeState(state);
    const ctx = await pass(w, { dryRun: true, state });
    expect(w.tmux).toEqual([]);
    expect(w.closed).toEqual([]);
    expect(readFlags()).toEqual({ requesting_cycle: true });
    expect(existsSync(townPaths(town).stateFile)).toBe(false);
    // The caller's state is left as it was; ctx.state is the pass's draft (what a real pass would save).
    expect(serializeState(state)).toBe(before);
    expect(ctx.state).not.toBe(state);
    const acts = ctx.decisions.map((d) => d.action);
    expect(acts).toEqual(expect.arrayContaining(["would-kill", "would-restart", "would-clear", "would-close", "rejected", "expired"]));
    expect(acts.filter((a) => a === "would-close")).toHaveLength(3);
  });
});

describe("shutdown", () => {
  test("asked during an action: it finishes, no further request starts", async () => {
    const w = world();
    flags({ requesting_cycle: true, requesting_shutdown: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle"), msg("m2", "LIFECYCLE: mayor requesting shutdown")];
    const ac = new AbortController();
    w.onNewSession = () => ac.abort();
    await pass(w, { signal: ac.signal });
    expect(w.closed).toEqual(["m1"]);
    expect(w.lines.at(-1)).toBe("Shutdown requested: remaining lifecycle requests wait for the next start");
    expect(w.lines.some((l) => l.includes("for session gt-mayor") && l.includes("shutdown"))).toBe(false);
  });

  test("asked while the inbox is read (the read still succeeds): no request starts", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    const ac = new AbortController();
    w.onInbox = () => ac.abort();
    await pass(w, { signal: ac.signal });
    expect(w.tmux).toEqual([]);
    expect(w.closed).toEqual([]);
    expect(w.lines.some((l) => l.startsWith("Processing") || l.startsWith("Executing"))).toBe(false);
    expect(readFlags()).toEqual({ requesting_cycle: true });
  });

  test("already asked: the inbox is not even read", async () => {
    const w = world();
    w.inboxError = new Error("should not be called");
    const ac = new AbortController();
    ac.abort();
    await pass(w, { signal: ac.signal });
    expect(w.lines).toEqual([]);
  });
});

describe("one action per agent per pass", () => {
  test("a cycle and a shutdown for one agent: the cycle now, the shutdown in the next pass (asked for at once)", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true, requesting_shutdown: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle"), msg("m2", "LIFECYCLE: mayor requesting shutdown")];
    const first = await pass(w);
    expect(w.closed).toEqual(["m1"]);
    expect(w.lines).toContain("1 lifecycle request waits for the next pass (one action per agent per pass)");
    expect(first.lifecycleBacklog).toBe(true);
    expect(w.lines.some((l) => l.startsWith("Executing shutdown"))).toBe(false);
    const second = await pass(w, { state: first.state });
    expect(w.closed).toEqual(["m1", "m2"]);
    expect(w.lines.some((l) => l.startsWith("Executing shutdown for session gt-mayor"))).toBe(true);
    expect(second.lifecycleBacklog ?? false).toBe(false);
  });

  test("requests whose flag is not set act on nothing and are not held back", async () => {
    const w = world();
    flags({});
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle"), msg("m2", "LIFECYCLE: mayor requesting cycle")];
    await pass(w);
    expect(w.lines.filter((l) => l.startsWith("Error executing lifecycle action: state verification failed"))).toHaveLength(2);
    expect(w.lines.some((l) => l.includes("one action per agent"))).toBe(false);
  });
});
