/**
 * Every subprocess gtd runs goes through here: an argv array (never a shell string built from data),
 * a timeout, an optional abort signal, a cap on captured output, and a result instead of an exception.
 */
import type { Subprocess } from "bun";
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
  add(chunk: Uint8Array): boolean {
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
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
 * SIGKILL to the process group `pid` leads (every child is spawned detached, so it leads its own). Never
 * with a pid ≤ 1: kill(-0) would hit gtd's own group and kill(-1) every process it may signal. Sent while
 * the leader lives or just after it was reaped: a group id stays taken while any member lives, and a new
 * process given the pid would have to make itself a group leader in that moment to be hit.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/**
 * The real runner: the argv is executed directly (Bun.spawn, no shell between), so nothing in it is ever
 * read as shell syntax and each call costs one process. Not zx, which the design names for processes:
 * zx runs every command through bash and builds a ProcessPromise, node:child_process and stream adapters
 * around it, and in the daemon that was half of each heartbeat's CPU (BENCHMARKS.md, experiment E1:
 * 30.5 → 15.8 ms per heartbeat, 70.6 → 54.9 MiB) for nothing the heartbeat used: gtd never needs a
 * pipeline, a glob or a template, only argv in, output and status out.
 *
 * What a supervisor needs around a child is done here, each step saying why: its own session, a timeout
 * and an abort that kill the whole group with SIGKILL, output capped, the group killed when the child
 * exits so nothing of it outlives the call, and a result instead of an exception.
 */
export const runCommand: Runner = async (argv, opts) => {
  if (opts.signal?.aborted) return { code: null, stdout: "", stderr: "aborted", timedOut: false, notFound: false };
  if (opts.cwd !== undefined && !isDirectory(opts.cwd)) {
    return { code: null, stdout: "", stderr: `working directory does not exist: ${opts.cwd}`, timedOut: false, notFound: false };
  }
  let child: Subprocess<"ignore" | Blob, "pipe", "pipe">;
  try {
    child = Bun.spawn(argv, {
      cwd: opts.cwd ?? process.cwd(),
      env: opts.env ? definedOnly({ ...process.env, ...opts.env }) : definedOnly(process.env),
      // Without input the command reads end-of-file: an open, silent stdin would hold it to the timeout.
      stdin: opts.input === undefined ? "ignore" : new Blob([opts.input]),
      stdout: "pipe",
      stderr: "pipe",
      // Its own session (setsid): no controlling terminal, so nothing (ssh asking for a passphrase or a
      // host key under `start --foreground`) can wait on a prompt until the timeout, a Ctrl-C meant for
      // the daemon does not hit the child mid-action, and a kill reaches the whole process group.
      detached: true,
    });
  } catch (err) {
    return cannotStart(argv[0] ?? "", err as NodeJS.ErrnoException);
  }
  const pid = child.pid;
  const out = new Capture(opts.stdoutCapBytes ?? STDOUT_CAP_BYTES);
  const err = new Capture(opts.stderrCapBytes ?? STDERR_CAP_BYTES);
  let exceeded: RunResult["outputExceeded"];
  let timedOut = false;
  let exited = false;
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const stopReading = () => {
    for (const r of readers) r.cancel().catch(() => {});
  };

  // Past a cap, the output is incomplete and the command is flooding: kill it, stop reading.
  const pump = async (reader: ChunkReader, capture: Capture, stream: "stdout" | "stderr") => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || value === undefined || exceeded) return;
        if (capture.add(value)) continue;
        exceeded = { stream, capBytes: capture.capBytes };
        killGroup(pid);
        stopReading();
        return;
      }
    } catch {
      // Cancelled (cap, or the drain below): what was read is kept.
    }
  };
  const reading = Promise.all([pump(readers[0]!, out, "stdout"), pump(readers[1]!, err, "stderr")]);

  // The timeout and an abort kill the group with SIGKILL, which no child can ignore or outlive.
  const timer = opts.timeoutMs > 0 ? setTimeout(() => {
    if (exited) return;
    timedOut = true;
    killGroup(pid);
  }, opts.timeoutMs) : undefined;
  const onAbort = () => {
    if (!exited) killGroup(pid);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  await child.exited;
  exited = true;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  // A background process holding the pipes (`cmd &`, ssh ControlPersist under git, a wrapper that forks)
  // would hold the call: the group dies with the child, so nothing of it outlives the call and the pipes
  // close once the output already written is read (see killGroup on why the id is still the group's).
  killGroup(pid);
  // What still holds the pipes left the group (setsid) and is out of reach: stop waiting for it.
  let drain: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([reading, new Promise<void>((r) => (drain = setTimeout(r, ESCAPED_DRAIN_MS)))]);
  clearTimeout(drain);
  stopReading();

  if (exceeded) {
    // The flooded stream is not returned: it is incomplete, and decoding it would double its memory.
    const stdout = exceeded.stream === "stdout" ? "" : out.text();
    const stderr = exceeded.stream === "stderr" ? "" : err.text().trim();
    return { code: null, stdout, stderr, timedOut: false, notFound: false, outputExceeded: exceeded };
  }
  return { code: child.exitCode, stdout: out.text(), stderr: err.text().trim(), timedOut, notFound: false };
};

/** The part of a stream reader the pump uses. */
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
}

/** Bun.spawn takes only strings: an undefined entry means the variable is not set. */
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) defined[k] = v;
  return defined;
}

/**
 * A command that could not start. No such command or not executable is "not found", with the status and
 * message a shell would give (127, 126): log lines and hints read the same as they did through bash. Any
 * other reason (too many open files, argv too long) is a failure to start, said in the system's words.
 */
function cannotStart(program: string, err: NodeJS.ErrnoException): RunResult {
  if (err.code === "ENOENT") return { code: 127, stdout: "", stderr: `${program}: command not found`, timedOut: false, notFound: true };
  if (err.code === "EACCES") return { code: 126, stdout: "", stderr: `${program}: Permission denied`, timedOut: false, notFound: true };
  return { code: null, stdout: "", stderr: err.message || "could not start", timedOut: false, notFound: false };
}

/**
 * After the child exits and its group is killed, how long a process that left the group (setsid) may
 * keep the pipes before the call stops reading them. Output already written is read well within it.
 */
const ESCAPED_DRAIN_MS = 300;

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
