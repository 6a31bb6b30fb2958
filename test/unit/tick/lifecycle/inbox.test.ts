/** processLifecycle with a troubled inbox or ledger: unreadable inbox, skipped messages, corrupt and stale ledger entries. */
import { describe, expect, test } from "bun:test";
import { GtdError } from "../../../../src/errors.ts";
import { formatGoTime } from "../../../../src/gotime.ts";
import { INBOX_ERROR_WINDOW_MS } from "../../../../src/core/lifecycle.ts";
import { emptyState } from "../../../../src/state.ts";
import { Memory } from "../../../../src/tick/context.ts";
import { diskLedger, ledger, MIN, msg, pass, saveLedgerFile, T0, useLifecycleTown, world } from "./world.ts";

useLifecycleTown();

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
    w.skipped = ["message 2: id: must be a non-empty string"];
    for (let i = 0; i < 2; i++) await pass(w, { memory, state: emptyState() });
    expect(w.lines).toEqual(["Skipping malformed inbox message: message 2: id: must be a non-empty string"]);
  });

  test("a corrupt ledger entry is dropped with a warning (when state.json is loaded), the rest is used", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: mayor requesting cycle")];
    saveLedgerFile({ m1: { attempts: 1, first_seen: formatGoTime(T0), done: true }, bad: { attempts: "x" } });
    await pass(w);
    expect(w.lines[0]).toMatch(/^Warning: dropping corrupt lifecycle request record bad: attempts: /);
    expect(w.lines.slice(1)).toEqual(["Lifecycle request m1 was already handled; closing it again", "Closed lifecycle message m1"]);
    // m1 is out of the inbox now but kept (until pruned); the corrupt entry is gone.
    expect(Object.keys(diskLedger())).toEqual(["m1"]);
  });

  test("entries whose message left the inbox are pruned after a while", async () => {
    const w = world();
    const state = emptyState();
    state.requests = ledger({
      gone: { attempts: 1, first_seen: formatGoTime(T0 - 7 * 60 * MIN), done: true },
      recent: { attempts: 1, first_seen: formatGoTime(T0 - 10 * MIN), done: true },
    });
    await pass(w, { state });
    expect([...state.requests.keys()]).toEqual(["recent"]);
  });
});
