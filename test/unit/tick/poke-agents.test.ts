/**
 * pokeAgents over fake ports and a temp town: every branch of §5.2 with its log line, cadence, persistence.
 * Each tick is one pass that observes the town (sessions, heartbeat files, slots) and runs this step alone.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import { formatGoTime } from "../../../src/gotime.ts";
import { readSlot, recordSend, slotPath } from "../../../src/slots.ts";
import { toJson as backoffToJson } from "../../../src/core/backoff.ts";
import { pokeAgents } from "../../../src/core/pokes.ts";
import { emptyState, readState, writeState, type DaemonState } from "../../../src/state.ts";
import { Memory } from "../../../src/tick/context.ts";
import { runPass } from "../../../src/tick/pipeline.ts";
import { TmuxError } from "../../../src/tmux.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";
import { fakePorts, fakeTick, type FakePorts } from "../../helpers/fake-ports.ts";

const MIN = 60_000;
const DEACON_TEXT = "HEARTBEAT: run your rounds";
let town: string;
let paths: TownPaths;
let f: FakePorts;
let state: DaemonState;
let memory: Memory;

beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-poke-"));
  paths = townPaths(town);
  f = fakePorts();
  f.tmux.add("gt-deacon");
  state = emptyState();
  memory = new Memory();
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

function writeStamp(file: string, ms: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ timestamp: formatGoTime(ms) }));
}
/** The Deacon's heartbeat.json, `ageMs` before the fake clock's now. */
const deaconSeen = (ageMs: number) => writeStamp(paths.deaconHeartbeat, f.clock.now() - ageMs);

/** One pass of pokeAgents alone; returns the lines it logged. A real pass adopts its state into `state`. */
async function tick(o: { config?: Config; dryRun?: boolean; signal?: AbortSignal } = {}): Promise<string[]> {
  const from = f.logs.length;
  await runPass(await fakeTick(f, { town, state, memory, ...o }), "heartbeat", pokeAgents);
  return f.logs.slice(from);
}
/** The saved backoff as state.json holds it. */
const savedBackoff = () => backoffToJson(state.backoff!);
const pokes = () => f.tmux.calls.filter((c) => c.startsWith("poke ") || c.startsWith("pokeVerified "));

describe("one pass, each branch", () => {
  test("session absent", async () => {
    f.tmux.map.delete("gt-deacon");
    f.tmux.add("gt-deacon-old");
    expect(await tick()).toEqual(["Deacon session not running after ensure, skipping poke"]);
    expect(pokes()).toEqual([]);
  });

  test("session list failed: no pokes", async () => {
    f.tmux.fail.sessions = new Error("tmux list-sessions: boom");
    expect(await tick()).toEqual(["Error checking agent sessions: tmux session list failed, skipping pokes"]);
    expect(pokes()).toEqual([]);
  });

  test("dead pane: not poked", async () => {
    f.tmux.map.get("gt-deacon")!.info.paneDead = true;
    expect(await tick()).toEqual(["Deacon session gt-deacon has a dead pane, skipping poke"]);
  });

  test("very stale (no heartbeat.json): poked, slot recorded, backoff grows and is stamped with the tick's time", async () => {
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
    expect(pokes()).toEqual([`pokeVerified gt-deacon ${DEACON_TEXT}`]);
    expect(readSlot(paths.notificationsDir, "gt-deacon", "heartbeat")).toMatchObject({
      session: "gt-deacon", slot: "heartbeat", message: DEACON_TEXT, sentAtMs: f.clock.now(), consumed: false,
    });
    expect(savedBackoff()).toEqual({
      deacon: { interval_ms: 450_000, last_poke: formatGoTime(f.clock.now()), misses: 1, last_activity: null },
    });
  });

  test("stale: poked, interval unchanged", async () => {
    deaconSeen(3 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (stale)"]);
    expect(pokes().length).toBe(1);
    expect(savedBackoff()).toMatchObject({ deacon: { interval_ms: 300_000, misses: 0 } });
  });

  test("fresh: no poke, pending slot consumed, backoff back to base", async () => {
    await tick(); // very stale poke: interval 7m30s, slot pending
    f.clock.advance(MIN);
    deaconSeen(30_000);
    expect(await tick()).toEqual(["Deacon is fresh, skipping poke"]);
    expect(pokes().length).toBe(1);
    expect(readSlot(paths.notificationsDir, "gt-deacon", "heartbeat")).toMatchObject({ consumed: true, consumedAtMs: f.clock.now() });
    expect(savedBackoff()).toMatchObject({ deacon: { interval_ms: 300_000, misses: 0, last_activity: formatGoTime(f.clock.now()) } });
  });

  test("backoff in effect", async () => {
    await tick();
    f.clock.advance(5 * MIN);
    expect(await tick()).toEqual(["Deacon backoff in effect (interval: 7m30s), skipping poke"]);
    expect(pokes().length).toBe(1);
  });

  test("slot pending (e.g. from before a restart): not poked", async () => {
    recordSend(paths.notificationsDir, "gt-deacon", "heartbeat", DEACON_TEXT, f.clock.now() - MIN);
    expect(await tick()).toEqual(["Heartbeat already pending for Deacon, skipping"]);
    expect(pokes()).toEqual([]);
  });

  test("a consumed or expired slot does not block", async () => {
    recordSend(paths.notificationsDir, "gt-deacon", "heartbeat", DEACON_TEXT, f.clock.now() - 6 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
  });

  test("corrupt slot: said once, poked anyway, slot rewritten", async () => {
    const file = slotPath(paths.notificationsDir, "gt-deacon", "heartbeat");
    mkdirSync(paths.notificationsDir, { recursive: true });
    writeFileSync(file, "xx");
    const lines = await tick();
    expect(lines[0]).toStartWith(`Warning: heartbeat slot for gt-deacon is corrupt (${file}: invalid JSON`);
    expect(lines[1]).toBe("Poked Deacon (very stale, backoff now: 7m30s)");
    expect(readSlot(paths.notificationsDir, "gt-deacon", "heartbeat")).toMatchObject({ consumed: false });
    writeFileSync(file, "xx");
    f.clock.advance(10 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 11m15s)"]);
  });

  test("poke fails: the error in the original's words; no slot, no backoff change, so the next tick retries", async () => {
    f.tmux.fail.pokeVerified = new TmuxError("other", "tmux send-keys: boom");
    expect(await tick()).toEqual(["Error poking Deacon: tmux send-keys: boom"]);
    expect(existsSync(slotPath(paths.notificationsDir, "gt-deacon", "heartbeat"))).toBe(false);
    delete f.tmux.fail.pokeVerified;
    f.clock.advance(5 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
  });

  test("a timestamp an hour in the future is very stale (defect 19); 30 s ahead is fresh", async () => {
    deaconSeen(-60 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
    deaconSeen(-30_000);
    expect(await tick()).toEqual(["Deacon is fresh, skipping poke"]);
  });

  test("aborted: nothing is poked", async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await tick({ signal: ac.signal })).toEqual([]);
    expect(pokes()).toEqual([]);
  });
});

describe("cadence across heartbeats", () => {
  test("very stale: intervals grow to the cap and each poke comes on the first tick its interval has elapsed", async () => {
    const poked: number[] = [];
    const intervals: string[] = [];
    for (let minute = 0; minute <= 140; minute += 5) {
      const lines = await tick();
      const m = /^Poked Deacon \(very stale, backoff now: (.+)\)$/.exec(lines[0]!);
      if (m) {
        poked.push(minute);
        intervals.push(m[1]!);
      } else expect(lines[0]).toStartWith("Deacon backoff in effect (interval: ");
      f.clock.advance(5 * MIN);
    }
    expect(intervals).toEqual(["7m30s", "11m15s", "16m52.5s", "25m18.75s", "30m0s", "30m0s", "30m0s"]);
    expect(poked).toEqual([0, 10, 25, 45, 75, 105, 135]);
  });

  test("stale with tick = base = 5m: a poke at every tick (no tick skipped after a poke, defect 18)", async () => {
    for (let i = 0; i < 6; i++) {
      deaconSeen(3 * MIN);
      expect(await tick()).toEqual(["Poked Deacon (stale)"]);
      // A heartbeat that fires a little early is still on time.
      f.clock.advance(i === 2 ? 5 * MIN - 500 : 5 * MIN);
    }
    expect(pokes().length).toBe(6);
  });

  test("after fresh, the next very-stale poke starts again from base", async () => {
    await tick(); // 7m30s
    f.clock.advance(10 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 11m15s)"]);
    f.clock.advance(5 * MIN);
    deaconSeen(0);
    expect(await tick()).toEqual(["Deacon is fresh, skipping poke"]);
    f.clock.advance(5 * MIN);
    rmSync(paths.deaconHeartbeat);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
  });

  test("backoff survives a restart through state.json", async () => {
    await tick();
    writeState(paths.stateFile, state);
    // A new daemon: state read from disk, nothing remembered in memory.
    state = readState(paths.stateFile, f.clock.now()).state;
    memory = new Memory();
    f.clock.advance(5 * MIN);
    expect(await tick()).toEqual(["Deacon backoff in effect (interval: 7m30s), skipping poke"]);
    f.clock.advance(5 * MIN);
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 11m15s)"]);
    expect(JSON.parse(readFileSync(paths.stateFile, "utf8")).backoff.deacon.interval_ms).toBe(450_000);
  });

  test("an invalid saved backoff: that agent starts from base (the warning is readState's note, test/unit/state.test.ts)", async () => {
    mkdirSync(dirname(paths.stateFile), { recursive: true });
    writeFileSync(paths.stateFile, JSON.stringify({ backoff: { deacon: { interval_ms: "soon", misses: 0 } } }));
    const loaded = readState(paths.stateFile, f.clock.now());
    expect(loaded.notes).toHaveLength(1);
    state = loaded.state;
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
  });
});

describe("mayor and witnesses", () => {
  function rig(name: string): void {
    mkdirSync(join(town, name, ".beads"), { recursive: true });
  }
  const both = () => {
    const c = defaultConfig();
    c.poke = { mayor: true, witnesses: true };
    return c;
  };

  test("off by default: only the Deacon is poked", async () => {
    rig("rigA");
    f.tmux.add("gt-mayor");
    f.tmux.add("gt-rigA-witness");
    expect(await tick()).toEqual(["Poked Deacon (very stale, backoff now: 7m30s)"]);
    expect(pokes()).toEqual([`pokeVerified gt-deacon ${DEACON_TEXT}`]);
  });

  test("enabled: mayor and each rig's witness, with their texts, freshness files and backoff ids", async () => {
    rig("rigA");
    rig("rigB");
    rig("rigC");
    f.tmux.add("gt-mayor");
    f.tmux.add("gt-rigA-witness");
    f.tmux.add("gt-rigC-witness");
    deaconSeen(0);
    writeStamp(join(town, "rigC", ".gastown", "keepalive.json"), f.clock.now() - 3 * MIN);
    expect(await tick({ config: both() })).toEqual([
      "Deacon is fresh, skipping poke",
      "Poked Mayor (very stale, backoff now: 7m30s)",
      "Poked witness for rigA (very stale, backoff now: 7m30s)",
      "Rig rigB has no witness session, skipping",
      "Poked witness for rigC (stale)",
    ]);
    expect(pokes()).toEqual([
      "poke gt-mayor HEARTBEAT: check your rigs",
      "poke gt-rigA-witness HEARTBEAT: check your workers",
      "poke gt-rigC-witness HEARTBEAT: check your workers",
    ]);
    expect([...state.backoff!.keys()]).toEqual(["deacon", "mayor", "rigA-witness", "rigC-witness"]);

    f.clock.advance(5 * MIN);
    f.tmux.map.delete("gt-mayor");
    writeStamp(paths.townKeepalive, f.clock.now());
    deaconSeen(0);
    expect(await tick({ config: both() })).toEqual([
      "Deacon is fresh, skipping poke",
      "Mayor session not running, skipping poke",
      "Witness for rigA backoff in effect (interval: 7m30s), skipping poke",
      "Rig rigB has no witness session, skipping",
      "Poked witness for rigC (very stale, backoff now: 7m30s)",
    ]);
  });

  test("mayor fresh from the town keepalive; a pending witness slot", async () => {
    rig("rigA");
    f.tmux.add("gt-mayor");
    f.tmux.add("gt-rigA-witness");
    deaconSeen(0);
    writeStamp(paths.townKeepalive, f.clock.now() - 10_000);
    recordSend(paths.notificationsDir, "gt-rigA-witness", "heartbeat", "x", f.clock.now() - MIN);
    expect(await tick({ config: both() })).toEqual([
      "Deacon is fresh, skipping poke",
      "Mayor is fresh, skipping poke",
      "Heartbeat already pending for witness for rigA, skipping",
    ]);
  });

  test("no rigs: said once", async () => {
    deaconSeen(0);
    const c = defaultConfig();
    c.poke.witnesses = true;
    expect(await tick({ config: c })).toEqual(["No rigs discovered, no witnesses to poke", "Deacon is fresh, skipping poke"]);
    expect(await tick({ config: c })).toEqual(["Deacon is fresh, skipping poke"]);
  });
});

describe("dry run", () => {
  test("sends nothing, writes no slot, leaves the saved backoff alone", async () => {
    expect(await tick({ dryRun: true })).toEqual(["Would poke Deacon (very stale, backoff now: 7m30s) (dry run: nothing sent)"]);
    expect(pokes()).toEqual([]);
    expect(existsSync(paths.notificationsDir)).toBe(false);
    expect(state.backoff).toBeUndefined();
  });

  test("a fresh Deacon's pending slot is not marked consumed", async () => {
    recordSend(paths.notificationsDir, "gt-deacon", "heartbeat", DEACON_TEXT, f.clock.now() - MIN);
    const before = readFileSync(slotPath(paths.notificationsDir, "gt-deacon", "heartbeat"), "utf8");
    deaconSeen(0);
    expect(await tick({ dryRun: true })).toEqual(["Deacon is fresh, skipping poke"]);
    expect(readFileSync(slotPath(paths.notificationsDir, "gt-deacon", "heartbeat"), "utf8")).toBe(before);
  });
});
