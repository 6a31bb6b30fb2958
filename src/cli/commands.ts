/**
 * Every command, loaded lazily (each is its own chunk of the binary, see --splitting in release.ts):
 * status, signal and stop stay fast because croner and the heartbeat's code load only where a command
 * needs them. citty routes to these (subCommands below); `gtd completion` reads each command's flags
 * from COMMANDS.
 */
import type { ArgsDef, CommandDef, SubCommandsDef } from "citty";
import { helpText, usageLine } from "./examples.ts";
import { strictFlags } from "./flags.ts";
import { writeOut } from "../output.ts";

type Loader = () => Promise<CommandDef<ArgsDef>>;
const load = (p: Promise<{ default: unknown }>) => p.then((m) => m.default as CommandDef<ArgsDef>);

export const COMMANDS: Record<string, Loader> = {
  start: () => load(import("./start.ts")),
  stop: () => load(import("./stop.ts")),
  status: () => load(import("./status.ts")),
  logs: () => load(import("./logs.ts")),
  signal: () => load(import("./signal.ts")),
  request: () => load(import("./request.ts")),
  pause: () => load(import("./pause.ts")),
  resume: () => load(import("./resume.ts")),
  restart: () => load(import("./restart.ts")),
  reset: () => load(import("./reset.ts")),
  tick: () => load(import("./tick.ts")),
  config: () => load(import("./config.ts")),
  demo: () => load(import("./demo.ts")),
  service: () => load(import("./service.ts")),
  completion: () => load(import("./completion.ts")),
};

/**
 * COMMANDS as citty's subcommands of `parent`: still functions, which citty calls only for the command it
 * routes to. Each routed command
 * - refuses a bad command line (strictFlags, a plugin citty runs before the command's run);
 * - answers --help/-h with its usage and Examples. citty's own --help lives in runMain, which we cannot
 *   use (it exits 1 on any error and prints stack traces; resolveSubCommand, its way to the command, is
 *   not exported in 0.2). citty's parser throws for a missing positional before any plugin runs, so
 *   citty parses with positionals relaxed, and strictFlags, which knows the real ones, refuses a missing
 *   one unless help was asked for;
 * - hands its exit code to `onResult`: citty's runCommand returns the top command's result only.
 * A null prototype, because citty looks a name up with `in`: `gtd constructor` must be an unknown
 * command, not Object's.
 */
export function subCommands(parent: CommandDef<ArgsDef>, onResult: (result: unknown) => void): SubCommandsDef {
  const subs: SubCommandsDef = Object.create(null);
  for (const [name, loader] of Object.entries(COMMANDS)) {
    subs[name] = async (): Promise<CommandDef<ArgsDef>> => {
      const cmd = await loader();
      const args = ((typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {}) as ArgsDef;
      const relaxed = Object.fromEntries(Object.entries(args).map(([k, d]) => [k, d.type === "positional" ? { ...d, required: false } : d]));
      const run = cmd.run;
      return {
        ...cmd,
        args: { ...relaxed, help: { type: "boolean", alias: "h" } },
        plugins: [...(cmd.plugins ?? []), strictFlags(`gtd ${name}`, args, () => usageLine(cmd, parent))],
        async run(ctx) {
          if (ctx.args.help) {
            writeOut(`${await helpText(cmd, parent)}\n`);
            return onResult(0);
          }
          onResult(await run?.(ctx));
        },
      };
    };
  }
  return subs;
}
