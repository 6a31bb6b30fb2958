#!/usr/bin/env bun
/**
 * gtd's entry point: citty wiring, lazy command loading (status/signal/stop stay fast because zx and
 * croner load only where needed), one error line, exit codes 0 ok, 1 error, 2 usage, 3 not running.
 */
// First, before anything else loads: in the daemon, signals during start-up are remembered, not fatal.
import "./early-signals.ts";
import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { EXIT, GtdError } from "./errors.ts";
import { COMMANDS } from "./cli/commands.ts";
import { examplesBlock } from "./cli/examples.ts";
import pkg from "../package.json" with { type: "json" };

/** The commit, stamped by `bun build --define` (scripts/build.ts, release.ts); undefined when run from source. */
declare const GTD_COMMIT: string | undefined;
const VERSION = typeof GTD_COMMIT === "string" ? `${pkg.version} (${GTD_COMMIT})` : pkg.version;

const main = defineCommand({
  meta: { name: "gtd", version: pkg.version, description: "The Gas Town daemon: keeps the Deacon alive, nudges quiet agents, carries out lifecycle requests" },
  subCommands: COMMANDS,
});

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");
/** Usage text, plain when stdout is not a terminal (pipes, scripts, tests). */
const usage = async (cmd: CommandDef<ArgsDef>, parent?: CommandDef<ArgsDef>, name = "gtd") => {
  const text = `${(await renderUsage(cmd, parent)).trimEnd()}\n${examplesBlock(name)}`;
  return process.stdout.isTTY ? text : stripAnsi(text);
};

/** citty accepts any flag; a typo like --forground must be a usage error, not silently ignored. */
function unknownFlag(rawArgs: string[], args: ArgsDef): string | null {
  const known = new Set<string>(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    const alias = "alias" in def ? def.alias : undefined;
    for (const a of Array.isArray(alias) ? alias : alias ? [alias] : []) known.add(a);
  }
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-") || raw === "-") continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!.replace(/^no-/, "");
    if (!known.has(name)) return raw;
  }
  return null;
}

async function entry(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${await usage(main)}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  // Own keys only: `gtd constructor` is an unknown command, not Object's.
  const loader = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!loader) throw new GtdError("USAGE", `unknown command "${name}"`, `commands: ${Object.keys(COMMANDS).join(", ")}`);
  const cmd = await loader();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${await usage(cmd, main, name)}\n`);
    return EXIT.ok;
  }
  const bad = unknownFlag(rest, (cmd.args ?? {}) as ArgsDef);
  if (bad) throw new GtdError("USAGE", `unknown option ${bad} for gtd ${name}`, `see gtd ${name} --help`);
  const { result } = await runCommand(cmd, { rawArgs: rest });
  return typeof result === "number" ? result : EXIT.ok;
}

try {
  process.exitCode = await entry(process.argv.slice(2));
} catch (err) {
  if (err instanceof GtdError) {
    process.stderr.write(`${err.oneLine()}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof Error && err.name === "CLIError") {
    process.stderr.write(`gtd: ${stripAnsi(err.message)} (see gtd --help)\n`);
    process.exitCode = EXIT.usage;
  } else if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && (err as NodeJS.ErrnoException).path) {
    // A filesystem refusal (EACCES, EROFS, ENOSPC...): name the file, it is what the user can fix.
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`gtd: ${e.syscall ?? "access"} ${e.path}: ${e.code} (check the path's permissions and free space)\n`);
    process.exitCode = EXIT.error;
  } else {
    // Never a stack trace on the user's terminal; the message is enough to report.
    process.stderr.write(`gtd: unexpected error: ${err instanceof Error ? err.message : String(err)} (please report it)\n`);
    process.exitCode = EXIT.error;
  }
}
// Long-running commands (start --foreground, logs -f) resolve only when they are done; then leave,
// even if a library left a timer behind.
process.exit(process.exitCode ?? 0);
