/**
 * Every subprocess gtd runs goes through here: an argv array (never a shell string built from data),
 * a timeout, an optional abort signal, and a result instead of an exception.
 */
import { isDirectory } from "./store.ts";
export interface RunOptions {
  cwd?: string;
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  input?: string;
  signal?: AbortSignal;
}

export interface RunResult {
  /** Exit status; null when the process was killed (timeout, abort) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command could not be found or started (bash's 127/126). */
  notFound: boolean;
}

export type Runner = (argv: string[], opts: RunOptions) => Promise<RunResult>;

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
    // Its own session: no controlling terminal, so nothing (ssh asking for a passphrase or a host key
    // under `start --foreground`) can wait on a prompt until the timeout, a Ctrl-C meant for the
    // daemon does not hit the child mid-action, and a kill reaches the whole process group.
    detached: true,
  })`${argv}`;
  // zx's abort signal kills only bash; kill() takes the whole tree, as the timeout does.
  const onAbort = () => void proc.kill("SIGKILL").catch(() => {});
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  // zx settles only when the child's pipes close. A command that leaves a background process holding
  // them (ssh ControlPersist under git, a wrapper script that forks) would make the wait unbounded, so
  // the wait also ends shortly after the child itself exits, and at a hard deadline past the timeout.
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d));
  proc.stderr.on("data", (d: Buffer) => (stderr += d));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bounded = new Promise<RunResult>((resolve) => {
    const give = (code: number | null, timedOut: boolean) => {
      proc.stdout.destroy();
      proc.stderr.destroy();
      resolve({ code, stdout, stderr: stderr.trim(), timedOut, notFound: code === 127 || code === 126 });
    };
    proc.child?.once("exit", (code) => {
      clearTimeout(timer);
      timer = setTimeout(() => give(code, false), EXIT_DRAIN_MS);
    });
    timer = setTimeout(() => {
      void proc.kill("SIGKILL").catch(() => {});
      give(null, true);
    }, opts.timeoutMs + HARD_DEADLINE_GRACE_MS);
  });
  const settled = (async (): Promise<RunResult> => {
    const out = await proc;
    const code = out.exitCode;
    return {
      code,
      stdout: out.stdout,
      stderr: out.stderr.trim(),
      timedOut: code === null && Date.now() - started >= opts.timeoutMs - 5,
      notFound: code === 127 || code === 126,
    };
  })();
  try {
    return await Promise.race([settled, bounded]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
};


/** After the child exits, how long its output may keep arriving before we stop waiting for the pipes. */
const EXIT_DRAIN_MS = 300;
/** zx's own timeout kills the tree; this is the backstop if even that does not end the wait. */
const HARD_DEADLINE_GRACE_MS = 1000;

/** One line describing a failed run, for log lines (`exit status 1: <stderr>`, as Go's exec prints). */
export function describeFailure(r: RunResult, timeoutMs: number): string {
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
