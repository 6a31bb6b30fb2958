/** --help text: citty's usage, then an Examples block of the commands people actually type. */
import { renderUsage, type ArgsDef, type CommandDef } from "citty";
import { stdoutIsTerminal } from "../output.ts";

export const EXAMPLES: Record<string, string[]> = {
  gtd: [
    "gtd demo                              # watch it work on a throwaway town",
    "gtd start                             # the daemon, in the background",
    "gtd status                            # running? (exit 0 / 3)",
    "gtd service install                   # as a systemd user service",
  ],
  start: ["gtd start", "gtd start --foreground                # under systemd or in a pane", 'gtd start --heartbeat 30s', 'gtd start --heartbeat "*/2 * * * *"'],
  stop: ["gtd stop", "gtd stop --timeout 30s"],
  status: ["gtd status", "gtd status --json | jq .running", "gtd status >/dev/null || echo not running"],
  logs: ["gtd logs", "gtd logs -n 200", "gtd logs -f", "gtd logs --json | jq -r .event"],
  signal: ["gtd signal                            # process lifecycle mail now"],
  request: ["gtd request cycle                     # inside a gtd-started session ($GT_IDENTITY)", "gtd request restart --as gastown-witness"],
  pause: ["gtd pause mayor", "gtd pause --all                       # every supervised agent, the Deacon too"],
  resume: ["gtd resume mayor", "gtd resume --all"],
  restart: ["gtd restart deacon", "gtd restart gastown-witness          # also ends a crash-loop hold"],
  reset: ["gtd reset gastown-witness            # crash-loop hold and restart delay cleared"],
  tick: ["gtd tick --dry-run", "gtd tick --dry-run --json"],
  config: ["gtd config", "gtd config --json", "GTD_HEARTBEAT=30s gtd config"],
  demo: ["gtd demo"],
  service: ["gtd service print", "gtd service install", "gtd service install --system --town /srv/gt", "gtd service uninstall"],
  completion: ["source <(gtd completion bash)          # in ~/.bashrc", "gtd completion zsh > ~/.zfunc/_gtd", "gtd completion fish > ~/.config/fish/completions/gtd.fish"],
};

export function examplesBlock(name: string): string {
  const lines = EXAMPLES[name];
  return lines?.length ? `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n` : "";
}

export const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, "");

/**
 * A command's --help: citty's usage, then our Examples. Plain when stdout is not a terminal (pipes,
 * scripts, tests): citty colours whenever NO_COLOR, TERM=dumb, TEST and CI are all unset.
 */
export async function helpText(cmd: CommandDef<ArgsDef>, parent?: CommandDef<ArgsDef>): Promise<string> {
  const meta = (typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta) ?? {};
  const text = `${(await renderUsage(cmd, parent)).trimEnd()}\n${examplesBlock(meta.name ?? "gtd")}`;
  return (await stdoutIsTerminal()) ? text : stripAnsi(text);
}

/** The USAGE line alone, plain: what follows an error about the shape of a command line. */
export async function usageLine(cmd: CommandDef<ArgsDef>, parent?: CommandDef<ArgsDef>): Promise<string> {
  const lines = stripAnsi(await renderUsage(cmd, parent)).split("\n");
  return (lines.find((l) => l.startsWith("USAGE ")) ?? "").trimEnd();
}
