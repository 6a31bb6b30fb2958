/**
 * The in-pane loop of a supervised agent (the Deacon and supervise.agents): bash, about 3 MB, no Bun.
 * Everything it needs arrives as argv words, never as script text, so nothing from a config or a file is
 * ever parsed by a shell. It restarts the agent itself, with the crash delay (base, doubling up to max,
 * back to base after a stable run), waits while gtd's hold file exists (paused, held in a crash loop),
 * and leaves the run count and exit status where gtd reads them (`<runs> <status>`).
 */
import { join } from "node:path";

export const AGENT_LOOP = [
  'hold=$1 exit_file=$2 base=$3 max=$4 stable=$5 name=$6; shift 6; [ "$1" = "--" ] && shift',
  "delay=$base runs=0",
  "while true; do",
  '  while [ -e "$hold" ]; do sleep 2; done',
  '  echo "⛪ Starting $name..."',
  "  start=$SECONDS",
  '  "$@"; status=$?',
  "  runs=$((runs + 1))",
  "  printf '%s %s\\n' \"$runs\" \"$status\" > \"$exit_file\" 2>/dev/null",
  '  if [ $((SECONDS - start)) -ge "$stable" ]; then delay=$base; fi',
  '  echo ""; echo "$name exited (status $status). Restarting in ${delay}s... (Ctrl-C to stop)"',
  '  sleep "$delay"',
  '  if [ $((SECONDS - start)) -lt "$stable" ]; then delay=$((delay * 2)); [ "$delay" -gt "$max" ] && delay=$max; fi',
  "done",
].join("\n");

/** $0 of the loop shell: what `ps` shows for it. */
export const AGENT_LOOP_NAME = "gtd-agent";

export interface LoopTimes {
  baseMs: number;
  maxMs: number;
  /** A run this long counts as stable: the next crash starts from base again. */
  resetAfterMs: number;
}

export function superviseDir(daemonDir: string): string {
  return join(daemonDir, "supervise");
}

export const holdFile = (daemonDir: string, identity: string) => join(superviseDir(daemonDir), `${identity}.hold`);
export const exitFile = (daemonDir: string, identity: string) => join(superviseDir(daemonDir), `${identity}.exit`);

const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/** The pane's argv: the loop, its settings, then the agent command as separate words. */
export function loopArgv(daemonDir: string, identity: string, name: string, t: LoopTimes, command: readonly string[]): string[] {
  return [
    "bash",
    "-c",
    AGENT_LOOP,
    AGENT_LOOP_NAME,
    holdFile(daemonDir, identity),
    exitFile(daemonDir, identity),
    seconds(t.baseMs),
    seconds(t.maxMs),
    seconds(t.resetAfterMs),
    name,
    "--",
    ...command,
  ];
}
