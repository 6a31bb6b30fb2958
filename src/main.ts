#!/usr/bin/env bun
/**
 * gtd's entry point. citty routes: runCommand(main) finds the command (loaded lazily, so status, signal
 * and stop stay fast: croner and the daemon load only where needed), which refuses a bad command line,
 * answers --help or runs (cli/commands.ts). Here, what citty's runMain would add, in gtd's terms (runMain
 * exits 1 on every error and prints stack traces): --version, usage for a bare `gtd`, one error line,
 * exit codes 0 ok, 1 error, 2 usage, 3 not running.
 */
// First, before anything else loads: in the daemon, signals during start-up are remembered, not fatal.
import "./early-signals.ts";
import { defineCommand, runCommand, type ArgsDef, type CommandDef } from "citty";
import { EXIT, GtdError } from "./errors.ts";
import { COMMANDS, subCommands } from "./cli/commands.ts";
import { helpText, stripAnsi, usageLine } from "./cli/examples.ts";
import { strictFlags, usageLineFor } from "./cli/flags.ts";
import { writeErr, writeOut } from "./output.ts";
import pkg from "../package.json" with { type: "json" };

/** The commit, stamped by `bun build --define` (scripts/build.ts, release.ts); undefined when run from source. */
declare const GTD_COMMIT: string | undefined;
const VERSION = typeof GTD_COMMIT === "string" ? `${pkg.version} (${GTD_COMMIT})` : pkg.version;

/** The routed command's exit code (citty's runCommand returns only gtd's own). */
let result: unknown;
const main: CommandDef<ArgsDef> = defineCommand({
  meta: { name: "gtd", version: pkg.version, description: "The Gas Town daemon: keeps the Deacon alive, nudges quiet agents, carries out lifecycle requests" },
  plugins: [strictFlags("gtd", {}, () => usageLine(main), true)],
  subCommands: () => subCommands(main, (r) => (result = r)),
});

const isHelp = (a: string | undefined) => a === "--help" || a === "-h";

async function entry(argv: string[]): Promise<number> {
  // `gtd help [command]` and `gtd --help <command>` are `gtd <command> --help`.
  if (argv[0] === "help" || (isHelp(argv[0]) && argv.length > 1)) argv = [...argv.slice(1), "--help"];
  // citty's rule (runMain): --version alone. Ours, not meta.version: it carries the commit.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    writeOut(`${VERSION}\n`);
    return EXIT.ok;
  }
  try {
    await runCommand(main, { rawArgs: argv });
  } catch (err) {
    const code = err instanceof Error && err.name === "CLIError" ? (err as Error & { code?: string }).code : undefined;
    // No command: `gtd` (a usage error, as the original) or `gtd --help`.
    if (code === "E_NO_COMMAND") {
      writeOut(`${await helpText(main)}\n`);
      return argv.some(isHelp) ? EXIT.ok : EXIT.usage;
    }
    if (code === "E_UNKNOWN_COMMAND") {
      // gtd takes no flags of its own (strictFlags refused any), so the first word is the name.
      const name = argv.find((a) => !a.startsWith("-"));
      throw new GtdError("USAGE", `unknown command "${name}"`, `commands: ${Object.keys(COMMANDS).join(", ")}`);
    }
    throw err;
  }
  return typeof result === "number" ? result : EXIT.ok;
}

try {
  process.exitCode = await entry(process.argv.slice(2));
} catch (err) {
  if (err instanceof GtdError) {
    writeErr(`${err.oneLine()}\n`);
    // A wrong word on the command line (unknown option, missing argument): show what the command takes.
    const usage = usageLineFor(err);
    if (usage) writeErr(`${usage}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof Error && err.name === "CLIError") {
    writeErr(`gtd: ${stripAnsi(err.message)} (see gtd --help)\n`);
    process.exitCode = EXIT.usage;
  } else if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && (err as NodeJS.ErrnoException).path) {
    // A filesystem refusal (EACCES, EROFS, ENOSPC...): name the file, it is what the user can fix.
    const e = err as NodeJS.ErrnoException;
    writeErr(`gtd: ${e.syscall ?? "access"} ${e.path}: ${e.code} (check the path's permissions and free space)\n`);
    process.exitCode = EXIT.error;
  } else {
    // Never a stack trace on the user's terminal; the message is enough to report.
    writeErr(`gtd: unexpected error: ${err instanceof Error ? err.message : String(err)} (please report it)\n`);
    process.exitCode = EXIT.error;
  }
}
// Long-running commands (start --foreground, logs -f) resolve only when they are done; then leave,
// even if a library left a timer behind.
process.exit(process.exitCode ?? 0);
