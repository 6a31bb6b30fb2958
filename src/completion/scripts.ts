/**
 * Shell completion scripts for bash, zsh and fish, generated from the commands' own flag definitions so
 * they never drift. Values that depend on the town (agent names) are asked of gtd at completion time
 * (`gtd completion --agents`), so a new rig or crew member completes without regenerating anything.
 */
export interface FlagSpec {
  name: string;
  alias: string[];
  description: string;
  /** Takes a value (`--town DIR`), as opposed to a switch. */
  takesValue: boolean;
}

export interface CommandSpec {
  name: string;
  description: string;
  flags: FlagSpec[];
  /**
   * Words the first positional argument can be; "agents" means the town's agent identities, "supervised"
   * the agents gtd supervises (the Deacon and supervise.agents): each asked of gtd at completion time.
   */
  positional: readonly string[] | AgentList | null;
}

export type AgentList = "agents" | "supervised";
const isList = (p: CommandSpec["positional"]): p is AgentList => p === "agents" || p === "supervised";
/** The command that prints the list, one per line, quietly. */
const listCommand = (kind: AgentList) => `gtd completion --${kind} 2>/dev/null`;

/** Flags whose value is an agent identity or a directory: completed as such in every shell. */
const AGENT_FLAGS = new Set(["as"]);
const DIR_FLAGS = new Set(["town"]);

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(cmds: CommandSpec[]): string {
  const cases = cmds.map((c) => {
    const flags = c.flags.flatMap((f) => [`--${f.name}`, ...f.alias.map((a) => (a.length === 1 ? `-${a}` : `--${a}`))]);
    const words = isList(c.positional) ? `$(${listCommand(c.positional)})` : (c.positional ?? []).join(" ");
    return `    ${c.name}) flags=${shellWord(`${flags.join(" ")} --help`)}; words="${words}" ;;`;
  });
  return `# gtd completion for bash: source <(gtd completion bash)
_gtd() {
  local cur prev cmd flags words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${shellWord(cmds.map((c) => c.name).join(" "))} -- "$cur") )
    return
  fi
  case "$prev" in
    ${[...DIR_FLAGS].map((f) => `--${f}`).join("|")}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
    ${[...AGENT_FLAGS].map((f) => `--${f}`).join("|")}) COMPREPLY=( $(compgen -W "$(gtd completion --agents 2>/dev/null)" -- "$cur") ); return ;;
  esac
  case "$cmd" in
${cases.join("\n")}
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  fi
}
complete -F _gtd gtd
`;
}

const zshText = (s: string) => s.replace(/[\\'[\]:]/g, (c) => (c === "'" ? "'\\''" : `\\${c}`));

export function zshScript(cmds: CommandSpec[]): string {
  const list = cmds.map((c) => `    '${zshText(c.name)}:${zshText(c.description)}'`).join("\n");
  const cases = cmds.map((c) => {
    const specs = c.flags.map((f) => {
      const value = DIR_FLAGS.has(f.name) ? ":dir:_directories" : AGENT_FLAGS.has(f.name) ? ":agent:_gtd_agents" : f.takesValue ? ":value:" : "";
      return `'--${f.name}[${zshText(f.description)}]${value}'`;
    });
    const pos = isList(c.positional) ? `'1:agent:_gtd_${c.positional}'` : c.positional ? `'1:${c.name}:(${c.positional.join(" ")})'` : "";
    return `    ${c.name}) _arguments ${[...specs, pos].filter(Boolean).join(" ")} ;;`;
  });
  return `#compdef gtd
# gtd completion for zsh: source <(gtd completion zsh)
_gtd_agents() { local -a agents; agents=(\${(f)"$(gtd completion --agents 2>/dev/null)"}); _describe agent agents; }
_gtd_supervised() { local -a agents; agents=(\${(f)"$(gtd completion --supervised 2>/dev/null)"}); _describe agent agents; }
_gtd() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then _describe command commands; return; fi
  local cmd=$words[2]
  shift words; (( CURRENT-- ))
  case $cmd in
${cases.join("\n")}
  esac
}
compdef _gtd gtd
`;
}

const fishText = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

export function fishScript(cmds: CommandSpec[]): string {
  const lines = ["# gtd completion for fish: gtd completion fish | source", "complete -c gtd -f"];
  for (const c of cmds) lines.push(`complete -c gtd -n __fish_use_subcommand -a ${c.name} -d ${fishText(c.description)}`);
  for (const c of cmds) {
    const when = `'__fish_seen_subcommand_from ${c.name}'`;
    for (const f of c.flags) {
      const short = f.alias.filter((a) => a.length === 1).map((a) => ` -s ${a}`).join("");
      const value = DIR_FLAGS.has(f.name) ? " -r -F" : AGENT_FLAGS.has(f.name) ? " -x -a '(gtd completion --agents 2>/dev/null)'" : f.takesValue ? " -r" : "";
      lines.push(`complete -c gtd -n ${when} -l ${f.name}${short}${value} -d ${fishText(f.description)}`);
    }
    if (isList(c.positional)) lines.push(`complete -c gtd -n ${when} -a '(${listCommand(c.positional)})'`);
    else if (c.positional) lines.push(`complete -c gtd -n ${when} -a ${fishText(c.positional.join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}
