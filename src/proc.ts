/**
 * Every subprocess gtd runs goes through here: an argv array (never a shell string built from data),
 * a timeout, an optional abort signal, a cap on captured output, and a result instead of an exception.
 */
import { isDirectory } from "./store.ts";
import type { RunOptions, RunResult, Runner } from "./ports.ts";
/** The Runner type lives with the ports; re-exported for the adapters that implement it. */
export type { RunOptions, RunResult, Runner };

const MiB = 1024 * 1024;
/**
 * The largest legitimate stdout is the inbox: ~250 bytes of JSON per message, so a 10,000-message inbox
 * is 2-3 MB. 16 MiB leaves room for ~60,000 messages while a flood costs at most this much memory.
 */
export const STDOUT_CAP_BYTES = 16 * MiB;
/** Only the first line of stderr ever reaches a log line; 1 MiB holds any real diagnostic whole. */
export const STDERR_CAP_BYTES = 1 * MiB;

/** One stream's output, kept up to its cap; past it, chunks are refused (and dropped). */
class Capture {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  constructor(readonly capBytes: number) {}
  /** Keeps the chunk; false (keeping nothing of it) when it would pass the cap. */
  add(chunk: Buffer | string): boolean {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.bytes + b.length > this.capBytes) return false;
    this.chunks.push(b);
    this.bytes += b.length;
    return true;
  }
  /** Decoded once, at the end, so a character split across two chunks stays whole. */
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/**
 * zx keeps every chunk of output in its `store` (twice: per stream and in `stdall`) until the process
 * ends. Arrays that keep nothing make Capture the only copy, so the cap really bounds memory.
 */
function discardingStore() {
  const sink = () => Object.assign([] as Array<string | Buffer>, { push: () => 0 });
  return { stdout: sink(), stderr: sink(), stdall: sink() };
}

/**
 * SIGKILL to the process group `pid` leads (every child is spawned detached, so it leads its own). Never
 * with a pid ≤ 1: kill(-0) would hit gtd's own group and kill(-1) every process it may signal. A group
 * keeps its id while any member lives, so the id is only reusable once there is nothing left to kill.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** The real runner: zx, loaded lazily so commands that never spawn do not pay for importing it. */
export const runCommand: Runner = async (argv, opts) => {
  const { $ } = await import("zx");
  const started = Date.now();
  if (opts.signal?.aborted) return { code: null, stdout: "", stderr: "aborted", timedOut: false, notFound: false };
  if (opts.cwd !== undefined && !isDirectory(opts.cwd)) {
    return { code: null, stdout: "", stderr: `working directory does not exist: ${opts.cwd}`, timedOut: false, notFound: false };
  }
  const proc = $({
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    timeoutSignal: "SIGKILL",
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    input: opts.input,
    nothrow: true,
    quiet: true,
    verbose: false,
    store: discardingStore(),
    // Its own session: no controlling terminal, so nothing (ssh asking for a passphrase or a host key
    // under `start --foreground`) can wait on a prompt until the timeout, a Ctrl-C meant for the
    // daemon does not hit the child mid-action, and a kill reaches the whole process group.
    detached: true,
  })`${argv}`;
  const pid = proc.pid;
  // zx's kill() takes the whole tree (descendants by parent PID, then the group), as its timeout does.
  const killTree = () => {
    killGroup(pid);
    try {
      void proc.kill("SIGKILL").catch(() => {});
    } catch {
      // Already settled: only the group sweep below is left to do.
    }
  };
  const out = new Capture(opts.stdoutCapBytes ?? STDOUT_CAP_BYTES);
  const err = new Capture(opts.stderrCapBytes ?? STDERR_CAP_BYTES);

  return new Promise<RunResult>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let exceeded: RunResult["outputExceeded"];
    let done = false;
    const finish = (code: number | null, timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      proc.stdout?.destroy();
      proc.stderr?.destroy();
      // Whatever the command left behind in its group (a `cmd &` holding our pipes, a forked helper)
      // ends with the call. A tmux server it started is not in the group: tmux daemonizes (setsid).
      killGroup(pid);
      if (exceeded) {
        // The flooded stream is not returned: it is incomplete, and decoding it would double its memory.
        const stdout = exceeded.stream === "stdout" ? "" : out.text();
        const stderr = exceeded.stream === "stderr" ? "" : err.text().trim();
        resolve({ code: null, stdout, stderr, timedOut: false, notFound: false, outputExceeded: exceeded });
        return;
      }
      resolve({ code, stdout: out.text(), stderr: err.text().trim(), timedOut, notFound: code === 127 || code === 126 });
    };
    const onAbort = () => {
      killTree();
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    // Past a cap, the output is incomplete and the command is flooding: kill it and answer now.
    const collect = (capture: Capture, stream: "stdout" | "stderr") => (chunk: Buffer | string) => {
      if (exceeded || capture.add(chunk)) return;
      exceeded = { stream, capBytes: capture.capBytes };
      killTree();
      finish(null, false);
    };
    proc.stdout?.on("data", collect(out, "stdout"));
    proc.stderr?.on("data", collect(err, "stderr"));

    // zx settles only when the child's pipes close. A command that leaves a background process holding
    // them (ssh ControlPersist under git, a wrapper script that forks) would make the wait unbounded, so
    // the wait also ends shortly after the child itself exits, and at a hard deadline past the timeout.
    proc.child?.once("exit", (code: number | null) => {
      if (done) return;
      clearTimeout(timer);
      timer = setTimeout(() => finish(code, false), EXIT_DRAIN_MS);
    });
    timer = setTimeout(() => {
      killTree();
      finish(null, true);
    }, opts.timeoutMs + HARD_DEADLINE_GRACE_MS);
    proc.then(
      (o) => finish(o.exitCode, o.exitCode === null && Date.now() - started >= opts.timeoutMs - 5),
      () => finish(null, false),
    );
  });
};

/** After the child exits, how long its output may keep arriving before we stop waiting for the pipes. */
const EXIT_DRAIN_MS = 300;
/** zx's own timeout kills the tree; this is the backstop if even that does not end the wait. */
const HARD_DEADLINE_GRACE_MS = 1000;

/** `16 MiB`, `64 KiB`, or `1000 bytes`: a cap as a person reads it. */
function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** One line describing a failed run, for log lines (`exit status 1: <stderr>`, as Go's exec prints). */
export function describeFailure(r: RunResult, timeoutMs: number): string {
  if (r.outputExceeded) return `output exceeded ${sizeText(r.outputExceeded.capBytes)} on ${r.outputExceeded.stream}, killed`;
  if (r.timedOut) return `timed out after ${timeoutMs}ms`;
  if (r.notFound) return `command not found${r.stderr ? `: ${r.stderr}` : ""}`;
  if (r.code === null && r.stderr.startsWith("working directory does not exist")) return r.stderr;
  const head = r.code === null ? "killed" : `exit status ${r.code}`;
  return r.stderr ? `${head}: ${firstLine(r.stderr)}` : head;
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
