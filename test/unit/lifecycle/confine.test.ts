/**
 * Symlinks never lead gtd out of the town (issue 7, class 4): an agent directory or state file, or
 * daemon/notifications, that resolves outside the town is refused with a line naming the path, and the
 * file outside is neither trusted, written nor deleted.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveAgent, type AgentSpec } from "../../../src/core/identity.ts";
import { requestLifecycle } from "../../../src/lifecycle/handoff.ts";
import { recordSend } from "../../../src/slots.ts";
import { Memory } from "../../../src/tick/context.ts";
import { runHeartbeat } from "../../../src/tick/pipeline.ts";
import { townPaths } from "../../../src/town.ts";
import { fakePorts, fakeTick } from "../../helpers/fake-ports.ts";
import { actionFailure, runAction } from "../../helpers/lifecycle-action.ts";

let base: string;
let town: string;
let outside: string;
beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "gtd-confine-")));
  town = join(base, "town");
  outside = join(base, "outside");
  mkdirSync(join(town, "mayor"), { recursive: true });
  mkdirSync(outside);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function spec(identity: string): AgentSpec {
  const s = resolveAgent(identity, town);
  if ("error" in s) throw new Error(s.error);
  return s;
}

async function failure(p: Promise<unknown>): Promise<string> {
  return p.then(() => { throw new Error("expected a failure"); }, (e: Error) => e.message);
}

describe("lifecycle actions", () => {
  test("a rig directory symlinked outside: refused before the flag is read; nothing started or written there", async () => {
    mkdirSync(join(outside, "witness"));
    writeFileSync(join(outside, "witness", "state.json"), '{"requesting_cycle":true}');
    symlinkSync(outside, join(town, "gastown"));
    const f = fakePorts();
    const ctx = await fakeTick(f, { town });
    const why = await actionFailure(runAction(ctx, spec("gastown-witness"), "cycle"));
    expect(why).toBe(`refusing to act on gastown-witness: ${join(town, "gastown")} resolves to ${outside}, outside the town ${town}`);
    expect(f.tmux.calls).toEqual(["sessions"]); // the pass's list, nothing after it
    expect(readFileSync(join(outside, "witness", "state.json"), "utf8")).toBe('{"requesting_cycle":true}');
  });

  test("an agent state.json symlinked to a file outside: refused, the link is left a link", async () => {
    writeFileSync(join(outside, "state.json"), '{"requesting_cycle":true}');
    symlinkSync(join(outside, "state.json"), join(town, "mayor", "state.json"));
    const f = fakePorts();
    const ctx = await fakeTick(f, { town });
    const why = await actionFailure(runAction(ctx, spec("mayor"), "cycle"));
    expect(why).toContain(`refusing to act on mayor: ${join(town, "mayor", "state.json")} resolves to ${join(outside, "state.json")}, outside the town`);
    expect(f.tmux.calls).toEqual(["sessions"]); // the pass's list, nothing after it
    expect(readFileSync(join(outside, "state.json"), "utf8")).toBe('{"requesting_cycle":true}');
  });

  test("a state.json symlinked inside the town is still not trusted (the flag must be the agent's own file)", async () => {
    writeFileSync(join(town, "mayor", "other.json"), '{"requesting_cycle":true}');
    symlinkSync(join(town, "mayor", "other.json"), join(town, "mayor", "state.json"));
    const f = fakePorts();
    const ctx = await fakeTick(f, { town });
    const why = await actionFailure(runAction(ctx, spec("mayor"), "cycle"));
    expect(why).toBe(`state verification failed: reading agent state: ${join(town, "mayor", "state.json")} is a symbolic link, not read`);
    expect(f.tmux.calls).toEqual(["sessions"]); // the pass's list, nothing after it
  });
});

describe("gtd request", () => {
  test("an agent directory symlinked outside: refused, nothing written outside, no mail sent", async () => {
    symlinkSync(outside, join(town, "gastown"));
    const f = fakePorts();
    const why = await failure(
      requestLifecycle({ paths: townPaths(town), action: "cycle", identity: "gastown-witness", mailbox: f.mailbox, nowMs: 0, say: () => {}, daemonPid: () => null, signal: () => {} }),
    );
    expect(why).toContain(`refusing to write gastown-witness's state: ${join(town, "gastown")} resolves to ${outside}, outside the town`);
    expect(readdirSync(outside)).toEqual([]);
    expect(f.mailbox.sent).toEqual([]);
  });
});

describe("daemon/notifications symlinked outside", () => {
  test("stale-slot cleanup deletes nothing there, says why once; pokes still go out and write nothing there", async () => {
    const now = Date.now();
    mkdirSync(join(town, "daemon"), { recursive: true });
    recordSend(outside, "gt-deacon", "heartbeat", "x", now - 3_600_000);
    writeFileSync(join(outside, "slot-victim-file.json"), "{}");
    utimesSync(join(outside, "slot-victim-file.json"), (now - 3_600_000) / 1000, (now - 3_600_000) / 1000);
    symlinkSync(outside, join(town, "daemon", "notifications"));
    const before = readdirSync(outside).sort();

    const f = fakePorts({ startMs: now });
    f.tmux.add("gt-deacon");
    const memory = new Memory();
    for (let i = 0; i < 2; i++) {
      const ctx = await fakeTick(f, { town, memory });
      await runHeartbeat(ctx); // clearStaleSlots, then the pokes (the Deacon is there; no mail)
      f.clock.advance(3_600_000);
    }
    expect(readdirSync(outside).sort()).toEqual(before);
    expect(f.tmux.calls.filter((c) => c.startsWith("pokeVerified gt-deacon"))).toHaveLength(2);
    const refused = f.logs.filter((l) => l.startsWith("Refusing to use notification slots"));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain(`${join(town, "daemon", "notifications")} resolves to ${outside}, outside the town`);
  });
});
