/** clearStaleSlotsStep: removes what slots.ts says is stale, quiet otherwise; a dry run removes nothing. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearStaleSlots, markConsumed, recordSend } from "../../../src/slots.ts";
import { clearStaleSlotsStep, listStaleSlots, plannedSlotRemovals } from "../../../src/tick/slots-step.ts";
import { fakePorts, fakeTick } from "../../helpers/fake-ports.ts";

const MIN = 60_000;
let town: string;
let dir: string;
let now: number;

beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-slots-step-"));
  dir = join(town, "daemon", "notifications");
  mkdirSync(dir, { recursive: true });
  // Slot ages go by file mtimes, which are real: the clock of these tests is the real one.
  now = Date.now();
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

function age(name: string, ms: number): void {
  const t = (now - ms) / 1000;
  utimesSync(join(dir, name), t, t);
}

/** A typical directory: one stale by mtime, one consumed long ago, one fresh pending, a stale temp file, a stranger. */
function populate(): void {
  recordSend(dir, "gt-deacon", "heartbeat", "HEARTBEAT: run your rounds", now - MIN);
  recordSend(dir, "x", "y", "m", now - MIN);
  age("slot-x-y.json", 6 * MIN);
  recordSend(dir, "gt-mayor", "heartbeat", "m", now - 10 * MIN);
  markConsumed(dir, "gt-mayor", "heartbeat", now); // fresh mtime, but consumed and sent 10m ago
  writeFileSync(join(dir, ".slot-x-y.json.1.2.tmp"), "partial");
  age(".slot-x-y.json.1.2.tmp", 7 * MIN);
  writeFileSync(join(dir, "notes.txt"), "not a slot");
  age("notes.txt", 60 * MIN);
}

describe("clearStaleSlotsStep", () => {
  test("removes stale slots with one line each, keeps the pending one", async () => {
    populate();
    const f = fakePorts({ startMs: now });
    const ctx = await clearStaleSlotsStep(await fakeTick(f, { town }));
    expect(readdirSync(dir).sort()).toEqual(["notes.txt", "slot-gt-deacon-heartbeat.json"]);
    expect(f.logs).toEqual([
      "Removed stale slot .slot-x-y.json.1.2.tmp",
      "Removed stale slot slot-gt-mayor-heartbeat.json",
      "Removed stale slot slot-x-y.json",
    ]);
    expect(ctx.decisions.map((d) => [d.step, d.action])).toEqual([
      ["clearStaleSlots", "removed"], ["clearStaleSlots", "removed"], ["clearStaleSlots", "removed"],
    ]);
  });

  test("says nothing when nothing is stale or the directory does not exist", async () => {
    const f = fakePorts({ startMs: now });
    await clearStaleSlotsStep(await fakeTick(f, { town }));
    rmSync(dir, { recursive: true });
    await clearStaleSlotsStep(await fakeTick(f, { town }));
    recordSend(dir, "gt-deacon", "heartbeat", "m", now);
    await clearStaleSlotsStep(await fakeTick(f, { town }));
    expect(f.logs).toEqual([]);
  });

  test("dry run: reports what would go, removes nothing, and remembers it for pokeAgents", async () => {
    populate();
    const before = readdirSync(dir).sort();
    const f = fakePorts({ startMs: now });
    const ctx = await clearStaleSlotsStep(await fakeTick(f, { town, dryRun: true }));
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(f.logs).toEqual([
      "Would remove stale slot .slot-x-y.json.1.2.tmp (dry run)",
      "Would remove stale slot slot-gt-mayor-heartbeat.json (dry run)",
      "Would remove stale slot slot-x-y.json (dry run)",
    ]);
    expect([...plannedSlotRemovals(ctx)].sort()).toEqual([".slot-x-y.json.1.2.tmp", "slot-gt-mayor-heartbeat.json", "slot-x-y.json"]);
  });

  test("the dry-run listing agrees with clearStaleSlots on the same directory", () => {
    populate();
    const listed = listStaleSlots(dir, now, 5 * MIN);
    expect(clearStaleSlots(dir, now, 5 * MIN)).toEqual(listed);
  });
});
