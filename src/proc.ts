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
 * with a pid ≤ 1: kill(-0) would hit gtd's own group and kill(-1) every process it may signal. Sent only
 * while the leader is unreaped or at the moment it is: the id cannot have passed to another group then.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** bash, looked up once: zx's quote writes bash (`$'…'`), which plain sh would misread. */
let bashPath: string | undefined;

/**
 * The real runner: zx, loaded lazily so commands that never spawn do not pay for importing it.
 *
 * zx spawns the command through bash, the argv quoted element by element by zx's own `quote`, one simple
 * command that bash execs in place. zx's options carry the rest: `timeout`, `nothrow` (a result, never an
 * exception), `quiet`, `signal`, `detached`. What zx does not do is done around it, each step saying why:
 * the group is killed when the child exits, output is capped, and abort and timeout kill with SIGKILL.
 */
export const runCommand: Runner = async (argv, opts) => {
  if (opts.signal?.aborted) return { code: null, stdout: "", stderr: "aborted", timedOut: false, notFound: false };
  if (opts.cwd !== undefined && !isDirectory(opts.cwd)) {
    return { code: null, stdout: "", stderr: `working directory does not exist: ${opts.cwd}`, timedOut: false, notFound: false };
  }
  const { $, quote, which } = await import("zx");
  bashPath ??= which.sync("bash", { nothrow: true }) ?? "bash";
  const out = new Capture(opts.stdoutCapBytes ?? STDOUT_CAP_BYTES);
  const err = new Capture(opts.stderrCapBytes ?? STDERR_CAP_BYTES);
  let exceeded: RunResult["outputExceeded"];
  let timedOut = false;
  let exited = false;

  const proc = $({
    // Every option zx would otherwise take from its defaults or from ZX_* environment variables.
    shell: bashPath,
    quote,
    prefix: "",
    postfix: "",
    preferLocal: false,
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    // Without input the command reads end-of-file: an open, silent stdin would hold it to the timeout.
    stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    input: opts.input,
    timeout: opts.timeoutMs,
    timeoutSignal: "SIGKILL",
    // zx calls this for its timeout only (nothing here kills through zx): the whole group, not just the
    // child, and without zx's default `ps` walk (a process per kill, and it reaches setsid'd daemons).
    kill: async () => {
      if (exited) return;
      timedOut = true;
      killGroup(pid);
    },
    signal: opts.signal,
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

  // Past a cap, the output is incomplete and the command is flooding: kill it, stop reading.
  const collect = (capture: Capture, stream: "stdout" | "stderr") => (chunk: Buffer | string) => {
    if (exceeded || capture.add(chunk)) return;
    exceeded = { stream, capBytes: capture.capBytes };
    killGroup(pid);
    proc.stdout?.destroy();
    proc.stderr?.destroy();
  };
  proc.stdout?.on("data", collect(out, "stdout"));
  proc.stderr?.on("data", collect(err, "stderr"));
  // A command that exits without reading all its input is not an error of the call (EPIPE).
  proc.child?.stdin?.on("error", () => {});

  // zx sends SIGTERM to the group on abort, which a command may ignore.
  const onAbort = () => {
    if (!exited) killGroup(pid);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  // zx settles when the child's pipes close, so a background process holding them (`cmd &`, ssh
  // ControlPersist under git, a wrapper that forks) would hold the call. The group dies with the child:
  // nothing of it outlives the call, and the pipes close once the output already written is read.
  let drain: ReturnType<typeof setTimeout> | undefined;
  proc.child?.once("exit", () => {
    exited = true;
    killGroup(pid);
    // What still holds the pipes left the group (setsid) and is out of reach: stop waiting for it.
    drain = setTimeout(() => {
      proc.stdout?.destroy();
      proc.stderr?.destroy();
    }, ESCAPED_DRAIN_MS);
  });

  const o = await proc;
  clearTimeout(drain);
  opts.signal?.removeEventListener("abort", onAbort);
  if (exceeded) {
    // The flooded stream is not returned: it is incomplete, and decoding it would double its memory.
    const stdout = exceeded.stream === "stdout" ? "" : out.text();
    const stderr = exceeded.stream === "stderr" ? "" : err.text().trim();
    return { code: null, stdout, stderr, timedOut: false, notFound: false, outputExceeded: exceeded };
  }
  if (pid === undefined) {
    // bash itself could not be started.
    const cause = o.cause as NodeJS.ErrnoException | null;
    return { code: null, stdout: "", stderr: cause?.message ?? "could not start", timedOut: false, notFound: cause?.code === "ENOENT" };
  }
  const code = o.exitCode;
  return { code, stdout: out.text(), stderr: err.text().trim(), timedOut, notFound: code === 127 || code === 126 };
};

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
