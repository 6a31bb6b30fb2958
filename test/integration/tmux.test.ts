/** The tmux adapter against a real tmux server (one private server per test, see helpers/tmux-env.ts). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GtdError } from "../../src/errors.ts";
import type { RunOptions, RunResult } from "../../src/proc.ts";
import { classifyTmuxStderr, createTmux, TmuxError } from "../../src/tmux.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

let t: TmuxEnv;
beforeEach(async () => {
  t = await createTmuxEnv();
});
afterEach(async () => {
  await t.cleanup();
});

/** Starts the fake agent in `name` and waits for its START line. */
async function agent(name: string, extra: { env?: Record<string, string>; argv?: string[] } = {}) {
  await t.port.newSession({ name, cwd: t.root, env: extra.env ?? {}, argv: extra.argv ?? ["claude"] });
  return waitFor(async () => {
    const log = await t.agentLog(name);
    return log.includes("START") ? log : undefined;
  }, { what: `${name} START` });
}

/** The LINE entries of a session's fake agent, once there are `n` of them. */
async function lines(name: string, n: number): Promise<string[]> {
  return waitFor(async () => {
    const got = (await t.agentLog(name)).split("\n").filter((l) => l.startsWith("LINE ")).map((l) => l.slice(5));
    return got.length >= n ? got : undefined;
  }, { what: `${n} lines from ${name}` });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => { throw new Error("expected a rejection"); }, (e: unknown) => e);
}

describe("sessions()", () => {
  test("a running server with no sessions gives an empty map", async () => {
    expect((await t.port.sessions()).size).toBe(0);
  });

  test("no server gives an empty map, false, a quiet kill and a no-server poke", async () => {
    await t.tmux("kill-server");
    expect((await t.port.sessions()).size).toBe(0);
    expect(await t.port.hasSession("gt-deacon")).toBe(false);
    await t.port.killSession("gt-deacon");
    const err = await rejection(t.port.poke("gt-deacon", "x"));
    expect(err).toBeInstanceOf(TmuxError);
    expect((err as TmuxError).kind).toBe("no-server");
  });

  test("several sessions, odd names, first pane wins, dead panes", async () => {
    await t.tmux("set-option", "-g", "remain-on-exit", "on");
    const odd = ["gt-deacon", "a b", "é'\"$1 $", "x#{session_name}#(true)", "ends;", "-dash", "%a", "@b"];
    for (const name of odd) await t.port.newSession({ name, cwd: t.root, env: {}, argv: ["sleep", "600"] });
    await t.tmux("new-window", "-d", "-t", "=gt-deacon:", "--", "cat");
    await t.port.newSession({ name: "gone", cwd: t.root, env: {}, argv: ["true", "x"] });
    // tmux marks a pane dead when its pty closes and learns the exit status when it reaps the process,
    // a moment later: wait for both.
    const s = await waitFor(async () => {
      const m = await t.port.sessions();
      const gone = m.get("gone");
      return gone?.paneDead && gone.deadStatus !== null ? m : undefined;
    }, { what: "dead pane with its exit status" });
    expect([...s.keys()].sort()).toEqual([...odd, "gone"].sort());
    for (const name of odd) {
      expect(s.get(name)).toEqual({
        name, paneDead: false, paneCommand: "sleep", paneId: expect.stringMatching(/^%\d+$/), panePid: expect.any(Number),
        deadStatus: null, inMode: false, activityMs: expect.any(Number), panes: name === "gt-deacon" ? 2 : 1,
      });
    }
    expect(s.get("gone")).toMatchObject({ paneDead: true, deadStatus: 0, paneCommand: "true", panes: 1 });
  });
});

describe("exact targets", () => {
  test("gt-deacon-old is never taken for gt-deacon", async () => {
    await agent("gt-deacon-old");
    expect(await t.port.hasSession("gt-deacon")).toBe(false);
    expect(await t.port.hasSession("gt-deacon-old")).toBe(true);
    await t.port.killSession("gt-deacon");
    expect(await t.port.hasSession("gt-deacon-old")).toBe(true);

    const err = await rejection(t.port.poke("gt-deacon", "HEARTBEAT: run your rounds"));
    expect((err as TmuxError).kind).toBe("no-session");
    await rejection(t.port.sendLine("gt-deacon", "typed"));
    // tmux handles commands in order: once the marker arrives, anything misdirected would be before it.
    await t.port.sendLine("gt-deacon-old", "marker");
    expect(await lines("gt-deacon-old", 1)).toEqual(["marker"]);

    // Creating gt-deacon works, and its options do not touch -old.
    await t.port.newSession({ name: "gt-deacon", cwd: t.root, env: {}, argv: ["sleep", "600"], options: [["status-left", "NEW"]] });
    expect(await t.tmux("show-options", "-t", "=gt-deacon:", "status-left")).toBe('status-left NEW\n');
    expect(await t.tmux("show-options", "-t", "=gt-deacon-old:", "status-left")).toBe("");
    await t.port.killSession("gt-deacon");
    expect([...(await t.port.sessions()).keys()]).toEqual(["gt-deacon-old"]);
  });

  test("a name tmux would rewrite is refused; looking one up is just absent", async () => {
    for (const name of ["gt-my.rig", "a:b", "a\\b", "$HOME", "a${x}", "a\nb", ""]) {
      const out = await t.port.newSession({ name, cwd: t.root, env: {}, argv: ["sleep", "1"] });
      expect(out).toMatchObject({ ok: false, kind: "failed" });
      if (!out.ok) expect(out.error).toContain("invalid tmux session name");
      expect(await t.port.hasSession(name || "x")).toBe(false);
    }
    await t.port.newSession({ name: "gt-my_rig", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    expect(await t.port.hasSession("gt-my.rig")).toBe(false);
    expect((await rejection(t.port.poke("gt-my.rig", "x")) as TmuxError).kind).toBe("no-session");
    expect(await t.port.sessions()).toHaveLength(1);
  });
});

describe("newSession", () => {
  test("env reaches the first process; cwd, argv and options are applied", async () => {
    const town = await t.makeTown();
    await t.port.newSession({
      name: "gt-deacon",
      cwd: town,
      env: { GT_ROLE: "deacon", EXTRA: "v;" },
      argv: ["claude", "--dangerously-skip-permissions"],
      options: [["status-left", "[Deacon] #{session_name} ;"], ["status-interval", "5"], ["status-right", "x;"]],
    });
    const log = await waitFor(() => t.agentLog("gt-deacon"), { what: "START" });
    expect(log).toBe(`START argv=--dangerously-skip-permissions cwd=${town} GT_ROLE=deacon session=gt-deacon\n`);
    const opts = await t.tmux("show-options", "-t", "=gt-deacon:");
    expect(opts).toContain('status-left "[Deacon] #{session_name} ;"');
    expect(opts).toContain("status-interval 5");
    expect(opts).toContain('status-right "x;"');
    expect(await t.tmux("show-environment", "-t", "=gt-deacon", "GT_ROLE")).toBe("GT_ROLE=deacon\n");
  });

  test("argv is never shell-parsed, with one element or several", async () => {
    const pwned = join(t.root, "pwned");
    await agent("multi", { argv: ["claude", "a b", `$(touch ${pwned})`, "`touch x`", "x;", "-v", "#{pane_id}"] });
    expect(await t.agentLog("multi")).toContain(`START argv=a\\ b \\$\\(touch\\ ${pwned}\\) \\\`touch\\ x\\\` x\\; -v \\#\\{pane_id\\}`);
    // One element would go through `$SHELL -c`: a path with a space proves it runs as one word.
    await copyFile(join(t.bin, "fake-agent"), join(t.bin, "fake agent"));
    await agent("single", { argv: [join(t.bin, "fake agent")] });
    expect(await t.agentLog("single")).toStartWith("START argv= cwd=");
    expect(existsSync(pwned)).toBe(false);
  });

  test("a cwd with tmux format characters arrives literally", async () => {
    const marker = join(t.root, "pwned2");
    const dir = join(t.root, `d#{session_name}#(touch ${marker})`);
    await mkdir(dir, { recursive: true });
    await t.port.newSession({ name: "fmt", cwd: dir, env: {}, argv: ["claude"] });
    const log = await waitFor(() => t.agentLog("fmt"), { what: "START" });
    expect(log).toContain(`cwd=${dir} `);
    expect(existsSync(marker)).toBe(false);
  });

  test("a duplicate is classified and leaves the existing session alone", async () => {
    await t.port.newSession({ name: "dup", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    const out = await t.port.newSession({ name: "dup", cwd: t.root, env: {}, argv: ["sleep", "600"], options: [["status-left", "CHANGED"]] });
    expect(out).toMatchObject({ ok: false, kind: "duplicate" });
    if (!out.ok) expect(out.error).toContain("duplicate session: dup");
    expect(await t.tmux("show-options", "-t", "=dup:", "status-left")).toBe("");
  });

  test("a missing cwd is refused before tmux is called", async () => {
    const calls: string[][] = [];
    const port = createTmux({ socket: null, timeoutMs: 1000, run: async (argv) => { calls.push(argv); return ok(); } });
    const missing = join(t.root, "nope");
    const out = await port.newSession({ name: "x", cwd: missing, env: {}, argv: ["sleep", "1"] });
    expect(out).toMatchObject({ ok: false, kind: "failed" });
    if (!out.ok) expect(out.error).toContain(missing);
    expect(calls).toEqual([]);
  });
});

describe("poke and sendLine", () => {
  test("poke clears pending input, then the agent reads exactly the poke text", async () => {
    await agent("gt-deacon");
    await t.tmux("send-keys", "-t", "=gt-deacon:", "-l", "junk");
    await t.port.poke("gt-deacon", "HEARTBEAT: run your rounds");
    expect(await lines("gt-deacon", 1)).toEqual(["HEARTBEAT: run your rounds"]);
  });

  test("awkward texts arrive literally; control characters become spaces", async () => {
    await agent("lit");
    const texts = ["-n x", "a;b;", ";", "ends\\;", "$(touch pwned)", `"q" 's`, "#{session_name} ~", "C-u", "--", ""];
    for (const text of texts) await t.port.poke("lit", text);
    await t.port.poke("lit", "one\ntwo\tthree\x1b[Afour\x7f");
    expect(await lines("lit", texts.length + 1)).toEqual([...texts, "one two three [Afour "]);
    expect(existsSync(join(t.root, "pwned"))).toBe(false);
  });

  test("sendLine keeps pending input; enterDelayMs 0 still works", async () => {
    await agent("sl");
    await t.tmux("send-keys", "-t", "=sl:", "-l", "abc");
    await t.port.sendLine("sl", "def;");
    await t.makePort({ enterDelayMs: 0 }).poke("sl", "fast");
    expect(await lines("sl", 2)).toEqual(["abcdef;", "fast"]);
  });
});

describe("socket and failures", () => {
  test("-L socket talks to that server only", async () => {
    const other = t.makePort({ socket: "other" });
    await other.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    expect(await other.hasSession("s")).toBe(true);
    expect(await t.port.hasSession("s")).toBe(false);
    expect(await t.tmux("-L", "other", "list-sessions", "-F", "#{session_name}")).toBe("s\n");
    expect([...(await other.sessions()).keys()]).toEqual(["s"]);
    await other.killSession("s");
    expect(await other.hasSession("s")).toBe(false);
  });

  test("a timeout is a TmuxError saying so; argv carries the socket", async () => {
    const calls: Array<[string[], RunOptions]> = [];
    const port = createTmux({
      socket: "sock",
      timeoutMs: 50,
      run: async (argv, opts) => {
        calls.push([argv, opts]);
        return { ...ok(), code: null, timedOut: true };
      },
    });
    const err = await rejection(port.hasSession("x"));
    expect((err as TmuxError).kind).toBe("other");
    expect((err as TmuxError).message).toContain("timed out");
    expect(calls).toEqual([[["tmux", "-L", "sock", "has-session", "-t", "=x"], { timeoutMs: 50 }]]);
  });

  test("stderr classification", () => {
    expect(classifyTmuxStderr("no server running on /tmp/tmux-0/default")).toBe("no-server");
    expect(classifyTmuxStderr("error connecting to /tmp/tmux-0/x (No such file or directory)")).toBe("no-server");
    expect(classifyTmuxStderr("server exited unexpectedly")).toBe("no-server");
    expect(classifyTmuxStderr("duplicate session: x")).toBe("duplicate");
    for (const s of ["can't find session: x", "can't find pane: x", "can't find window: a", "no such session: =x:", "session not found: x"]) {
      expect(classifyTmuxStderr(s)).toBe("no-session");
    }
    expect(classifyTmuxStderr("unknown option: bogus")).toBe("other");
  });
});

function ok(): RunResult {
  return { code: 0, stdout: "", stderr: "", timedOut: false, notFound: false };
}
