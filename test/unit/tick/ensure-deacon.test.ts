/**
 * ensureDeacon over fake ports: what it creates, when, and what it says. Each call is one pass that
 * observes (sessions, the Deacon command through the store port) and then runs this step alone.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../../src/config/index.ts";
import { ensureDeacon } from "../../../src/core/deacon.ts";
import { Memory, type TickContext } from "../../../src/tick/context.ts";
import { defaultWhich, type Which } from "../../../src/tick/deacon-session.ts";
import { AGENT_LOOP, AGENT_LOOP_NAME } from "../../../src/core/agent-loop.ts";
import { runPass } from "../../../src/tick/pipeline.ts";
import { townStore, type TownStoreOptions } from "../../../src/tick/town-store.ts";
import { TmuxError } from "../../../src/tmux.ts";
import { townPaths } from "../../../src/town.ts";
import { fakePorts, fakeTick } from "../../helpers/fake-ports.ts";

const TOWN = "/towns/t";
const found: Which = (cmd) => `/usr/bin/${cmd}`;

/** A pass that runs ensureDeacon alone; the command lookup is the store port's (townStore's `which`). */
function createStep(lookup: TownStoreOptions) {
  return (ctx: TickContext) => {
    ctx.ports.store = townStore(townPaths(TOWN), lookup);
    return runPass(ctx, "heartbeat", ensureDeacon);
  };
}
const step = createStep({ which: found, path: () => "/usr/bin" });

describe("creating the Deacon session", () => {
  test("missing: created with the loop as the pane's process, GT_ROLE in its env, the theme, cwd = town", async () => {
    const f = fakePorts();
    const ctx = await step(await fakeTick(f, { town: TOWN }));
    expect(f.tmux.writes()).toEqual(["newSession gt-deacon"]);
    expect(f.tmux.map.get("gt-deacon")!.spec).toEqual({
      name: "gt-deacon",
      cwd: TOWN,
      env: { GT_ROLE: "deacon", GT_IDENTITY: "", GT_TOWN_ROOT: TOWN },
      argv: [
        "bash", "-c", AGENT_LOOP, AGENT_LOOP_NAME,
        `${TOWN}/daemon/supervise/deacon.hold`, `${TOWN}/daemon/supervise/deacon.exit`, "30", "600", "1800", "Deacon",
        "--", "claude", "--dangerously-skip-permissions",
      ],
      options: [
        ["status-style", "bg=#2d1f3d,fg=#c0b0d0"],
        ["status-left-length", "40"],
        ["status-left", "[Deacon] health-check "],
        ["status-right-length", "50"],
        ["status-interval", "5"],
        ["status-right", "#(gt status-line --session=gt-deacon 2>/dev/null) %H:%M"],
        // The loop's pane stays when killed, so supervision re-spawns that pane, never a person's.
        ["remain-on-exit", "on"],
      ],
    });
    // The loop's settings and the command arrive as words: the script itself never changes.
    expect(AGENT_LOOP).not.toContain("claude");
    expect(f.logs).toEqual(["Deacon session not running, starting...", "Deacon session started successfully"]);
    expect(ctx.sessions!.has("gt-deacon")).toBe(true); // pokeAgents sees it in the same heartbeat
  });

  test("the configured session and command are used; the command is never put in the script", async () => {
    const f = fakePorts();
    const config = defaultConfig();
    config.deacon = { session: "my-deacon", command: ["agent; rm -rf /", "--x"] };
    await step(await fakeTick(f, { town: TOWN, config }));
    const spec = f.tmux.map.get("my-deacon")!.spec!;
    expect(spec.argv.slice(0, 4)).toEqual(["bash", "-c", AGENT_LOOP, AGENT_LOOP_NAME]);
    expect(spec.argv.slice(-3)).toEqual(["--", "agent; rm -rf /", "--x"]);
    expect(spec.options).toContainEqual(["status-right", "#(gt status-line --session=my-deacon 2>/dev/null) %H:%M"]);
  });

  test("a session name that is not shell-safe gets no #(…) in its status line", async () => {
    const f = fakePorts();
    const config = defaultConfig();
    config.deacon.session = "d$(touch x)";
    await step(await fakeTick(f, { town: TOWN, config }));
    expect(f.tmux.map.get("d$(touch x)")!.spec!.options).toContainEqual(["status-right", "%H:%M"]);
  });

  test("present: nothing done, nothing said", async () => {
    const f = fakePorts();
    f.tmux.add("gt-deacon");
    await step(await fakeTick(f, { town: TOWN }));
    expect(f.tmux.writes()).toEqual([]);
    expect(f.logs).toEqual([]);
  });

  test("only gt-deacon-old exists: gt-deacon is still created (exact names)", async () => {
    const f = fakePorts();
    f.tmux.add("gt-deacon-old");
    await step(await fakeTick(f, { town: TOWN }));
    expect(f.tmux.writes()).toEqual(["newSession gt-deacon"]);
  });

  test("dead pane: left to supervise (which re-spawns that pane only); nothing said here", async () => {
    const f = fakePorts();
    f.tmux.add("gt-deacon", { paneDead: true, paneCommand: "bash" });
    await step(await fakeTick(f, { town: TOWN }));
    expect(f.tmux.writes()).toEqual([]);
    expect(f.logs).toEqual([]);
  });

  test("created meanwhile by someone else (duplicate session): counts as existing, no error", async () => {
    const f = fakePorts();
    const list = f.tmux.sessions.bind(f.tmux);
    f.tmux.sessions = async () => {
      const seen = await list(); // observed: no gt-deacon
      f.tmux.add("gt-deacon"); // `gt up` wins the race
      return seen;
    };
    const ctx = await step(await fakeTick(f, { town: TOWN }));
    expect(f.logs).toEqual([
      "Deacon session not running, starting...",
      "Deacon session gt-deacon was created meanwhile by someone else (e.g. gt up), leaving it",
    ]);
    expect(ctx.decisions.some((d) => d.action === "error")).toBe(false);
    expect(ctx.sessions!.has("gt-deacon")).toBe(true);
  });

  test("other create errors are logged in the original's words", async () => {
    const f = fakePorts();
    f.tmux.fail.newSession = new TmuxError("other", "tmux new-session: boom");
    const ctx = await step(await fakeTick(f, { town: TOWN }));
    expect(f.logs).toEqual(["Deacon session not running, starting...", "Error creating Deacon session: tmux new-session: boom"]);
    expect(ctx.sessions!.has("gt-deacon")).toBe(false);
  });

  test("session list failed: nothing created, said why", async () => {
    const f = fakePorts();
    f.tmux.fail.sessions = new Error("tmux list-sessions: boom");
    const ctx = await step(await fakeTick(f, { town: TOWN }));
    expect(f.tmux.writes()).toEqual([]);
    expect(f.logs).toEqual(["Error checking Deacon session: tmux session list failed, not creating gt-deacon blindly"]);
    expect(ctx.decisions[0]!.action).toBe("error");
  });

  test("dry run: decides, creates nothing, kills nothing", async () => {
    const f = fakePorts();
    const ctx = await step(await fakeTick(f, { town: TOWN, dryRun: true }));
    expect(f.tmux.writes()).toEqual([]);
    expect(f.tmux.map.has("gt-deacon")).toBe(false);
    expect(f.logs).toEqual(["Deacon session not running, would start gt-deacon (dry run: not created)"]);
    expect(ctx.decisions.map((d) => d.action)).toEqual(["would-create"]);
  });

  test("aborted: starts nothing", async () => {
    const f = fakePorts();
    const ac = new AbortController();
    ac.abort();
    await step(await fakeTick(f, { town: TOWN, signal: ac.signal }));
    expect(f.tmux.writes()).toEqual([]);
  });
});

describe("agent command not on PATH", () => {
  const missing: Which = () => null;

  test("said once across heartbeats; the session is still created (the loop retries)", async () => {
    const f = fakePorts();
    const memory = new Memory();
    const s = createStep({ which: missing, path: () => "/nowhere" });
    await s(await fakeTick(f, { town: TOWN, memory }));
    f.clock.advance(5 * 60_000);
    await s(await fakeTick(f, { town: TOWN, memory }));
    const said = f.logs.filter((l) => l.includes("not found"));
    expect(said).toEqual(["Deacon command not found on PATH: claude (set deacon.command in daemon/config.json)"]);
    expect(f.tmux.writes()).toEqual(["newSession gt-deacon"]);
  });

  test("said again after it was found and went missing again", async () => {
    const f = fakePorts();
    const memory = new Memory();
    let present = false;
    const s = createStep({ which: () => (present ? "/bin/claude" : null) });
    await s(await fakeTick(f, { town: TOWN, memory }));
    present = true;
    await s(await fakeTick(f, { town: TOWN, memory }));
    present = false;
    await s(await fakeTick(f, { town: TOWN, memory }));
    expect(f.logs.filter((l) => l.includes("not found")).length).toBe(2);
  });

  test("a path is checked for an executable file, relative to the town", async () => {
    const f = fakePorts();
    const config = defaultConfig();
    config.deacon.command = ["./bin/agent"];
    await createStep({ which: missing })(await fakeTick(f, { town: TOWN, config }));
    expect(f.logs[0]).toBe("Deacon command not found or not executable: ./bin/agent (set deacon.command in daemon/config.json)");
  });

  test("defaultWhich: PATH lookup, paths must be executable files", () => {
    expect(defaultWhich("sh", { PATH: "/bin:/usr/bin", cwd: "/" })).toMatch(/\/sh$/);
    expect(defaultWhich("sh", { PATH: "/nonexistent", cwd: "/" })).toBeNull();
    expect(defaultWhich("/bin/sh", { PATH: "", cwd: "/" })).toBe("/bin/sh");
    expect(defaultWhich("bin/sh", { PATH: "", cwd: "/" })).toBe("/bin/sh");
    const dir = mkdtempSync(join(tmpdir(), "gtd-which-"));
    writeFileSync(join(dir, "plain"), "#!/bin/sh\n", { mode: 0o644 });
    expect(defaultWhich("plain", { PATH: "", cwd: dir })).toBeNull(); // a bare name is only looked up on PATH
    expect(defaultWhich("./plain", { PATH: "", cwd: dir })).toBeNull(); // not executable
    chmodSync(join(dir, "plain"), 0o755);
    expect(defaultWhich("./plain", { PATH: "", cwd: dir })).toBe(join(dir, "plain"));
    expect(defaultWhich("plain", { PATH: dir, cwd: "/" })).toBe(join(dir, "plain"));
    rmSync(dir, { recursive: true });
    expect(defaultWhich("/bin", { PATH: "", cwd: "/" })).toBeNull(); // a directory
  });
});
