/**
 * executeLifecycleAction (src/core/lifecycle-action.ts) and the pre-sync, each run as a pass (observe →
 * the action alone → apply: test/helpers/lifecycle-action.ts) against small in-file fakes (no processes,
 * no tmux). Whether a session is there comes from the pass's one session list (`sessions`), not a
 * has-session call before the action.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { resolveAgent, sessionOptions, type AgentSpec } from "../../../src/core/identity.ts";
import { defaultConfig, type Config } from "../../../src/config/index.ts";
import type { NewSessionSpec, Ports } from "../../../src/ports.ts";
import type { RunOptions, RunResult } from "../../../src/proc.ts";
import { emptyState } from "../../../src/state.ts";
import { KILL_POLLS, PRIME_DELAY_MS } from "../../../src/tick/apply.ts";
import { newTickContext, type TickContext } from "../../../src/tick/context.ts";
import { townPaths } from "../../../src/town.ts";
import { fakeStore } from "../../helpers/fake-ports.ts";
import { actionFailure, runAction } from "../../helpers/lifecycle-action.ts";

let town: string;
beforeEach(() => {
  town = mkdtempSync(join(tmpdir(), "gtd-actions-"));
  mkdirSync(join(town, "mayor"));
  mkdirSync(join(town, "gastown", "refinery", "rig"), { recursive: true });
  mkdirSync(join(town, "gastown", "crew", "joe"), { recursive: true });
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

interface Fake {
  sessions: Set<string>;
  /** Every tmux call in order, e.g. `sessions`, `has gt-mayor`, `kill gt-mayor`, `new gt-mayor`, `send gt-mayor <text>`. */
  tmux: string[];
  created: NewSessionSpec[];
  runs: Array<{ argv: string[]; opts: RunOptions }>;
  sleeps: number[];
  lines: string[];
  /** Answer for a run; default: success with empty output. */
  answer: (argv: string[]) => Partial<RunResult>;
  killSticks: boolean;
  newFails: boolean;
}

function setup(over: { config?: Partial<Config>; dryRun?: boolean; signal?: AbortSignal } = {}): { f: Fake; ctx: TickContext } {
  const f: Fake = { sessions: new Set(), tmux: [], created: [], runs: [], sleeps: [], lines: [], answer: () => ({}), killSticks: false, newFails: false };
  const ports: Ports = {
    clock: { now: () => 1_000_000 },
    sleep: async (ms) => void f.sleeps.push(ms),
    log: (m) => void f.lines.push(m),
    run: async (argv, opts) => {
      f.runs.push({ argv, opts });
      return { code: 0, stdout: "", stderr: "", timedOut: false, notFound: false, ...f.answer(argv) };
    },
    mailbox: { inbox: async () => ({ messages: [], skipped: [] }), close: async () => {}, send: async () => {} },
    tmux: {
      sessions: async () => (f.tmux.push("sessions"), new Map([...f.sessions].map((name) => [name, { name, paneDead: false, paneCommand: "claude" }]))),
      hasSession: async (n) => (f.tmux.push(`has ${n}`), f.sessions.has(n)),
      killSession: async (n) => {
        f.tmux.push(`kill ${n}`);
        if (!f.killSticks) f.sessions.delete(n);
      },
      newSession: async (spec) => {
        f.tmux.push(`new ${spec.name}`);
        if (f.newFails) return { ok: false, kind: "failed", error: "tmux new-session: boom" };
        f.created.push(spec);
        f.sessions.add(spec.name);
        return { ok: true };
      },
      poke: async (n, t) => void f.tmux.push(`poke ${n} ${t}`),
      sendLine: async (n, t) => void f.tmux.push(`send ${n} ${t}`),
      sessionsAndClients: async () => ({ sessions: new Map(), clients: [] }),
      respawnPane: async (p) => (f.tmux.push(`respawn ${p}`), { ok: true }),
      pokeVerified: async (n, t) => (f.tmux.push(`poke ${n} ${t}`), { kind: "consumed" }),
    },
    store: fakeStore(town),
    procs: { agentUnder: () => null, agentsUnder: (qs) => qs.map(() => null) },
  };
  const config = { ...defaultConfig(), ...over.config };
  const ctx = newTickContext({ ports, config, paths: townPaths(town), state: emptyState(), dryRun: over.dryRun ?? false, ...(over.signal ? { signal: over.signal } : {}) });
  return { f, ctx };
}

function agent(identity: string, flags: Record<string, unknown> = { requesting_cycle: true, requesting_restart: true, requesting_shutdown: true }): AgentSpec {
  const spec = resolveAgent(identity, town);
  if ("error" in spec) throw new Error(spec.error);
  mkdirSync(dirname(spec.stateFile), { recursive: true });
  writeFileSync(spec.stateFile, JSON.stringify(flags));
  return spec;
}

describe("shutdown", () => {
  test("kills the running session, nothing else", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-mayor");
    expect(await runAction(ctx, agent("mayor"), "shutdown")).toBeNull();
    expect(f.tmux).toEqual(["sessions", "kill gt-mayor", "has gt-mayor"]);
    expect(f.lines).toEqual(["Executing shutdown for session gt-mayor", "Verified agent mayor has requesting_shutdown=true", "Killed session gt-mayor"]);
  });

  test("absent session: nothing to kill, said so", async () => {
    const { f, ctx } = setup();
    expect(await runAction(ctx, agent("mayor"), "shutdown")).toBeNull();
    expect(f.tmux).toEqual(["sessions"]);
    expect(f.lines.at(-1)).toBe("Session gt-mayor is not running; nothing to shut down");
  });
});

describe("cycle and restart", () => {
  test.each(["cycle", "restart"] as const)("%s: kill, see it gone, recreate with role env, theme and the agent command", async (action) => {
    const { f, ctx } = setup({ config: { agent: { command: ["my-agent", "--flag"], prime: null } } });
    f.sessions.add("gt-gastown-witness");
    const spec = agent("gastown-witness");
    expect(await runAction(ctx, spec, action)).toBeNull();
    expect(f.tmux).toEqual(["sessions", "kill gt-gastown-witness", "has gt-gastown-witness", "new gt-gastown-witness"]);
    expect(f.created).toEqual([
      {
        name: "gt-gastown-witness",
        cwd: join(town, "gastown"),
        env: { GT_ROLE: "witness", GT_IDENTITY: "gastown-witness", GT_TOWN_ROOT: town },
        argv: ["my-agent", "--flag"],
        options: sessionOptions(spec),
      },
    ]);
    expect(f.lines).toEqual([
      `Executing ${action} for session gt-gastown-witness`,
      `Verified agent gastown-witness has requesting_${action}=true`,
      "Killed session gt-gastown-witness for restart",
      "Restarted session gt-gastown-witness",
    ]);
    expect(f.runs).toEqual([]); // witness: no pre-sync
    expect(f.sleeps).toEqual([]); // no prime, no fixed pause
  });

  test("absent session: created without a kill", async () => {
    const { f, ctx } = setup();
    expect(await runAction(ctx, agent("mayor"), "cycle")).toBeNull();
    expect(f.tmux).toEqual(["sessions", "new gt-mayor"]);
    expect(f.created[0]!.cwd).toBe(town);
    expect(f.created[0]!.argv).toEqual(["claude", "--dangerously-skip-permissions"]);
  });

  test("a session that survives kill-session fails the action after bounded polling", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-mayor");
    f.killSticks = true;
    expect(await actionFailure(runAction(ctx, agent("mayor"), "cycle"))).toBe("killing session: gt-mayor still exists after kill-session");
    expect(f.sleeps).toHaveLength(KILL_POLLS);
    expect(f.created).toEqual([]);
  });

  test("new-session failure is reported with the original's prefix", async () => {
    const { f, ctx } = setup();
    f.newFails = true;
    expect(await actionFailure(runAction(ctx, agent("mayor"), "restart"))).toBe("restarting session: tmux new-session: boom");
  });
});

describe("checks before anything is touched", () => {
  test("verification failure: the original's wording, no tmux call but the pass's list", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-mayor");
    const spec = agent("mayor", { requesting_cycle: "true" });
    expect(await actionFailure(runAction(ctx, spec, "cycle"))).toBe("state verification failed: agent state requesting_cycle is not true (got: true)");
    expect(f.tmux).toEqual(["sessions"]); // the pass's session list, nothing else
  });

  test("verification is per action: a cycle flag does not allow a shutdown", async () => {
    const { f, ctx } = setup();
    const spec = agent("mayor", { requesting_cycle: true });
    expect(await actionFailure(runAction(ctx, spec, "shutdown"))).toBe(
      "state verification failed: agent state missing requesting_shutdown field (agent must set this before lifecycle request)",
    );
    expect(f.tmux).toEqual(["sessions"]); // the pass's session list, nothing else
  });

  test("missing working directory fails before the session is touched", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-gastown-refinery");
    const spec = agent("gastown-refinery"); // state file in gastown/refinery, workdir gastown/refinery/rig
    rmSync(spec.workDir, { recursive: true });
    expect(await actionFailure(runAction(ctx, spec, "cycle"))).toBe(
      `working directory ${spec.workDir} does not exist (session gt-gastown-refinery left as it is)`,
    );
    expect(f.tmux).toEqual(["sessions"]); // the pass's session list, nothing else
    expect(f.runs).toEqual([]);
  });

  test("the pass's session list failed: the action stops with the original's prefix, nothing touched", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-mayor");
    ctx.ports.tmux.sessions = async () => {
      throw new Error("tmux list-sessions: server exited unexpectedly");
    };
    expect(await actionFailure(runAction(ctx, agent("mayor"), "cycle"))).toBe("checking session: tmux list-sessions: server exited unexpectedly");
    expect(f.tmux).toEqual([]);
  });

  test("shutdown does not need the working directory", async () => {
    const { f, ctx } = setup();
    f.sessions.add("gt-gastown-refinery");
    const spec = agent("gastown-refinery");
    rmSync(spec.workDir, { recursive: true });
    expect(await runAction(ctx, spec, "shutdown")).toBeNull();
    expect(f.sessions.has("gt-gastown-refinery")).toBe(false);
  });
});

describe("pre-sync (refinery and crew)", () => {
  const git = (f: Fake) => f.runs.map((r) => r.argv.join(" "));

  test("order, cwd, timeouts and the remote's default branch", async () => {
    const { f, ctx } = setup();
    f.answer = (argv) => (argv[1] === "symbolic-ref" ? { stdout: "origin/trunk\n" } : {});
    const spec = agent("gastown-refinery");
    expect(await runAction(ctx, spec, "cycle")).toBeNull();
    expect(git(f)).toEqual([
      "git status --porcelain",
      "git fetch origin",
      "git symbolic-ref --short refs/remotes/origin/HEAD",
      "git pull --rebase origin trunk",
      "bd sync",
    ]);
    const dir = join(town, "gastown", "refinery", "rig");
    for (const r of f.runs) expect(r.opts.cwd).toBe(dir);
    expect(f.runs[0]!.opts.timeoutMs).toBe(ctx.config.timeouts.gitMs);
    expect(f.runs[0]!.opts.env).toEqual({ GIT_TERMINAL_PROMPT: "0" });
    expect(f.runs[4]!.opts.timeoutMs).toBe(ctx.config.timeouts.mailboxMs);
    expect(f.lines).toContain(`Pre-syncing workspace for gastown-refinery at ${dir}`);
    expect(f.lines.indexOf(`Pre-syncing workspace for gastown-refinery at ${dir}`)).toBeLessThan(f.lines.indexOf("Restarted session gt-gastown-refinery"));
    expect(f.created[0]!.env).toEqual({ GT_ROLE: "refinery", GT_IDENTITY: "gastown-refinery", GT_TOWN_ROOT: town });
  });

  test("a dirty tree is not pulled; the sync still runs", async () => {
    const { f, ctx } = setup();
    f.answer = (argv) => (argv[1] === "status" ? { stdout: " M file.go\n" } : {});
    expect(await runAction(ctx, agent("gastown-crew-joe"), "restart")).toBeNull();
    const dir = join(town, "gastown", "crew", "joe");
    expect(git(f)).toEqual(["git status --porcelain", "bd sync"]);
    expect(f.lines).toContain(`Skipping git pull in ${dir}: working tree has uncommitted changes`);
    expect(f.created).toHaveLength(1);
  });

  test("no origin/HEAD: main, with a log line", async () => {
    const { f, ctx } = setup();
    f.answer = (argv) => (argv[1] === "symbolic-ref" ? { code: 128, stderr: "fatal: not a symbolic ref" } : {});
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    expect(git(f)).toContain("git pull --rebase origin main");
    expect(f.lines.some((l) => /^Could not determine the default branch in .*exit status 128: fatal: not a symbolic ref\); using main$/.test(l))).toBe(true);
  });

  test.each(["-x", "a..b", "", "x/", "a//b", "a b", ".hidden"])("an unusable default branch answer %p falls back to main", async (name) => {
    const { f, ctx } = setup();
    f.answer = (argv) => (argv[1] === "symbolic-ref" ? { stdout: `origin/${name}` } : {});
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    expect(git(f)).toContain("git pull --rebase origin main");
  });

  test("failures are warnings in the original's wording; the restart goes on", async () => {
    const { f, ctx } = setup();
    f.answer = (argv) => (["fetch", "pull", "sync"].includes(argv[1]!) ? { code: 1, stderr: `${argv[1]} broke` } : {});
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    const dir = join(town, "gastown", "refinery", "rig");
    expect(f.lines).toContain(`Warning: git fetch failed in ${dir}: exit status 1: fetch broke`);
    expect(f.lines).toContain(`Warning: git pull failed in ${dir}: exit status 1: pull broke`);
    expect(f.lines).toContain(`Warning: bd sync failed in ${dir}: exit status 1: sync broke`);
    expect(f.lines.at(-1)).toBe("Restarted session gt-gastown-refinery");
  });

  test("mailbox.sync null: no sync command", async () => {
    const { f, ctx } = setup({ config: { mailbox: { ...defaultConfig().mailbox, sync: null } } });
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    expect(git(f).filter((c) => !c.startsWith("git "))).toEqual([]);
  });

  test("shutdown during the fetch: the rest of the sync is skipped, the agent is still recreated", async () => {
    const ac = new AbortController();
    const { f, ctx } = setup({ signal: ac.signal });
    f.answer = (argv) => {
      if (argv[1] === "fetch") ac.abort();
      return {};
    };
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    expect(git(f)).toEqual(["git status --porcelain", "git fetch origin"]);
    expect(f.lines).toContain(`Pre-sync of ${join(town, "gastown", "refinery", "rig")} cut short: shutting down`);
    expect(f.created).toHaveLength(1);
  });
});

describe("prime", () => {
  test("not configured (default): nothing typed", async () => {
    const { f, ctx } = setup();
    expect(await runAction(ctx, agent("mayor"), "cycle")).toBeNull();
    expect(f.tmux.filter((c) => c.startsWith("send"))).toEqual([]);
  });

  test("configured: typed after the pause", async () => {
    const { f, ctx } = setup({ config: { agent: { command: ["claude"], prime: "gt prime" } } });
    expect(await runAction(ctx, agent("mayor"), "cycle")).toBeNull();
    expect(f.sleeps).toEqual([PRIME_DELAY_MS]);
    expect(f.tmux.at(-1)).toBe("send gt-mayor gt prime");
  });
});

describe("dry run", () => {
  test("reads, decides, changes nothing", async () => {
    const { f, ctx } = setup({ dryRun: true, config: { agent: { command: ["claude"], prime: "gt prime" } } });
    f.sessions.add("gt-gastown-refinery");
    expect(await runAction(ctx, agent("gastown-refinery"), "cycle")).toBeNull();
    expect(f.tmux).toEqual(["sessions"]);
    expect(f.runs).toEqual([]);
    expect(f.sleeps).toEqual([]);
    expect(ctx.decisions.map((d) => d.action)).toEqual(["executing", "verified", "would-kill", "would-presync", "would-restart", "would-prime"]);
  });
});
