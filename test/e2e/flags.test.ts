/**
 * Strict flags through dist/gtd: short flags cluster and take attached values (gtd logs -n1, -fn1), and a
 * command line with a wrong word (unknown flag, stray or missing argument) or a wrong value (a boolean
 * given one, a flag missing its own) is a usage error, exit 2, before the command does anything.
 */
import { expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { COMMANDS } from "../../src/cli/commands.ts";
import { spawnGtd, useGtdWorld } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();
const LINES = ["2026/11/30 10:00:00 one", "2026/11/30 10:00:01 two", "2026/11/30 10:00:02 three"];

function writeLog(): void {
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.logFile, `${LINES.join("\n")}\n`);
}

test("gtd logs -n1, -n 1, --lines=1 and --lines 1 all print the last line", async () => {
  writeLog();
  for (const args of [["-n1"], ["-n", "1"], ["--lines=1"], ["--lines", "1"], ["--json", "-n1"]]) {
    const r = await w().run(["logs", ...args]);
    expect({ args, ...r }).toEqual({ args, code: 0, stdout: args[0] === "--json" ? expect.stringContaining('"message":"three"') : `${LINES[2]}\n`, stderr: "" });
  }
  // Two lines, to see the number was read, not defaulted or taken as 1 by accident.
  expect((await w().run(["logs", "-n2"])).stdout).toBe(`${LINES.slice(1).join("\n")}\n`);
}, T);

test("gtd logs -fn1 prints the last line, then follows", async () => {
  writeLog();
  const { proc, stdout, stderr, exited } = spawnGtd(["logs", "-fn1"], { cwd: w().town, env: w().env });
  w().track(proc.pid);
  try {
    await waitFor(() => stdout() === `${LINES[2]}\n`, { what: "the last line" });
    appendFileSync(w().paths.logFile, "2026/11/30 10:00:03 four\n");
    await waitFor(() => stdout() === `${LINES[2]}\n2026/11/30 10:00:03 four\n`, { what: "the followed line" });
    expect(proc.exitCode).toBeNull();
  } finally {
    proc.kill("SIGTERM");
  }
  // Following ends cleanly on SIGTERM.
  expect(await exited).toBe(0);
  expect(stderr()).toBe("");
}, T);

test("an unknown flag is refused, naming it, then the command's usage line; exit 2 and nothing done", async () => {
  writeLog();
  for (const [cmd, flag, args] of [
    ["start", "--forground", ["start", "--forground"]],
    ["status", "--jsn", ["status", "--jsn"]],
    ["logs", "-x", ["logs", "-x"]],
    // In a cluster the unknown one is named; -f alone would follow forever, so this also shows nothing ran.
    ["logs", "-x", ["logs", "-fx"]],
    ["logs", "--follow-me", ["logs", "--follow-me", "-n1"]],
    ["logs", "--no-lines", ["logs", "--no-lines"]],
  ] as const) {
    const r = await w().run([...args], { timeoutMs: 10_000 });
    expect({ args, ...r }).toEqual({ args, code: 2, stdout: "", stderr: `gtd: unknown option ${flag} for gtd ${cmd} (see gtd ${cmd} --help)\nUSAGE gtd ${cmd} [OPTIONS]\n` });
  }
  expect(existsSync(w().paths.pidFile)).toBe(false);
  // gtd itself takes no flags.
  const top = await w().run(["-x"]);
  expect(top).toEqual({ code: 2, stdout: "", stderr: `gtd: unknown option -x for gtd (see gtd --help)\nUSAGE gtd ${Object.keys(COMMANDS).join("|")}\n` });
}, T);

test("--no-<flag> turns a boolean off, as citty reads it", async () => {
  writeLog();
  expect(await w().run(["logs", "--json", "--no-json", "-n1"])).toEqual({ code: 0, stdout: `${LINES[2]}\n`, stderr: "" });
}, T);

test("a boolean given a value, or a flag missing its value, is a one-line usage error", async () => {
  writeLog();
  const cases: [string[], string][] = [
    [["status", "--json=yes"], 'gtd: --json takes no value, got "yes" (see gtd status --help)'],
    [["logs", "-n"], "gtd: -n needs a number (e.g. -n 100)"],
    [["logs", "--lines"], "gtd: --lines needs a number (e.g. --lines 100)"],
    // -fn without a number would follow forever if -n were taken as "".
    [["logs", "-fn"], "gtd: -n needs a number (e.g. -n 100)"],
    // The next flag is not the value: --foreground stays a flag, and no daemon runs in the foreground.
    [["start", "--heartbeat", "--foreground"], "gtd: --heartbeat needs a duration or cron pattern (e.g. --heartbeat 30s)"],
    [["status", "--town"], "gtd: --town needs a directory (e.g. --town ~/gt)"],
  ];
  for (const [args, line] of cases) {
    const r = await w().run(args, { timeoutMs: 10_000 });
    expect({ args, ...r }).toEqual({ args, code: 2, stdout: "", stderr: `${line}\n` });
  }
  expect(existsSync(w().paths.pidFile)).toBe(false);
  // Attached, a value may start with a dash: it is the command that judges it.
  expect((await w().run(["logs", "--lines=-1"])).stderr).toBe('gtd: --lines: "-1" is not a whole number (e.g. gtd logs -n 100)\n');
}, T);

test("a stray argument, or a missing one, is refused with the usage line", async () => {
  expect(await w().run(["status", "now"])).toEqual({
    code: 2,
    stdout: "",
    stderr: 'gtd: unexpected argument "now" for gtd status (see gtd status --help)\nUSAGE gtd status [OPTIONS]\n',
  });
  expect(await w().run(["request"])).toEqual({
    code: 2,
    stdout: "",
    stderr: "gtd: missing ACTION for gtd request (see gtd request --help)\nUSAGE gtd request [OPTIONS] <ACTION>\n",
  });
  // After --, everything is an argument, even what looks like a flag.
  expect((await w().run(["status", "--", "--json"])).stderr).toStartWith('gtd: unexpected argument "--json" for gtd status');
}, T);

test("an unknown command is one line and exit 2, with or without --help", async () => {
  const line = `gtd: unknown command "strat" (commands: ${Object.keys(COMMANDS).join(", ")})\n`;
  for (const args of [["strat"], ["strat", "--help"], ["help", "strat"]]) {
    expect({ args, ...(await w().run(args)) }).toEqual({ args, code: 2, stdout: "", stderr: line });
  }
}, T);
