/**
 * A pass asks Ports.exclusive() before each effect that assumes the daemon is alone (creating or killing
 * a session, saving state.json), and only asks: with a fake that says "no longer exclusive", no session
 * is created or killed, no lifecycle action runs, and state.json is not written, mid-pass or at its end.
 * Absent (unit tests, `gtd tick`), everything goes on as before.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { resolveAgent, type AgentSpec } from "../../../src/core/identity.ts";
import { ensureDeacon as ensureDeaconStep } from "../../../src/core/deacon.ts";
import type { PassSteps } from "../../../src/core/pass.ts";
import type { TickContext } from "../../../src/tick/context.ts";
import { runHeartbeat, runLifecyclePass, runPass } from "../../../src/tick/pipeline.ts";
import { fakePorts, fakeTick, type FakePorts } from "../../helpers/fake-ports.ts";
import { runAction } from "../../helpers/lifecycle-action.ts";

let town: string;
beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-exclusive-"));
  mkdirSync(join(town, "mayor"));
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

/** A pass that runs ensureDeacon alone (fakeTick's store finds every command). */
const ensureDeacon = (ctx: TickContext) => runPass(ctx, "heartbeat", ensureDeaconStep);
/** A heartbeat whose steps do nothing: only its save of state.json. */
const quiet = function* () {};
const saveOnly: PassSteps = { clearStaleSlots: quiet, ensureDeacon: quiet, supervise: quiet, pokeAgents: quiet, processLifecycle: quiet };

/** Fake ports whose exclusive() answers `answer` and counts the calls. */
function ports(answer: boolean): FakePorts & { asked: () => number } {
  const f = fakePorts();
  let asked = 0;
  f.ports.exclusive = () => {
    asked += 1;
    return answer;
  };
  return { ...f, asked: () => asked };
}

function agent(identity: string): AgentSpec {
  const spec = resolveAgent(identity, town);
  if ("error" in spec) throw new Error(spec.error);
  mkdirSync(dirname(spec.stateFile), { recursive: true });
  writeFileSync(spec.stateFile, JSON.stringify({ requesting_cycle: true, requesting_restart: true, requesting_shutdown: true }));
  return spec;
}

describe("ensureDeacon", () => {
  test("no longer exclusive: the missing Deacon is not created, and that is said once", async () => {
    const f = ports(false);
    await ensureDeacon(await fakeTick(f, { town }));
    expect(f.tmux.writes()).toEqual([]);
    expect(f.logs).toEqual(["Not touching Deacon session gt-deacon: this process no longer holds the town's lock"]);
    expect(f.asked()).toBe(1);
  });

  test("no longer exclusive: a dead Deacon pane is not killed", async () => {
    const f = ports(false);
    f.tmux.add("gt-deacon", { paneDead: true, paneCommand: "claude" });
    await ensureDeacon(await fakeTick(f, { town }));
    expect(f.tmux.writes()).toEqual([]);
  });

  test("exclusive: created as before, after asking", async () => {
    const f = ports(true);
    await ensureDeacon(await fakeTick(f, { town }));
    expect(f.tmux.writes()).toEqual(["newSession gt-deacon"]);
    expect(f.asked()).toBe(1);
  });

  test("a running Deacon needs no question", async () => {
    const f = ports(false);
    f.tmux.add("gt-deacon");
    await ensureDeacon(await fakeTick(f, { town }));
    expect(f.asked()).toBe(0);
    expect(f.logs).toEqual([]);
  });

  test("a dry run acts on nothing, so it never asks", async () => {
    const f = ports(false);
    await ensureDeacon(await fakeTick(f, { town, dryRun: true }));
    expect(f.asked()).toBe(0);
  });
});

describe("lifecycle actions", () => {
  test.each(["shutdown", "cycle"] as const)("%s of a running agent, no longer exclusive: refused before the kill", async (action) => {
    const f = ports(false);
    f.tmux.add("gt-mayor");
    const ctx = await fakeTick(f, { town });
    expect(await runAction(ctx, agent("mayor"), action)).toBe("not killing session gt-mayor: this process no longer holds the town's lock");
    expect(f.tmux.writes()).toEqual([]);
  });

  test("restart of an absent agent, no longer exclusive: not started", async () => {
    const f = ports(false);
    const ctx = await fakeTick(f, { town });
    expect(await runAction(ctx, agent("mayor"), "restart")).toBe("not starting session gt-mayor: this process no longer holds the town's lock");
    expect(f.tmux.writes()).toEqual([]);
  });

  test("exclusive: the cycle runs (kill, then new)", async () => {
    const f = ports(true);
    f.tmux.add("gt-mayor");
    const ctx = await fakeTick(f, { town });
    expect(await runAction(ctx, agent("mayor"), "cycle")).toBeNull();
    expect(f.tmux.writes()).toEqual(["killSession gt-mayor", "newSession gt-mayor"]);
    expect(f.asked()).toBe(2);
  });
});

describe("saveState", () => {
  test("no longer exclusive: state.json is another daemon's, not written", async () => {
    const f = ports(false);
    const ctx = await fakeTick(f, { town });
    await runHeartbeat(ctx, saveOnly);
    expect(existsSync(ctx.paths.stateFile)).toBe(false);
  });

  test("exclusive (or no port at all): written", async () => {
    for (const f of [ports(true), fakePorts()]) {
      const ctx = await fakeTick(f, { town });
      await runHeartbeat(ctx, saveOnly);
      expect(existsSync(ctx.paths.stateFile)).toBe(true);
      rmSync(ctx.paths.daemonDir, { recursive: true });
    }
  });

  test("no longer exclusive, mid-pass: a request's attempt is not saved before its action either, and the action is refused", async () => {
    const f = ports(false);
    f.tmux.add("gt-mayor");
    agent("mayor");
    f.mailbox.messages = [{ id: "m1", title: "LIFECYCLE: mayor requesting cycle", status: "open" }];
    const ctx = await fakeTick(f, { town });
    await runLifecyclePass(ctx);
    expect(f.logs).toContain("Error executing lifecycle action: not killing session gt-mayor: this process no longer holds the town's lock");
    expect(f.tmux.writes()).toEqual([]);
    expect(existsSync(ctx.paths.stateFile)).toBe(false);
    expect(f.asked()).toBe(3); // the save before the action, the kill, the pass's save
  });
});
