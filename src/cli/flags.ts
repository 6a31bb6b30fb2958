/**
 * Strict flags. citty's parser is lax (node's parseArgs with strict: false): it accepts any flag, gives a
 * boolean flag "--json=yes" as true and a string flag without its value as "". A typo like --forground
 * must be refused, not ignored, so each command's raw arguments are checked here first.
 *
 * The check reads the tokens of node's own parseArgs, the parser citty uses, so short flags cluster and
 * take attached values the same way in both (-n1, -fn1, -n 1, --lines=1); once the check passes, citty's
 * values are the right ones. strict: false here, and the checks below, so the messages are ours.
 */
import type { ArgDef, ArgsDef, CittyPlugin } from "citty";
import { parseArgs } from "node:util";
import { GtdError } from "../errors.ts";

export interface FlagProblem {
  message: string;
  hint: string;
  /** The command line has a wrong word (not a wrong value): show the command's usage line too. */
  usage: boolean;
}

type Option = { type: "string" | "boolean"; short?: string };

/** What a missing value should have been, by the flag's valueHint: the noun and an example. */
const VALUE_KINDS: Record<string, [noun: string, example: string]> = {
  DIR: ["a directory", "~/gt"],
  N: ["a number", "100"],
  SPEC: ["a duration or cron pattern", "30s"],
  DURATION: ["a duration", "30s"],
  ID: ["an agent", "gastown-witness"],
};

const aliasesOf = (def: ArgDef): string[] => ("alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : []);

/** node's options for these args, and each flag's valueHint (long aliases included). */
function optionsOf(argsDef: ArgsDef): { options: Record<string, Option>; hints: Map<string, string | undefined> } {
  // Null prototypes: a flag named --constructor is unknown, not Object's.
  const options: Record<string, Option> = Object.create(null);
  const hints = new Map<string, string | undefined>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const type = def.type === "boolean" ? "boolean" : "string";
    const aliases = aliasesOf(def);
    const short = aliases.find((a) => a.length === 1);
    options[name] = short ? { type, short } : { type };
    hints.set(name, def.valueHint);
    for (const long of aliases.filter((a) => a.length > 1)) {
      options[long] = { type };
      hints.set(long, def.valueHint);
    }
  }
  return { options, hints };
}

/** --help and -h: every command has them (citty's names); asking for help wins over any mistake. */
const HELP_FLAGS = { help: { type: "boolean", short: "h" } } as const;

/**
 * The first thing wrong with `rawArgs` for a command with these args, or null. `routes`: the command has
 * subcommands, so its own part ends at the first word (the subcommand's name, checked by the subcommand).
 */
export function flagProblem(argsDef: ArgsDef, rawArgs: string[], command: string, routes = false): FlagProblem | null {
  const { options, hints } = optionsOf(argsDef);
  const positionals = Object.entries(argsDef).filter(([, d]) => d.type === "positional");
  const required = positionals.filter(([, d]) => d.required !== false && d.default === undefined);
  const see = `see ${command} --help`;
  const { tokens } = parseArgs({ args: rawArgs, options: { ...HELP_FLAGS, ...options }, strict: false, allowPositionals: true, tokens: true });
  const own = routes ? tokens.slice(0, ends(tokens)) : tokens;
  if (own.some((t) => t.kind === "option" && t.name === "help")) return null;
  let words = 0;
  for (const t of own) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") {
      if (++words > positionals.length) return { message: `unexpected argument ${JSON.stringify(t.value)} for ${command}`, hint: see, usage: true };
      continue;
    }
    const option = options[t.name];
    if (!option) {
      // --no-<flag> turns a boolean off (citty reads it so); for any other flag it means nothing.
      const negated = t.name.startsWith("no-") ? options[t.name.slice(3)] : undefined;
      if (negated?.type === "boolean" && t.value === undefined) continue;
      return { message: `unknown option ${t.rawName} for ${command}`, hint: see, usage: true };
    }
    if (option.type === "boolean" && t.value !== undefined) {
      return { message: `${t.rawName} takes no value, got ${JSON.stringify(t.value)}`, hint: see, usage: false };
    }
    // A value that looks like a flag (--town --json) is the next flag, not the value: the value is missing.
    // Attached (--lines=-1), it is what the user wrote.
    if (option.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.length > 1 && t.value.startsWith("-")))) {
      const [noun, example] = VALUE_KINDS[hints.get(t.name) ?? ""] ?? ["a value", "..."];
      return { message: `${t.rawName} needs ${noun}`, hint: `e.g. ${t.rawName} ${example}`, usage: false };
    }
  }
  const missing = required[words]?.[0];
  if (!routes && missing) return { message: `missing ${missing.toUpperCase()} for ${command}`, hint: see, usage: true };
  return null;
}

/** Where a routing command's own part ends: at the subcommand's name, or at "--". */
function ends(tokens: { kind: string }[]): number {
  const at = tokens.findIndex((t) => t.kind !== "option");
  return at === -1 ? tokens.length : at;
}

/** Errors about the shape of the command line, with the usage line main prints after them. */
const usageLines = new WeakMap<object, string>();
export const usageLineFor = (err: unknown): string | undefined => (typeof err === "object" && err !== null ? usageLines.get(err) : undefined);

/**
 * The check as a citty plugin: citty runs a command's plugins after routing to it and before its run, so
 * every command, gtd itself included, refuses a bad command line before doing anything. `argsDef`: the
 * command's own args (the routed copy citty parses with has its positionals relaxed, see commands.ts);
 * `usage`: its usage line.
 */
export function strictFlags(command: string, argsDef: ArgsDef, usage: () => Promise<string>, routes = false): CittyPlugin {
  return {
    name: "strict-flags",
    async setup({ rawArgs }) {
      const problem = flagProblem(argsDef, rawArgs, command, routes);
      if (!problem) return;
      const err = new GtdError("USAGE", problem.message, problem.hint);
      if (problem.usage) usageLines.set(err, await usage());
      throw err;
    },
  };
}
