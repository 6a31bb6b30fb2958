/**
 * clearStaleSlots: removes what the slot rules say is stale, quiet otherwise; a dry run removes nothing,
 * and plans the pokes that follow as if the stale slots were gone (as a real heartbeat then does).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clearStaleSlots as clearStaleSlotsDecide } from "../../../src/core/slots.ts";
import { clearStaleSlots, listStaleSlots, markConsumed, readSlot, recordSend } from "../../../src/slots.ts";
import type { TickContext } from "../../../src/tick/context.ts";
import { runHeartbeat, runPass } from "../../../src/tick/pipeline.ts";
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

/** A pass that observes the town and runs clearStaleSlots alone. */
const clearStaleSlotsStep = (ctx: TickContext) => runPass(ctx, "heartbeat", clearStaleSlotsDecide);

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

  test("dry run: reports what would go, removes nothing", async () => {
    populate();
    const before = readdirSync(dir).sort();
    const f = fakePorts({ startMs: now });
    await clearStaleSlotsStep(await fakeTick(f, { town, dryRun: true }));
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(f.logs).toEqual([
      "Would remove stale slot .slot-x-y.json.1.2.tmp (dry run)",
      "Would remove stale slot slot-gt-mayor-heartbeat.json (dry run)",
      "Would remove stale slot slot-x-y.json (dry run)",
    ]);
  });

  describe("a pending Deacon slot whose file is stale (sent 1m ago, mtime 6m ago)", () => {
    const SLOT = "slot-gt-deacon-heartbeat.json";
    /** The Deacon is alive and very stale (no heartbeat.json); only its pending slot could hold the poke back. */
    async function heartbeat(dryRun: boolean, staleFile: boolean) {
      recordSend(dir, "gt-deacon", "heartbeat", "HEARTBEAT: run your rounds", now - MIN);
      if (staleFile) age(SLOT, 6 * MIN);
      const before = readFileSync(join(dir, SLOT), "utf8");
      const f = fakePorts({ startMs: now });
      f.tmux.add("gt-deacon");
      await runHeartbeat(await fakeTick(f, { town, dryRun }));
      return { f, before };
    }

    test("a dry run plans the poke as if the slot were removed, and changes nothing", async () => {
      const { f, before } = await heartbeat(true, true);
      expect(f.logs).toEqual([
        "Heartbeat starting",
        `Would remove stale slot ${SLOT} (dry run)`,
        "Would poke Deacon (very stale, backoff now: 7m30s) (dry run: nothing sent)",
        "Heartbeat complete (#1)",
      ]);
      expect(f.tmux.writes()).toEqual([]);
      expect(readdirSync(dir)).toEqual([SLOT]);
      expect(readFileSync(join(dir, SLOT), "utf8")).toBe(before);
    });

    test("a real heartbeat does what the dry run planned: removes it, pokes, records a new slot", async () => {
      const { f } = await heartbeat(false, true);
      expect(f.logs).toEqual([
        "Heartbeat starting",
        `Removed stale slot ${SLOT}`,
        "Poked Deacon (very stale, backoff now: 7m30s)",
        "Heartbeat complete (#1)",
      ]);
      expect(f.tmux.writes()).toEqual(["pokeVerified gt-deacon HEARTBEAT: run your rounds"]);
      expect(readSlot(dir, "gt-deacon", "heartbeat")).toMatchObject({ sentAtMs: now, consumed: false });
    });

    test("with a fresh file the same slot holds the poke back, in a dry run too", async () => {
      const { f } = await heartbeat(true, false);
      expect(f.logs).toEqual(["Heartbeat starting", "Heartbeat already pending for Deacon, skipping", "Heartbeat complete (#1)"]);
    });
  });

  test("the dry-run listing agrees with clearStaleSlots on the same directory", () => {
    populate();
    const listed = listStaleSlots(dir, now, 5 * MIN);
    expect(clearStaleSlots(dir, now, 5 * MIN)).toEqual(listed);
  });
});
