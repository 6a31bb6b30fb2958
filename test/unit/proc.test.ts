import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeFailure, type RunResult, runCommand, STDERR_CAP_BYTES, STDOUT_CAP_BYTES } from "../../src/proc.ts";
import { createTmux } from "../../src/tmux.ts";
import { procAlive, procState } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

/** A scratch directory for one test, removed after it. */
async function inTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "gtd-proc-"));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints each argument it receives followed by a NUL, so the test sees the argv exactly. */
const PRINT_ARGV = ["sh", "-c", `printf '%s\\0' "$@"`, "sh"];

describe("runCommand", () => {
  test("argv elements reach the program literally (no shell)", async () => {
    const r = await runCommand(["printf", "%s|", "a b", "$(echo x)", ";", "'q'"], { timeoutMs: 5000 });
    expect(r).toEqual({ code: 0, stdout: "a b|$(echo x)|;|'q'|", stderr: "", timedOut: false, notFound: false });
  });

  test("every shell metacharacter reaches the program byte for byte, the program path included", async () => {
    const hostile = [
      "-n", "--", "-e", "$(touch pwned)", "`touch pwned`", "${HOME}", "$HOME", "a;b", "a && b", "a | b", "a > b",
      "'single'", '"double"', "back\\slash\\", "line1\nline2", "tab\there", "cr\rlf", "", " ", "*", "~", "!x", "#c",
      "a=b", "{a,b}", "(x)", "é ✓ 日本", "%s%d", "\x01\x7f",
    ];
    await inTempDir(async (dir) => {
      // A program whose own path would break an unquoted command line.
      const binDir = join(dir, "a b;$(touch pwned)'\"");
      mkdirSync(binDir);
      const program = join(binDir, "-print-argv");
      writeFileSync(program, `#!/bin/sh\nprintf '%s\\0' "$@"\n`);
      chmodSync(program, 0o755);
      const direct = await runCommand([program, ...hostile], { timeoutMs: 10_000, cwd: dir });
      const viaSh = await runCommand([...PRINT_ARGV, ...hostile], { timeoutMs: 10_000, cwd: dir });
      for (const r of [direct, viaSh]) {
        expect(r).toMatchObject({ code: 0, stderr: "" });
        expect(r.stdout.split("\0").slice(0, -1)).toEqual(hostile);
      }
      expect(existsSync(join(dir, "pwned"))).toBe(false);
    });
  });

  test("env is added to gtd's own, cwd is where the command runs, input is its stdin", async () => {
    await inTempDir(async (dir) => {
      const r = await runCommand(["sh", "-c", 'printf "%s|%s|%s|" "$GTD_PROC_TEST" "$(pwd -P)" "${PATH:+has-path}"; cat'], {
        timeoutMs: 10_000,
        cwd: dir,
        env: { GTD_PROC_TEST: "a b $(x)" },
        input: "line 1\nline 2\n",
      });
      expect(r).toEqual({ code: 0, stdout: `a b $(x)|${realpathSync(dir)}|has-path|line 1\nline 2\n`, stderr: "", timedOut: false, notFound: false });
    });
  });

  test("without input the command reads end-of-file at once, it does not wait on an open stdin", async () => {
    // Before, stdin was an open pipe nobody wrote to: `cat` ran until the timeout.
    const r = await runCommand(["cat"], { timeoutMs: 20_000 });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "", timedOut: false, notFound: false });
  }, 60_000);

  test("input the command never reads is not an error (no EPIPE escapes the call)", async () => {
    // 4 MiB is far past a pipe's buffer, so the write is still going when `true` has exited.
    const r = await runCommand(["true"], { timeoutMs: 10_000, input: "x".repeat(4 * 1024 * 1024) });
    expect(r).toEqual({ code: 0, stdout: "", stderr: "", timedOut: false, notFound: false });
    // The write error, if it escaped, would surface as an uncaught error by the next turn of the loop.
    expect((await runCommand(["true"], { timeoutMs: 10_000 })).code).toBe(0);
  });

  test("a background child holding the pipes does not hold the call: it dies when the command exits", async () => {
    // Waiting for the pipes to close, as zx did, lasted as long as the background sleep (or,
    // with the 20 s timeout, ended as a timeout). Now the group is killed when the command exits.
    const r = await runCommand(["bash", "-c", "sleep 1000 & echo $!"], { timeoutMs: 20_000 });
    expect(r).toMatchObject({ code: 0, timedOut: false, stderr: "" });
    expect(r.stdout).toMatch(/^\d+\n$/);
    const bg = Number(r.stdout.trim());
    await waitFor(() => !procAlive(bg), { timeoutMs: 5000, what: `background sleep ${bg} gone (state ${procState(bg)})` });
  }, 60_000);

  test("a background child that left the group (setsid) and holds the pipes: the call returns while it lives", async () => {
    // Out of the group's reach, so not killed: the call stops reading its pipes instead of waiting.
    // The script waits until the child leads its own session, so it cannot die with the group.
    const script = 'setsid sleep 1000 & p=$!; until [ "$(cut -d" " -f6 /proc/$p/stat)" = "$p" ]; do :; done; echo "$p"';
    const r = await runCommand(["bash", "-c", script], { timeoutMs: 20_000 });
    const escaped = Number(r.stdout.trim());
    try {
      expect(r).toMatchObject({ code: 0, timedOut: false, stderr: "" });
      expect(escaped).toBeGreaterThan(1);
      expect(procAlive(escaped)).toBe(true);
    } finally {
      if (escaped > 1) process.kill(escaped, "SIGKILL");
    }
  }, 60_000);

  test("a child runs in its own session, without a controlling terminal (nothing can prompt on one)", async () => {
    // Field 6 of /proc/<pid>/stat is the session id, field 7 the controlling tty (0 = none).
    const r = await runCommand(["sh", "-c", 'set -- $(cat /proc/$$/stat); echo "$1 $6 $7"'], { timeoutMs: 5000 });
    const [pid, sid, tty] = r.stdout.trim().split(" ");
    expect(sid).toBe(pid);
    expect(tty).toBe("0");
  });

  test("a missing working directory is said plainly, nothing runs", async () => {
    const r = await runCommand(["true"], { cwd: "/nonexistent/gtd-dir", timeoutMs: 5000 });
    expect(r.code).toBeNull();
    expect(describeFailure(r, 5000)).toBe("working directory does not exist: /nonexistent/gtd-dir");
  });

  test("timeout: killed, reported as timed out", async () => {
    const r = await runCommand(["sleep", "30"], { timeoutMs: 200 });
    expect(r.code).toBeNull();
    expect(r.timedOut).toBe(true);
    expect(describeFailure(r, 200)).toBe("timed out after 200ms");
  });

  test("abort ends the run, and an already aborted signal runs nothing", async () => {
    const ac = new AbortController();
    const run = runCommand(["sleep", "30"], { timeoutMs: 60_000, signal: ac.signal });
    ac.abort();
    expect((await run).code).toBeNull();
    const r = await runCommand(["touch", "/nonexistent-should-not-run"], { timeoutMs: 5000, signal: ac.signal });
    expect(r.stderr).toBe("aborted");
  });

  test("non-zero exit and missing commands are described in one line", async () => {
    const r = await runCommand(["sh", "-c", "echo first >&2; echo second >&2; exit 3"], { timeoutMs: 5000 });
    expect(describeFailure(r, 5000)).toBe("exit status 3: first");
    const missing = await runCommand(["gtd-no-such-command"], { timeoutMs: 5000 });
    expect(missing).toMatchObject({ code: 127, notFound: true, timedOut: false });
    expect(describeFailure(missing, 5000)).toMatch(/^command not found: .*gtd-no-such-command: command not found$/);
  });

  test("a file that is not executable is 'not found' too (126), with the shell's reason", async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, "not-executable");
      writeFileSync(file, "#!/bin/sh\n");
      const r = await runCommand([file], { timeoutMs: 5000 });
      expect(r).toMatchObject({ code: 126, notFound: true });
      expect(describeFailure(r, 5000)).toMatch(/^command not found: .*Permission denied$/);
    });
  });
});

test("a command that cannot start for another reason is a failure to start, not 'not found'", async () => {
  // 3 MB of argv is past ARG_MAX: the kernel refuses the exec (E2BIG).
  const r = await runCommand(["true", "x".repeat(3_000_000)], { timeoutMs: 5000 });
  expect(r).toMatchObject({ code: null, notFound: false, timedOut: false, stdout: "" });
  expect(describeFailure(r, 5000)).toMatch(/^killed: .*E2BIG/);
});

/**
 * Output caps. Before them, `yes` under runCommand grew the process by ~1 GB a second until the timeout.
 * The flood tests use a 3 s timeout so that, without the cap, they fail at the timeout instead of
 * exhausting the machine; with it they answer in well under a second.
 */
describe("runCommand output caps", () => {
  const FLOOD_TIMEOUT_MS = 3000;

  test("endless stdout: killed at the cap, said so, the flooded stream not returned", async () => {
    const r = await runCommand(["yes"], { timeoutMs: FLOOD_TIMEOUT_MS });
    expect(r.outputExceeded).toEqual({ stream: "stdout", capBytes: STDOUT_CAP_BYTES });
    expect(r).toMatchObject({ code: null, timedOut: false, stdout: "" });
    expect(describeFailure(r, FLOOD_TIMEOUT_MS)).toBe("output exceeded 16 MiB on stdout, killed");
  });

  test("endless stderr: killed at its (smaller) cap", async () => {
    const r = await runCommand(["sh", "-c", "echo partial; yes >&2"], { timeoutMs: FLOOD_TIMEOUT_MS });
    expect(r.outputExceeded).toEqual({ stream: "stderr", capBytes: STDERR_CAP_BYTES });
    expect(r).toMatchObject({ code: null, timedOut: false, stderr: "" });
    expect(describeFailure(r, FLOOD_TIMEOUT_MS)).toBe("output exceeded 1 MiB on stderr, killed");
  });

  test("both streams flooding, one from a background child: the whole group is killed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gtd-proc-"));
    try {
      const pidFile = join(dir, "bg.pid");
      const script = `yes & echo $! > '${pidFile}'; yes >&2`;
      const r = await runCommand(["sh", "-c", script], { timeoutMs: FLOOD_TIMEOUT_MS });
      expect(r.outputExceeded?.stream).toMatch(/^std(out|err)$/);
      expect(r.timedOut).toBe(false);
      const bg = Number(readFileSync(pidFile, "utf8").trim());
      await waitFor(() => !procAlive(bg), { timeoutMs: 5000, what: `background yes ${bg} gone (state ${procState(bg)})` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("output up to the cap passes whole; one byte more is refused (caps set per call)", async () => {
    const bytes = (n: number, fd = 1) => ["sh", "-c", `head -c ${n} /dev/zero | tr '\\0' x >&${fd}`];
    const exact = await runCommand(bytes(100_000), { timeoutMs: 10_000, stdoutCapBytes: 100_000 });
    expect(exact.outputExceeded).toBeUndefined();
    expect(exact.code).toBe(0);
    expect(exact.stdout).toBe("x".repeat(100_000));
    const over = await runCommand(bytes(100_001), { timeoutMs: 10_000, stdoutCapBytes: 100_000 });
    expect(over.outputExceeded).toEqual({ stream: "stdout", capBytes: 100_000 });
    expect(describeFailure(over, 10_000)).toBe("output exceeded 100000 bytes on stdout, killed");
    const errOver = await runCommand(bytes(4097, 2), { timeoutMs: 10_000, stderrCapBytes: 4096 });
    expect(describeFailure(errOver, 10_000)).toBe("output exceeded 4 KiB on stderr, killed");
  });

  test("the defaults let a big town's inbox (3 MB) and a 1 MiB stderr through whole", async () => {
    // A 10,000-message inbox is ~2-3 MB of JSON: the stdout cap must never cut a real one.
    const inbox = await runCommand(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a"], { timeoutMs: 10_000 });
    expect(inbox.outputExceeded).toBeUndefined();
    expect(inbox.stdout.length).toBe(3_000_000);
    const err = await runCommand(["sh", "-c", `head -c ${STDERR_CAP_BYTES} /dev/zero | tr '\\0' e >&2`], { timeoutMs: 10_000 });
    expect(err.outputExceeded).toBeUndefined();
    expect(err.stderr.length).toBe(STDERR_CAP_BYTES);
  });

  test("multi-byte characters split across chunks come out whole", async () => {
    // 200,000 × "é" (2 bytes) after one odd byte spans many pipe reads of even size; decoding chunk by
    // chunk would break the character at every boundary.
    const r = await runCommand(["sh", "-c", "printf x; yes é | head -n 200000 | tr -d '\\n'"], { timeoutMs: 10_000 });
    expect(r.stdout).toBe(`x${"é".repeat(200_000)}`);
  });

  test("a tmux client that floods stderr is an error naming the cap, not read as 'no server running'", async () => {
    // Without the cap check, the first line would classify as no-server and list-panes would answer "no sessions".
    const tmux = createTmux({
      socket: null,
      timeoutMs: FLOOD_TIMEOUT_MS,
      run: (_argv, o) => runCommand(["sh", "-c", "yes 'no server running on /tmp/x' >&2"], o),
    });
    await expect(tmux.sessions()).rejects.toThrow("tmux list-panes: output exceeded 1 MiB on stderr, killed");
  });
});

/** Live processes whose argv is exactly `argv`, from /proc/<pid>/cmdline (zombies excluded). */
function liveWithArgv(argv: string[]): number[] {
  const want = `${argv.join("\0")}\0`;
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8") === want && procAlive(Number(name))) pids.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

/**
 * A command's process group does not outlive the call, however the call ends. Each command starts a
 * background `sleep <marker>` (unique to the test) in its group, then ends the way the case says.
 */
describe("runCommand leaves nothing of its process group behind", () => {
  const cases: Array<[string, string, { timeoutMs: number; abort?: boolean }, Partial<RunResult>]> = [
    ["exit, the child holding the pipes", 'sleep "$1" & echo hi', { timeoutMs: 20_000 }, { code: 0, stdout: "hi\n", timedOut: false }],
    ["exit, the child detached from the pipes", 'sleep "$1" >/dev/null 2>&1 & echo hi', { timeoutMs: 20_000 }, { code: 0, stdout: "hi\n", timedOut: false }],
    ["output cap", 'sleep "$1" & yes', { timeoutMs: 20_000 }, { code: null, outputExceeded: { stream: "stdout", capBytes: STDOUT_CAP_BYTES } }],
    ["timeout", 'sleep "$1" & sleep 30', { timeoutMs: 500 }, { code: null, timedOut: true }],
    ["abort", 'sleep "$1" & sleep 30', { timeoutMs: 20_000, abort: true }, { code: null, timedOut: false }],
    // An abort that sent SIGTERM (zx's did) would not end these: an ignored signal stays ignored in the children.
    ["abort, SIGTERM ignored", 'trap "" TERM; sleep "$1" & sleep 30', { timeoutMs: 20_000, abort: true }, { code: null, timedOut: false }],
  ];
  for (const [ending, script, o, expected] of cases) {
    test(`after ${ending}`, async () => {
      const marker = `1000.${process.pid}${Math.floor(Math.random() * 1e9)}`;
      const background = ["sleep", marker];
      const ac = new AbortController();
      const run = runCommand(["sh", "-c", script, "sh", marker], { timeoutMs: o.timeoutMs, signal: ac.signal });
      if (o.abort) {
        await waitFor(() => liveWithArgv(background).length > 0, { timeoutMs: 10_000, what: "background sleep started" });
        ac.abort();
      }
      expect(await run).toMatchObject(expected);
      // The kill is sent before the call returns; the kernel finishes it a moment later.
      await waitFor(() => liveWithArgv(background).length === 0, { timeoutMs: 5000, what: `background ${background.join(" ")} gone` });
    }, 60_000);
  }
});
