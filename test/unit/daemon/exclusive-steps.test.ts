/**
 * The steps ask Ports.exclusive() before anything that assumes the daemon is alone, and only ask: with a
 * fake that says "no longer exclusive", no session is created or killed, no lifecycle action runs, and
 * state.json is not written. Absent (unit tests, `gtd tick`), everything goes on as before.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { resolveAgent, type AgentSpec } from "../../../src/core/identity.ts";
import { executeLifecycleAction } from "../../../src/lifecycle/actions.ts";
import { createEnsureDeacon } from "../../../src/tick/ensure-deacon.ts";
import { saveStateStep } from "../../../src/tick/pipeline.ts";
import { fakePorts, fakeTick, type FakePorts } from "../../helpers/fake-ports.ts";

let town: string;
beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-exclusive-"));
  mkdirSync(join(town, "mayor"));
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

const ensureDeacon = createEnsureDeacon({ which: (cmd) => `/usr/bin/${cmd}`, path: () => "/usr/bin" });

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
    await expect(executeLifecycleAction(ctx, agent("mayor"), action)).rejects.toThrow(
      "not killing session gt-mayor: this process no longer holds the town's lock",
    );
    expect(f.tmux.writes()).toEqual([]);
  });

  test("restart of an absent agent, no longer exclusive: not started", async () => {
    const f = ports(false);
    const ctx = await fakeTick(f, { town });
    await expect(executeLifecycleAction(ctx, agent("mayor"), "restart")).rejects.toThrow(
      "not starting session gt-mayor: this process no longer holds the town's lock",
    );
    expect(f.tmux.writes()).toEqual([]);
  });

  test("exclusive: the cycle runs (kill, then new)", async () => {
    const f = ports(true);
    f.tmux.add("gt-mayor");
    const ctx = await fakeTick(f, { town });
    await executeLifecycleAction(ctx, agent("mayor"), "cycle");
    expect(f.tmux.writes()).toEqual(["killSession gt-mayor", "newSession gt-mayor"]);
    expect(f.asked()).toBe(2);
  });
});

describe("saveState", () => {
  test("no longer exclusive: state.json is another daemon's, not written", async () => {
    const f = ports(false);
    const ctx = await fakeTick(f, { town });
    await saveStateStep(true)(ctx);
    expect(existsSync(ctx.paths.stateFile)).toBe(false);
  });

  test("exclusive (or no port at all): written", async () => {
    for (const f of [ports(true), fakePorts()]) {
      const ctx = await fakeTick(f, { town });
      await saveStateStep(true)(ctx);
      expect(existsSync(ctx.paths.stateFile)).toBe(true);
      rmSync(ctx.paths.daemonDir, { recursive: true });
    }
  });
});
