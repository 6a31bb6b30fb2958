/**
 * Every tmux call gtd makes. Facts about tmux 3.3a this file relies on (each checked against a real server):
 * - `-t name` falls back to prefix matching (`gt-deacon` finds `gt-deacon-old`), so every target is exact:
 *   `=name` for session targets (has-session, kill-session) and `=name:` for pane targets (send-keys,
 *   set-option). set-option's -t is a *pane* target: `-t =name` is looked up as a pane and fails with
 *   "no such session: =name" even when the session exists, while `-t name` prefix-matches.
 * - tmux splits a command-line sequence at every argument that *ends* with `;` (not only a lone ";"), and
 *   turns a trailing `\;` into `;`. Every data argument therefore goes through `arg()`.
 * - `new-session -s` and `-c` are format-expanded: `#{...}` is substituted and `#(cmd)` runs a shell
 *   command. `#` is doubled in both. Targets, `-e`, the pane argv, set-option values and send-keys text
 *   are not expanded.
 * - `new-session` accepts `--` before the pane's argv. With two or more argv elements tmux execvp()s them
 *   directly; with exactly one it hands the string to `$SHELL -c`, so `paneArgv()` wraps a single element.
 * - A failing command ends the sequence: after "duplicate session" the chained set-options do not run.
 * - tmux rewrites some session names (see REWRITTEN); they never contain a raw tab or newline.
 * - `list-panes -s -t` takes a *window* target: `-t =name` falls back to another session's window, so
 *   it is `-t =name:` (as send-keys).
 * - `respawn-pane -k` runs the pane's own argv again, in its directory and with the session's environment
 *   (new-session -e puts the values there too); the pane keeps its id, other panes are untouched.
 * - window_activity (seconds) moves with any output in the window, the tty's echo of typed keys included;
 *   client_activity moves with a client's key presses only, not with output or send-keys.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { errorText, GtdError } from "./errors.ts";
import type { NewSessionSpec, TmuxOutcome, TmuxPort } from "./ports.ts";
import { describeFailure, runCommand, type RunResult, type Runner } from "./proc.ts";
import { agentPane, CLIENT_FORMAT, newMarker, PANE_FORMAT, parseListing, parseSessions } from "./tmux-parse.ts";
import { VERIFY_DEFAULTS, verifiedPoke, type VerifyTiming } from "./tmux-verify.ts";

export type TmuxErrorKind = "no-server" | "no-session" | "duplicate" | "other";

export class TmuxError extends GtdError {
  readonly kind: TmuxErrorKind;
  constructor(kind: TmuxErrorKind, message: string, hint?: string) {
    super("TMUX", message, hint);
    this.name = "TmuxError";
    this.kind = kind;
  }
}

/**
 * The original's mapping (reference §6), plus what it missed: "can't find pane/window" (a name with `.`
 * or `:`), "no such session" (set-option's pane target), "no current target", which tmux reports for
 * any target while the server has no session at all (every call here names a target), and "server
 * exited unexpectedly", which a call gets while a killed server is still shutting down (about half the
 * calls right after `kill-server` returns, on tmux 3.3a).
 */
export function classifyTmuxStderr(stderr: string): TmuxErrorKind {
  if (/no server running|error connecting to|server exited unexpectedly/.test(stderr)) return "no-server";
  if (stderr.includes("duplicate session")) return "duplicate";
  if (/session not found|can't find (session|pane|window)|no such session|no current target/.test(stderr)) {
    return "no-session";
  }
  return "other";
}

export interface TmuxOptions {
  /** `-L socket`; null = the default server (TMUX_TMPDIR and $TMUX decide, as in the original). */
  socket: string | null;
  timeoutMs: number;
  run?: Runner;
  /**
   * Merged over process.env for every tmux client call (RunOptions.env). Tests use it to point at a
   * private server (TMUX_TMPDIR, TMUX unset) without mutating the test process's own environment.
   */
  env?: Record<string, string | undefined>;
  /**
   * Pause between typing the text and pressing Enter. Claude Code treats an Enter that arrives in the
   * same input burst as the text as part of a paste (a newline, not a submit); the original waits 100 ms.
   * With 0 the text and Enter go in one tmux call.
   */
  enterDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** pokeVerified's pauses (see VERIFY_DEFAULTS); tests on a loaded machine give the live cases longer. */
  verify?: Partial<Omit<VerifyTiming, "enterDelayMs">>;
}

/**
 * C0/C1 control characters (newline included) in typed text become spaces: `send-keys -l` would send a
 * newline as a key press and submit half a message early, and ESC or ^C would act as commands.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One tmux argument carrying data: a trailing `;` would end the command, so it is sent as `\;`. */
function arg(s: string): string {
  return s.endsWith(";") ? `${s.slice(0, -1)}\\;` : s;
}

/** For the format-expanded flags (-s, -c): `##` is a literal `#`, so `#{..}` and `#(..)` stay text. */
function literalFormat(s: string): string {
  return s.replaceAll("#", "##");
}

/** A single argv element would be run by `$SHELL -c`; `exec "$@"` runs it as one word with no parsing. */
function paneArgv(argv: string[]): string[] {
  if (argv.length === 1) return ["sh", "-c", 'exec "$@"', "sh", argv[0] as string];
  return argv;
}

/** Joins commands into one tmux invocation, ";" as its own element, every data argument escaped. */
function sequence(commands: string[][]): string[] {
  return commands.flatMap((cmd, i) => [...(i > 0 ? [";"] : []), ...cmd.map(arg)]);
}

/** A pane target from the session list: `%` and digits, nothing tmux could read as another target. */
const PANE_ID = /^%\d+$/;

/** A screen of 1000×250 cells of 4-byte characters: far more than any pane, bounded all the same. */
const CAPTURE_CAP_BYTES = 1024 * 1024;

export function createTmux(opts: TmuxOptions): TmuxPort {
  const run = opts.run ?? runCommand;
  const enterDelayMs = opts.enterDelayMs ?? 100;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const prefix = ["tmux", ...(opts.socket ? ["-L", opts.socket] : [])];

  async function tmux(args: string[], stdoutCapBytes?: number): Promise<RunResult> {
    return run([...prefix, ...args], {
      timeoutMs: opts.timeoutMs,
      ...(opts.env ? { env: opts.env } : {}),
      ...(stdoutCapBytes ? { stdoutCapBytes } : {}),
    });
  }

  function failure(sub: string, r: RunResult): TmuxError {
    if (r.timedOut) {
      return new TmuxError("other", `tmux ${sub}: timed out after ${opts.timeoutMs}ms`, "the tmux server may be hung");
    }
    if (r.notFound) return new TmuxError("other", `tmux ${sub}: ${describeFailure(r, opts.timeoutMs)}`, "is tmux installed?");
    // A flooded stream is cut and untrusted: its first line must not be read as tmux's answer.
    if (r.outputExceeded) return new TmuxError("other", `tmux ${sub}: ${describeFailure(r, opts.timeoutMs)}`);
    const first = r.stderr.split("\n")[0] ?? "";
    return new TmuxError(classifyTmuxStderr(r.stderr), `tmux ${sub}: ${first || describeFailure(r, opts.timeoutMs)}`);
  }

  /** Runs and returns stdout; throws on failure. */
  async function output(sub: string, args: string[], stdoutCapBytes?: number): Promise<string> {
    const r = await tmux(args, stdoutCapBytes);
    if (r.code === 0) return r.stdout;
    throw failure(sub, r);
  }

  /** A write as data (TmuxOutcome), for the core to decide on. */
  async function outcome(write: () => Promise<unknown>): Promise<TmuxOutcome> {
    try {
      await write();
      return { ok: true };
    } catch (err) {
      const kind = err instanceof TmuxError && err.kind !== "other" ? err.kind : "failed";
      return { ok: false, kind, error: errorText(err) };
    }
  }

  /** Runs and throws on failure; `tolerate` lists the kinds that mean "nothing to do" (returns false). */
  async function call(sub: string, args: string[], tolerate: TmuxErrorKind[] = []): Promise<boolean> {
    const r = await tmux(args);
    if (r.code === 0) return true;
    const err = failure(sub, r);
    if (tolerate.includes(err.kind)) return false;
    throw err;
  }

  /** Types `text` (controls flattened), optionally after C-u, then Enter after the debounce pause. */
  async function type(sub: string, name: string, text: string, clear: boolean): Promise<void> {
    const target = `=${name}:`;
    const clean = text.replace(CONTROL, " ");
    const commands = [
      ...(clear ? [["send-keys", "-t", target, "C-u"]] : []),
      ["send-keys", "-t", target, "-l", "--", clean],
    ];
    const enter = ["send-keys", "-t", target, "Enter"];
    if (enterDelayMs <= 0) {
      await call(sub, sequence([...commands, enter]));
      return;
    }
    await call(sub, sequence(commands));
    await sleep(enterDelayMs);
    await call(sub, sequence([enter]));
  }

  return {
    async sessions() {
      const marker = newMarker();
      const r = await tmux(["list-panes", "-a", "-F", `${marker}\t${PANE_FORMAT}`]);
      if (r.code === 0) return parseSessions(r.stdout, marker);
      const err = failure("list-panes", r);
      // A server with no session at all answers `list-panes -a` with "no current target".
      if (err.kind === "no-server" || err.kind === "no-session") return new Map();
      throw err;
    },

    async hasSession(name) {
      return call("has-session", sequence([["has-session", "-t", `=${name}`]]), ["no-server", "no-session"]);
    },

    newSession: (spec: NewSessionSpec) => outcome(() => createSession(spec)),

    async killSession(name) {
      await call("kill-session", sequence([["kill-session", "-t", `=${name}`]]), ["no-server", "no-session"]);
    },

    poke: (name, text) => type("send-keys", name, text, true),
    sendLine: (name, text) => type("send-keys", name, text, false),

    async sessionsAndClients() {
      const panes = newMarker();
      const clients = newMarker();
      const r = await tmux(
        sequence([
          ["list-panes", "-a", "-F", `${panes}\t${PANE_FORMAT}`],
          ["list-clients", "-F", `${clients}\t${CLIENT_FORMAT}`],
        ]),
      );
      if (r.code === 0) return parseListing(r.stdout, panes, clients);
      const err = failure("list-panes", r);
      // No server, or a server without sessions (list-panes stops the sequence): no clients either.
      if (err.kind === "no-server" || err.kind === "no-session") return { sessions: new Map(), clients: [] };
      throw err;
    },

    respawnPane: (paneId) =>
      outcome(async () => {
        if (!PANE_ID.test(paneId)) throw new TmuxError("other", `invalid tmux pane id ${JSON.stringify(paneId)}`, "expected % and digits, as list-panes gives");
        await call("respawn-pane", sequence([["respawn-pane", "-k", "-t", paneId]]));
      }),

    pokeVerified: (name, text) =>
      verifiedPoke({
        async pane() {
          const out = await output("list-panes", sequence([["list-panes", "-s", "-t", `=${name}:`, "-F", "#{pane_id}\t#{pane_in_mode}\t#{pane_dead}"]]));
          const pane = agentPane(out);
          if (!pane) throw new TmuxError("no-session", `tmux list-panes: no pane in session ${name}`);
          return pane;
        },
        exec: (commands) => output("send-keys", sequence(commands), CAPTURE_CAP_BYTES),
        sleep,
      }, text.replace(CONTROL, " "), { ...VERIFY_DEFAULTS, ...opts.verify, enterDelayMs }),
  };

  async function createSession(spec: NewSessionSpec): Promise<void> {
    checkName(spec.name);
    const cwd = resolve(spec.cwd);
    // tmux silently starts in another directory when -c does not exist: refuse before calling it.
    const isDir = await stat(cwd).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      throw new GtdError("TMUX", `cannot start session ${spec.name}: directory ${cwd} does not exist`, "create it or fix the configured path");
    }
    const envFlags = Object.entries(spec.env).flatMap(([k, v]) => {
      if (k === "" || k.includes("=") || k.includes("\0")) {
        throw new GtdError("TMUX", `cannot start session ${spec.name}: invalid environment variable name ${JSON.stringify(k)}`);
      }
      return ["-e", `${k}=${v}`];
    });
    const create = ["new-session", "-d", "-s", literalFormat(spec.name), "-c", literalFormat(cwd), ...envFlags];
    create.push("--", ...paneArgv(spec.argv));
    const options = (spec.options ?? []).map(([k, v]) => ["set-option", "-t", `=${spec.name}:`, "--", k, v]);
    await call("new-session", sequence([create, ...options]));
  }
}

/** What tmux 3.3a changes in a new session's name: `.` `:` → `_`; `\`, `$a` `$_` `${`, controls escaped. */
const REWRITTEN = /[.:\\\u0000-\u001f\u007f-\u009f]|\$[A-Za-z_{]/;

/** A session created under a name tmux rewrites could never be found again by that exact name: refuse it. */
function checkName(name: string): void {
  if (name === "" || REWRITTEN.test(name)) {
    throw new TmuxError("other", `invalid tmux session name ${JSON.stringify(name)}`, "tmux would rename it; use letters, digits, - and _");
  }
}
