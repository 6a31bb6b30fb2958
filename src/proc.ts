/**
 * Every subprocess gtd runs goes through here: an argv array (never a shell string built from data),
 * a timeout, an optional abort signal, and a result instead of an exception.
 */
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
  const proc = $({
    cwd: opts.cwd,
    timeout: opts.timeoutMs,
    timeoutSignal: "SIGKILL",
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    input: opts.input,
    nothrow: true,
    quiet: true,
    verbose: false,
  })`${argv}`;
  // zx's abort signal kills only bash; kill() takes the whole tree, as the timeout does.
  const onAbort = () => void proc.kill("SIGKILL").catch(() => {});
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let out: Awaited<typeof proc>;
  try {
    out = await proc;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const code = out.exitCode;
  const timedOut = code === null && Date.now() - started >= opts.timeoutMs - 5;
  return {
    code,
    stdout: out.stdout,
    stderr: out.stderr.trim(),
    timedOut,
    notFound: code === 127 || code === 126,
  };
};

/** One line describing a failed run, for log lines (`exit status 1: <stderr>`, as Go's exec prints). */
export function describeFailure(r: RunResult, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${timeoutMs}ms`;
  if (r.notFound) return `command not found${r.stderr ? `: ${r.stderr}` : ""}`;
  const head = r.code === null ? "killed" : `exit status ${r.code}`;
  return r.stderr ? `${head}: ${firstLine(r.stderr)}` : head;
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
