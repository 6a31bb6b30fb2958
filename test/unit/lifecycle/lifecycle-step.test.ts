/** processLifecycle against small in-file fakes: the ledger, limits, dry-run, failures, hostile titles. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../../src/config/index.ts";
import { GtdError } from "../../../src/errors.ts";
import { formatGoTime } from "../../../src/gotime.ts";
import type { MailMessage, Ports } from "../../../src/ports.ts";
import { emptyState, readState, type DaemonState } from "../../../src/state.ts";
import { Memory, newTickContext, type TickContext } from "../../../src/tick/context.ts";
import { INBOX_ERROR_WINDOW_MS, processLifecycle } from "../../../src/tick/lifecycle-step.ts";
import { townPaths } from "../../../src/town.ts";

const T0 = Date.UTC(2025, 11, 20, 18, 0, 0);
const MIN = 60_000;

let town: string;
let mayorState: string;
beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-lstep-"));
  mkdirSync(join(town, "mayor"));
  mayorState = join(town, "mayor", "state.json");
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

/** The world the fakes share across passes: one inbox, one tmux, one clock, one log. */
class World {
  now = T0;
  inbox: MailMessage[] = [];
  inboxError: Error | null = null;
  closeError: Error | null = null;
  closed: string[] = [];
  sessions = new Set<string>();
  /** tmux writes only: `kill <s>`, `new <s>`, `send <s>`. */
  tmux: string[] = [];
  lines: string[] = [];
  /** Hooks to look at the world mid-action. */
  onNewSession = () => {};
  onClose = (_id: string) => {};
}
const world = () => new World();

function ports(w: World): Ports {
  return {
    clock: { now: () => w.now },
    sleep: async () => {},
    log: (m) => void w.lines.push(m),
    run: async () => ({ code: 0, stdout: "", stderr: "", timedOut: false, notFound: false }),
    mailbox: {
      inbox: async () => {
        if (w.inboxError) throw w.inboxError;
        return { messages: w.inbox.map((m) => ({ ...m })), skipped: [] };
      },
      close: async (id) => {
        w.onClose(id);
        if (w.closeError) throw w.closeError;
        w.closed.push(id);
        w.inbox = w.inbox.filter((m) => m.id !== id);
      },
      send: async () => {},
    },
    tmux: {
      sessions: async () => new Map(),
      hasSession: async (n) => w.sessions.has(n),
      killSession: async (n) => {
        w.tmux.push(`kill ${n}`);
        w.sessions.delete(n);
      },
      newSession: async (spec) => {
        w.tmux.push(`new ${spec.name}`);
        w.onNewSession();
        w.sessions.add(spec.name);
      },
      poke: async (n) => void w.tmux.push(`poke ${n}`),
      sendLine: async (n) => void w.tmux.push(`send ${n}`),
    },
  };
}

/** One pass. Each call reads state.json back, as a restarted daemon would, unless `state` is given. */
async function pass(w: World, o: { memory?: Memory; dryRun?: boolean; signal?: AbortSignal; state?: DaemonState } = {}): Promise<TickContext> {
  const paths = townPaths(town);
  const state = o.state ?? readState(paths.stateFile, w.now).state;
  const ctx = newTickContext({
    ports: ports(w),
    config: defaultConfig(),
    paths,
    state,
    dryRun: o.dryRun ?? false,
    memory: o.memory ?? new Memory(),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return processLifecycle(ctx);
}

const diskLedger = (): Record<string, { attempts: number; done: boolean; last_error: string | null; first_seen: string }> =>
  (readState(townPaths(town).stateFile, T0).state.extra.requests ?? {}) as never;
const flags = (obj: Record<string, unknown>) => writeFileSync(mayorState, JSON.stringify(obj));
const readFlags = () => JSON.parse(readFileSync(mayorState, "utf8"));
const msg = (id: string, title: string, extra: Partial<MailMessage> = {}): MailMessage => ({ id, title, status: "open", ...extra });

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
    expect(ctx.state.extra.requests).toEqual(diskLedger());
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
    expect(existsSync(townPaths(town).stateFile)).toBe(false);
  });
});

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
    state.extra.requests = { m1: { attempts: 3, first_seen: formatGoTime(T0), last_error: null, done: false } };
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
    state.extra.requests = { old: { attempts: 1, first_seen: formatGoTime(T0 - 48 * 60 * MIN), last_error: null, done: false } };
    const before = JSON.stringify(state);
    const ctx = await pass(w, { dryRun: true, state });
    expect(w.tmux).toEqual([]);
    expect(w.closed).toEqual([]);
    expect(readFlags()).toEqual({ requesting_cycle: true });
    expect(existsSync(townPaths(town).stateFile)).toBe(false);
    expect(JSON.stringify(ctx.state)).toBe(before);
    const acts = ctx.decisions.map((d) => d.action);
    expect(acts).toEqual(expect.arrayContaining(["would-kill", "would-restart", "would-clear", "would-close", "rejected", "expired"]));
    expect(acts.filter((a) => a === "would-close")).toHaveLength(3);
  });
});

describe("inbox problems", () => {
  test("an unreadable inbox is logged once per window per distinct error", async () => {
    const w = world();
    const memory = new Memory();
    w.inboxError = new GtdError("MAILBOX", "mailbox inbox (bd mail inbox --identity deacon/ --json) failed: exit status 1");
    await pass(w, { memory });
    expect(w.lines).toEqual(["Error reading lifecycle mail: mailbox inbox (bd mail inbox --identity deacon/ --json) failed: exit status 1"]);
    w.now += 5 * MIN;
    await pass(w, { memory });
    expect(w.lines).toHaveLength(1);
    w.inboxError = new GtdError("MAILBOX", "inbox output is not JSON: xyz");
    await pass(w, { memory });
    expect(w.lines.at(-1)).toBe("Error reading lifecycle mail: inbox output is not JSON: xyz");
    w.inboxError = new GtdError("MAILBOX", "mailbox inbox (bd mail inbox --identity deacon/ --json) failed: exit status 1");
    w.now += INBOX_ERROR_WINDOW_MS;
    await pass(w, { memory });
    expect(w.lines).toHaveLength(3);
  });

  test("an inbox error whose text differs only in numbers (a PID, a time) counts as one error", async () => {
    const w = world();
    const memory = new Memory();
    for (const pid of [101, 202, 303]) {
      w.inboxError = new GtdError("MAILBOX", `mailbox inbox failed: exit status 1: lock held by pid ${pid}`);
      await pass(w, { memory });
      w.now += MIN;
    }
    expect(w.lines).toEqual(["Error reading lifecycle mail: mailbox inbox failed: exit status 1: lock held by pid 101"]);
  });

  test("skipped messages are logged once each", async () => {
    const w = world();
    const memory = new Memory();
    const p = ports(w);
    p.mailbox.inbox = async () => ({ messages: [], skipped: ["message 2: id: must be a non-empty string"] });
    for (let i = 0; i < 2; i++) {
      const ctx = newTickContext({ ports: p, config: defaultConfig(), paths: townPaths(town), state: emptyState(), memory });
      await processLifecycle(ctx);
    }
    expect(w.lines).toEqual(["Skipping malformed inbox message: message 2: id: must be a non-empty string"]);
  });

  test("a corrupt ledger entry is dropped with a warning, the rest is used", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    const state = emptyState();
    state.extra.requests = { m1: { attempts: 1, first_seen: formatGoTime(T0), done: true }, bad: { attempts: "x" } };
    await pass(w, { state });
    expect(w.lines[0]).toMatch(/^Warning: dropping corrupt lifecycle request record bad: attempts: /);
    expect(w.lines.slice(1)).toEqual(["Lifecycle request m1 was already handled; closing it again", "Closed lifecycle message m1"]);
    // m1 is out of the inbox now but kept (until pruned); the corrupt entry is gone.
    expect(Object.keys(state.extra.requests as object)).toEqual(["m1"]);
  });

  test("entries whose message left the inbox are pruned after a while", async () => {
    const w = world();
    const state = emptyState();
    state.extra.requests = {
      gone: { attempts: 1, first_seen: formatGoTime(T0 - 7 * 60 * MIN), done: true },
      recent: { attempts: 1, first_seen: formatGoTime(T0 - 10 * MIN), done: true },
    };
    await pass(w, { state });
    expect(Object.keys(state.extra.requests as object)).toEqual(["recent"]);
  });
});

describe("hostile and broken titles", () => {
  const titles = [
    "LIFECYCLE: $(touch pwned) requesting cycle",
    "LIFECYCLE: mayor;touch pwned requesting cycle",
    "LIFECYCLE: ../../etc requesting restart",
    "LIFECYCLE: mayor/../x requesting cycle",
    "LIFECYCLE: may\u0007or requesting cycle",
    "LIFECYCLE: mayor\nrequesting cycle",
    `LIFECYCLE: mayor requesting cycle ${"x".repeat(100_000)}`,
    "LIFECYCLE: mayor requesting $(reboot)",
    "LIFECYCLE: mayor requesting",
    "LIFECYCLE: -rf requesting cycle",
  ];
  test("each is rejected and closed once; nothing runs, nothing in tmux changes", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true, requesting_restart: true, requesting_shutdown: true });
    w.inbox = [
      ...titles.map((t, i) => msg(`h${i}`, t)),
      msg("s1", "LIFECYCLE: requesting cycle", { sender: "$(touch pwned)" }),
      msg("s2", "LIFECYCLE: requesting cycle"),
    ];
    await pass(w);
    const rejected = w.lines.filter((l) => l.startsWith("Rejecting lifecycle request "));
    expect(rejected).toHaveLength(titles.length + 2);
    for (const l of w.lines) expect(l.length).toBeLessThan(400);
    expect(w.lines.some((l) => l.startsWith("Processing") || l.startsWith("Executing"))).toBe(false);
    expect(w.tmux).toEqual([]);
    expect(w.closed.sort()).toEqual([...titles.map((_, i) => `h${i}`), "s1", "s2"].sort());
    expect(readFlags()).toEqual({ requesting_cycle: true, requesting_restart: true, requesting_shutdown: true });
    w.lines = [];
    await pass(w);
    expect(w.lines).toEqual([]);
  });

  test("an unknown agent is reported as the original did, then closed (it can never succeed)", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: witness requesting cycle")];
    await pass(w);
    expect(w.lines).toEqual([
      "Processing lifecycle request from witness: cycle",
      "Error executing lifecycle action: unknown agent identity: witness",
      "Closing lifecycle request m1: it can never succeed",
      "Closed lifecycle message m1",
    ]);
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

  test("already asked: the inbox is not even read", async () => {
    const w = world();
    w.inboxError = new Error("should not be called");
    const ac = new AbortController();
    ac.abort();
    await pass(w, { signal: ac.signal });
    expect(w.lines).toEqual([]);
  });
});
