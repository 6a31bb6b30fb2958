import { defineCommand, type ArgsDef } from "citty";
import { knownAgents } from "../agents/known.ts";
import { bashScript, fishScript, zshScript, type CommandSpec } from "../completion/scripts.ts";
import { GtdError } from "../errors.ts";
import { out, townArg, townFromArgs } from "./args.ts";
import { COMMANDS } from "./commands.ts";
import { operatorFor } from "./supervise-args.ts";
import { writeOut } from "../output.ts";

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** First-positional words per command; the rest take none or free text. */
const POSITIONAL: Record<string, CommandSpec["positional"]> = {
  request: ["cycle", "restart", "shutdown"],
  service: ["print", "install", "uninstall"],
  completion: Object.keys(SHELLS),
  pause: "supervised",
  resume: "supervised",
  restart: "supervised",
  reset: "supervised",
};

export default defineCommand({
  meta: { name: "completion", description: "Print a shell completion script: bash, zsh or fish" },
  args: {
    ...townArg,
    shell: { type: "positional", required: false, description: "bash, zsh or fish" },
    agents: { type: "boolean", description: "List the town's agents, one per line (what the scripts call)" },
    supervised: { type: "boolean", description: "List the agents gtd supervises (deacon and supervise.agents), one per line" },
  },
  async run({ args }) {
    if (args.agents || args.supervised) {
      // Completion must never print an error into the user's prompt: no town (or a bad config), no agents.
      let agents: string[] = [];
      try {
        agents = args.supervised ? (await operatorFor(args)).known.slice() : knownAgents(townFromArgs(args).root);
      } catch {}
      for (const a of agents) out(a);
      return 0;
    }
    const shell = args.shell as keyof typeof SHELLS | undefined;
    if (!shell || !(shell in SHELLS)) throw new GtdError("USAGE", `which shell? ${JSON.stringify(args.shell ?? "")}`, "gtd completion bash|zsh|fish");
    writeOut(SHELLS[shell](await commandSpecs()));
    return 0;
  },
});

async function commandSpecs(): Promise<CommandSpec[]> {
  const specs: CommandSpec[] = [];
  for (const [name, loader] of Object.entries(COMMANDS)) {
    const cmd = await loader();
    const meta = (typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta) ?? {};
    const argDefs = ((typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {}) as ArgsDef;
    const flags = Object.entries(argDefs)
      .filter(([, d]) => d.type !== "positional")
      .map(([flag, d]) => ({
        name: flag,
        alias: "alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias : [d.alias]) : [],
        description: d.description ?? "",
        takesValue: d.type === "string",
      }));
    specs.push({ name, description: meta.description ?? "", flags, positional: POSITIONAL[name] ?? null });
  }
  return specs;
}
