/**
 * processLifecycle under a flood of mail: at most MAX_REQUESTS_PER_PASS per pass and none started after
 * PASS_BUDGET_MS, every request getting its turn, state.json written once per pass (plus only what a
 * crash must not lose), and a ledger that stays under LEDGER_CAP.
 */
import { describe, expect, test } from "bun:test";
import { LAST_ERROR_MAX_CHARS, LEDGER_CAP } from "../../../../src/core/ledger.ts";
import type { TickContext } from "../../../../src/tick/context.ts";
import { MAX_REQUESTS_PER_PASS, PASS_BUDGET_MS } from "../../../../src/core/lifecycle.ts";
import { diskLedger, flags, msg, pass, stateWrites, useLifecycleTown, world, type World } from "./world.ts";

useLifecycleTown();

const N = MAX_REQUESTS_PER_PASS;
const failing = (n: number, prefix = "f") => Array.from({ length: n }, (_, i) => msg(`${prefix}${i}`, "LIFECYCLE: mayor requesting cycle"));
const rejected = (n: number) => Array.from({ length: n }, (_, i) => msg(`r${i}`, "LIFECYCLE: mayor requesting reboot"));
const ids = (ctx: TickContext, action: string) => ctx.decisions.filter((d) => d.action === action).map((d) => d.data?.id as string);
const deferredLines = (w: World) => w.lines.filter((l) => / lifecycle requests? wait /.test(l));

describe("the per-pass bound", () => {
  test("10,000 requests: one pass handles the first 50, says once how many wait, asks for another pass, writes state once", async () => {
    const w = world();
    w.inbox = failing(10_000);
    const ctx = await pass(w);
    expect(ids(ctx, "processing")).toEqual(Array.from({ length: N }, (_, i) => `f${i}`));
    expect(deferredLines(w)).toEqual([`${10_000 - N} lifecycle requests wait for the next pass (at most ${N} are handled per pass)`]);
    expect(ctx.lifecycleBacklog).toBe(true);
    expect(stateWrites()).toBe(1);
    expect(Object.keys(diskLedger())).toHaveLength(N);
  });

  test("a flood drains pass by pass: every message closed exactly once, none dropped, one write per pass", async () => {
    const w = world();
    w.inbox = rejected(260);
    const backlog: boolean[] = [];
    while (w.inbox.length > 0) {
      backlog.push((await pass(w)).lifecycleBacklog);
      expect(backlog.length).toBeLessThan(20);
    }
    expect(backlog).toEqual([true, true, true, true, true, false]);
    expect(w.closed).toEqual(rejected(260).map((m) => m.id));
    expect(stateWrites()).toBe(6);
    expect(deferredLines(w)).toEqual([210, 160, 110, 60, 10].map((n) => `${n} lifecycle requests wait for the next pass (at most ${N} are handled per pass)`));
  });

  test("least recently handled first: every request gets its turn before any gets a second", async () => {
    const w = world();
    w.inbox = failing(120);
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) seen.push(ids(await pass(w), "processing"));
    expect(seen[0]).toEqual(failing(50).map((m) => m.id));
    expect(seen[1]).toEqual(failing(100).slice(50).map((m) => m.id));
    // The last 20 new ones, then the 30 handled longest ago.
    expect([...seen[2]!].sort()).toEqual([...failing(120).slice(100), ...failing(30)].map((m) => m.id).sort());
    expect(new Set(seen.flat()).size).toBe(120);
  });

  test("no request starts once the pass has run PASS_BUDGET_MS; the one in flight finishes; the rest wait", async () => {
    const w = world();
    w.inbox = rejected(60);
    const stepMs = 3000;
    w.onClose = () => void (w.now += stepMs); // each close is slow
    const ctx = await pass(w);
    const started = Math.ceil(PASS_BUDGET_MS / stepMs);
    expect(w.closed).toHaveLength(started);
    expect(deferredLines(w)).toEqual([`${60 - started} lifecycle requests wait for the next pass (no request starts once a pass has run 10s)`]);
    expect(ctx.lifecycleBacklog).toBe(true);
  });

  test("at least one request per pass, however slow the pass already is", async () => {
    const w = world();
    w.inbox = rejected(2);
    w.onClose = () => void (w.now += 10 * PASS_BUDGET_MS);
    await pass(w);
    expect(w.closed).toEqual(["r0"]);
    await pass(w);
    expect(w.closed).toEqual(["r0", "r1"]);
  });

  test("no further pass is asked for when the pass got nothing done (every close failing): it would only spin", async () => {
    const w = world();
    w.inbox = rejected(N + 10);
    w.closeError = new Error("exit status 1");
    const backlog: boolean[] = [];
    for (let i = 0; i < 3; i++) backlog.push((await pass(w)).lifecycleBacklog);
    // 1: fifty rejected; 2: ten more rejected (progress), forty re-closes; 3: fifty re-closes, all failing.
    expect(backlog).toEqual([true, true, false]);
    expect(deferredLines(w).at(-1)).toBe("10 lifecycle requests wait for the next pass (at most 50 are handled per pass)");
  });
});

describe("state.json writes", () => {
  test("fifty rejections: one write, the pass's own", async () => {
    const w = world();
    w.inbox = rejected(N);
    await pass(w);
    expect(w.closed).toHaveLength(N);
    expect(stateWrites()).toBe(1);
  });

  test("fifty requests failing verification: one write (their attempts go with the pass's save)", async () => {
    const w = world();
    w.inbox = failing(N);
    await pass(w);
    expect(stateWrites()).toBe(1);
    expect(Object.values(diskLedger()).every((e) => e.attempts === 1)).toBe(true);
  });

  test("an executed request: its attempt before the action, done before the close, and the pass's save", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true });
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle"), ...failing(10)];
    let atAction = -1;
    let atClose = -1;
    w.onNewSession = () => void (atAction = stateWrites());
    w.onClose = () => void (atClose = stateWrites());
    await pass(w);
    expect([atAction, atClose, stateWrites()]).toEqual([1, 2, 3]);
  });

  test("a stored error is clipped; the log line keeps it whole", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    flags({ requesting_cycle: "x".repeat(5000) }); // the reason quotes the value
    await pass(w);
    const stored = diskLedger().m1!.last_error!;
    expect(stored).toHaveLength(LAST_ERROR_MAX_CHARS);
    expect(w.lines.some((l) => l.startsWith("Error executing lifecycle action: ") && l.length > LAST_ERROR_MAX_CHARS)).toBe(true);
  });
});

describe("the ledger cap", () => {
  test("a flood larger than the cap: the ledger stays within it, no request in progress loses its entry, all end closed", async () => {
    const w = world();
    const total = LEDGER_CAP + 100;
    w.inbox = failing(total);
    const attempts = new Map<string, number>();
    let passes = 0;
    let roomLines = 0;
    while (w.inbox.length > 0) {
      passes += 1;
      expect(passes).toBeLessThan(200);
      const ctx = await pass(w);
      const ledger = diskLedger();
      expect(Object.keys(ledger).length).toBeLessThanOrEqual(LEDGER_CAP);
      // An entry of a message still in the inbox is never lost: its attempts only grow.
      const open = new Set(w.inbox.map((m) => m.id));
      for (const [id, n] of attempts) if (open.has(id)) expect(ledger[id]?.attempts ?? 0).toBeGreaterThanOrEqual(n);
      for (const [id, e] of Object.entries(ledger)) attempts.set(id, e.attempts);
      if (ctx.decisions.some((d) => d.message.includes("the request ledger is full (1000 requests in progress or still to be closed), so new ones wait for room"))) roomLines += 1;
    }
    expect(roomLines).toBeGreaterThan(0);
    expect(w.closed.sort()).toEqual(failing(total).map((m) => m.id).sort());
    expect(w.lines.filter((l) => l.startsWith("Giving up on lifecycle request "))).toHaveLength(total);
    expect(w.lines.filter((l) => l.startsWith("Processing lifecycle request "))).toHaveLength(3 * total);
  });
});
