import { describe, expect, test } from "bun:test";
import { BATCH_SSH, gitEnv, presyncWorkspace, type PresyncOptions } from "../../../src/lifecycle/presync.ts";
import type { RunOptions, RunResult } from "../../../src/proc.ts";

/** A runner that records every call and answers success (a clean tree, origin/HEAD = origin/main). */
function fakeRunner() {
  const runs: Array<{ argv: string[]; opts: RunOptions }> = [];
  const run = async (argv: string[], opts: RunOptions): Promise<RunResult> => {
    runs.push({ argv, opts });
    const stdout = argv[1] === "symbolic-ref" ? "origin/main\n" : "";
    return { code: 0, stdout, stderr: "", timedOut: false, notFound: false };
  };
  return { runs, run };
}

async function presync(env: Record<string, string | undefined>) {
  const f = fakeRunner();
  const o: PresyncOptions = {
    run: f.run,
    say: () => {},
    gitTimeoutMs: 1000,
    syncTimeoutMs: 1000,
    sync: ["bd", "sync"],
    signal: new AbortController().signal,
    env,
  };
  await presyncWorkspace(o, "gastown-refinery", "/town/gastown/refinery/rig");
  return f.runs;
}

describe("git never waits on a prompt, ssh's included", () => {
  test("every git call runs with GIT_TERMINAL_PROMPT=0 and ssh in batch mode (no host-key or passphrase prompt)", async () => {
    const runs = await presync({ PATH: "/usr/bin", HOME: "/home/u" });
    const gits = runs.filter((r) => r.argv[0] === "git");
    expect(gits.map((r) => r.argv[1])).toEqual(["status", "fetch", "symbolic-ref", "pull"]);
    for (const r of gits) expect(r.opts.env).toEqual({ GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: "ssh -o BatchMode=yes" });
    // The mailbox sync is not git: its environment is left alone.
    expect(runs.at(-1)!.argv).toEqual(["bd", "sync"]);
    expect(runs.at(-1)!.opts.env).toBeUndefined();
  });

  test("the user's GIT_SSH_COMMAND is respected (not overridden, not added)", async () => {
    const runs = await presync({ GIT_SSH_COMMAND: "ssh -i ~/.ssh/deploy" });
    for (const r of runs.filter((r) => r.argv[0] === "git")) expect(r.opts.env).toEqual({ GIT_TERMINAL_PROMPT: "0" });
  });

  test("the user's GIT_SSH is respected too (GIT_SSH_COMMAND would take precedence over it)", async () => {
    const runs = await presync({ GIT_SSH: "/usr/local/bin/my-ssh" });
    for (const r of runs.filter((r) => r.argv[0] === "git")) expect(r.opts.env).toEqual({ GIT_TERMINAL_PROMPT: "0" });
  });

  test("gitEnv: set-but-empty counts as the user's choice; without an env argument, process.env decides", async () => {
    expect(gitEnv({})).toEqual({ GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: BATCH_SSH });
    expect(gitEnv({ GIT_SSH_COMMAND: "" })).toEqual({ GIT_TERMINAL_PROMPT: "0" });
    const f = fakeRunner();
    await presyncWorkspace(
      { run: f.run, say: () => {}, gitTimeoutMs: 1000, syncTimeoutMs: 1000, sync: null, signal: new AbortController().signal },
      "gastown-crew-joe",
      "/town/gastown/crew/joe",
    );
    expect(f.runs[0]!.opts.env).toEqual(gitEnv(process.env));
  });
});
