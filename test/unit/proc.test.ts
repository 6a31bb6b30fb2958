import { describe, expect, test } from "bun:test";
import { describeFailure, runCommand } from "../../src/proc.ts";

describe("runCommand", () => {
  test("argv elements reach the program literally (no shell)", async () => {
    const r = await runCommand(["printf", "%s|", "a b", "$(echo x)", ";", "'q'"], { timeoutMs: 5000 });
    expect(r).toEqual({ code: 0, stdout: "a b|$(echo x)|;|'q'|", stderr: "", timedOut: false, notFound: false });
  });

  test("a command that leaves a child holding its pipes still returns once it has exited", async () => {
    // Before the fix the wait lasted as long as the background sleep: the pipes stayed open.
    const t0 = Date.now();
    const r = await runCommand(["bash", "-c", "sleep 20 & echo $!"], { timeoutMs: 10_000 });
    const elapsed = Date.now() - t0;
    process.kill(Number(r.stdout.trim()), "SIGKILL");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\n$/);
    expect(elapsed).toBeLessThan(10_000);
  });

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
    expect(missing.notFound).toBe(true);
    expect(describeFailure(missing, 5000)).toMatch(/^command not found/);
  });
});
