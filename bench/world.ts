/**
 * A fake town for one daemon: its own tmux server (TMUX_TMPDIR in a temp dir, never the user's), a
 * Deacon session that exists and is fresh, N agent sessions (bench/town.ts), a fake `bd` and `claude`
 * first on PATH, and optionally a counting `tmux` shim.
 *
 * The fake bd forks nothing (bash builtins only), so what it costs is one bash start per call, the same
 * for both daemons. It stamps the start of every `mail inbox` with $EPOCHREALTIME (the SIGUSR1 figure)
 * and, when BENCH_CALLS is set, appends `bd <sub> <sub>` to that file (the subprocess count).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { supervision, type Supervision } from "./town.ts";

/** The agents' panes run the fake agent: alive, idle, no CPU, `claude` in /proc. */
const AGENT_COMMAND = "claude";

export interface World {
  root: string;
  town: string;
  /** Environment for the daemon and the commands: PATH with the fakes first, the private TMUX_TMPDIR. */
  env: Record<string, string>;
  /** Environment with the counting tmux shim first on PATH and BENCH_CALLS set. */
  countingEnv: Record<string, string>;
  callsFile: string;
  stampsFile: string;
  supervision: Supervision;
  tmux(...args: string[]): string;
  serverPid(): number;
  /** Rewrites every freshness file with the current time. */
  refresh(): void;
  /** Forgets the previous daemon (its state, pid, log) so the next one starts as on a new town. */
  resetDaemonDir(): void;
  cleanup(): void;
}

export interface Tools {
  bash: string;
  tmux: string;
}

/** What must be undone if the bench is interrupted: tmux servers, temp dirs, daemons. */
const live = new Set<() => void>();

export function onInterrupt(undo: () => void): () => void {
  live.add(undo);
  return () => live.delete(undo);
}

export function cleanupAll(): void {
  for (const undo of [...live].reverse()) {
    try {
      undo();
    } catch {
      // Best effort: the rest must still run.
    }
  }
  live.clear();
}

export function findTools(): Tools {
  const bash = Bun.which("bash");
  const tmux = Bun.which("tmux");
  if (!bash || !tmux) throw new Error(`bench needs bash and tmux on PATH (bash: ${bash}, tmux: ${tmux})`);
  return { bash, tmux };
}

function fakeBd(bash: string): string {
  return `#!${bash}
# bench fake bd: bash builtins only, so a call costs one bash start and nothing else.
if [[ \${1:-} == mail && \${2:-} == inbox && -n \${BENCH_BD_STAMPS:-} ]]; then printf '%s\\n' "$EPOCHREALTIME" >> "$BENCH_BD_STAMPS"; fi
if [[ -n \${BENCH_CALLS:-} ]]; then printf 'bd %s %s\\n' "\${1:-}" "\${2:-}" >> "$BENCH_CALLS"; fi
case "\${1:-} \${2:-}" in
  "mail inbox") printf '%s\\n' "\${BENCH_BD_INBOX:-[]}" ;;
  "mail send") printf '✓ Message sent to %s\\n' "\${3:-}" ;;
  close\\ *) printf '✓ Closed %s: Closed\\n' "\${2:-}" ;;
esac
exit 0
`;
}

function tmuxShim(bash: string, tmux: string): string {
  return `#!${bash}
printf 'tmux %s\\n' "\${1:-}" >> "$BENCH_CALLS"
exec ${JSON.stringify(tmux)} "$@"
`;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

export function createWorld(tools: Tools, agents: number | null): World {
  // Under the system tmpdir: a tmux socket path must stay under ~100 bytes.
  const root = mkdtempSync(join(tmpdir(), "gtd-bench-"));
  const town = join(root, "town");
  const bin = join(root, "bin");
  const shim = join(root, "shim");
  const tmuxTmpdir = join(root, "tmux");
  for (const d of [town, bin, shim, join(town, "mayor"), join(town, "deacon")]) mkdirSync(d, { recursive: true });
  mkdirSync(tmuxTmpdir, { mode: 0o700 });
  writeFileSync(join(town, "mayor", "town.json"), JSON.stringify({ type: "town", version: 1, name: "bench" }));
  writeExecutable(join(bin, "bd"), fakeBd(tools.bash));
  // The agent every session runs: argv[0] `claude`, so gtd's process check finds it; a sleep, so no CPU.
  writeExecutable(join(bin, "claude"), `#!${tools.bash}\nexec -a claude sleep 2147483647\n`);
  writeExecutable(join(shim, "tmux"), tmuxShim(tools.bash, tools.tmux));

  const callsFile = join(root, "calls");
  const stampsFile = join(root, "bd-stamps");
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // The bench's own environment must not configure gtd or point tmux at another server.
    if (v === undefined || k.startsWith("GTD_") || k === "TMUX" || k === "TMUX_PANE" || (k.startsWith("BENCH_") && k !== "BENCH_FLOOR_SPAWN")) continue;
    base[k] = v;
  }
  const sup = supervision(town, agents);
  const env = { ...base, ...sup.gtdEnv, TMUX_TMPDIR: tmuxTmpdir, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, BENCH_BD_STAMPS: stampsFile };
  const countingEnv = { ...env, PATH: `${shim}:${env.PATH}`, BENCH_CALLS: callsFile };

  const tmux = (...args: string[]): string => {
    const r = Bun.spawnSync([tools.tmux, ...args], { env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.slice(0, 3).join(" ")}: ${r.stderr.toString().trim()}`);
    return r.stdout.toString();
  };

  const freshFiles = [join(town, "deacon", "heartbeat.json"), ...sup.freshFiles];
  const refresh = () => {
    const text = JSON.stringify({ timestamp: new Date().toISOString() });
    for (const f of freshFiles) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, text);
    }
  };

  for (const d of sup.dirs) mkdirSync(d, { recursive: true });
  for (const f of sup.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.text);
  }
  refresh();
  // exit-empty off: the server outlives its sessions; a non-login bash keeps PATH (a login shell would
  // re-run /etc/profile). Every session in one tmux call: 100 of them start in well under a second.
  const sessions = [{ name: "gt-deacon", cwd: town }, ...sup.sessions];
  for (const s of sessions) mkdirSync(s.cwd, { recursive: true });
  tmux(
    "start-server", ";", "set-option", "-g", "exit-empty", "off", ";",
    "set-option", "-g", "default-command", "bash --noprofile --norc",
    ...sessions.flatMap((s) => [";", "new-session", "-d", "-s", s.name, "-c", s.cwd, AGENT_COMMAND]),
  );

  const kill = () => {
    try {
      tmux("kill-server");
    } catch {
      // Already gone.
    }
    rmSync(root, { recursive: true, force: true });
  };
  const forget = onInterrupt(kill);

  return {
    root,
    town,
    env,
    countingEnv,
    callsFile,
    stampsFile,
    supervision: sup,
    tmux,
    serverPid: () => Number(tmux("display-message", "-p", "#{pid}").trim()),
    refresh,
    resetDaemonDir: () => rmSync(join(town, "daemon"), { recursive: true, force: true }),
    cleanup() {
      forget();
      kill();
    },
  };
}

/** Lines appended to a file since `from` lines (the file may not exist yet). */
export function linesOf(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
