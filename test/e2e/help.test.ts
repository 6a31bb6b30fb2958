/**
 * --help and --version through dist/gtd: every command's --help ends with an Examples block of real
 * command lines, and each way of asking for help gives the same text.
 */
import { expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { COMMANDS } from "../../src/cli/commands.ts";
import { EXAMPLES } from "../../src/cli/examples.ts";
import { runGtd } from "../helpers/gtd-cli.ts";

test("every command has examples, and its --help ends with them", async () => {
  expect(Object.keys(EXAMPLES).sort()).toEqual(["gtd", ...Object.keys(COMMANDS)].sort());
  for (const name of ["", ...Object.keys(COMMANDS)]) {
    const r = await runGtd(name ? [name, "--help"] : ["--help"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    const at = lines.indexOf("Examples:");
    expect(at).toBeGreaterThan(0);
    const shown = lines.slice(at + 1).map((l) => l.trim());
    expect(shown).toEqual(EXAMPLES[name || "gtd"]!);
    for (const ex of shown) expect(ex).toMatch(/^(gtd |source <\(gtd |GTD_HEARTBEAT=30s gtd )/);
  }
}, 60_000);

/** What `gtd <name> --help` prints, for comparing the other ways of asking. */
const help = async (args: string[]) => {
  const r = await runGtd(args);
  return { args, code: r.code, stdout: r.stdout, stderr: r.stderr };
};

test("gtd --help, -h, gtd help and a bare gtd show the same usage; only the bare one is exit 2", async () => {
  const top = await help(["--help"]);
  expect(top.code).toBe(0);
  expect(top.stdout).toStartWith("The Gas Town daemon: keeps the Deacon alive");
  expect(top.stdout).toContain(`USAGE gtd ${Object.keys(COMMANDS).join("|")}\n`);
  expect(top.stdout).not.toMatch(/\u001b\[/); // plain when not a terminal
  for (const args of [["-h"], ["help"]]) expect(await help(args)).toEqual({ ...top, args });
  expect(await help([])).toEqual({ ...top, args: [], code: 2 });
}, 30_000);

test("a command's help: --help, -h, in a cluster, gtd help <command>, gtd --help <command>; help wins over a mistake", async () => {
  const logs = await help(["logs", "--help"]);
  expect(logs.code).toBe(0);
  expect(logs.stderr).toBe("");
  expect(logs.stdout).toStartWith("Show the daemon log (daemon/daemon.log) (gtd logs v");
  expect(logs.stdout).toContain("USAGE gtd logs [OPTIONS]");
  expect(logs.stdout).toMatch(/^ +-n, --lines=<N> +How many lines/m);
  expect(logs.stdout).toMatch(/^ +-f, --follow +Keep printing new lines/m);
  // -fh would follow forever if -h were not seen in the cluster.
  for (const args of [["logs", "-h"], ["logs", "-fh"], ["help", "logs"], ["--help", "logs"], ["logs", "--forground", "--help"]]) {
    expect(await help(args)).toEqual({ ...logs, args });
  }
  // A required argument does not stand in the way of asking what it is.
  const request = await help(["request", "--help"]);
  expect(request.code).toBe(0);
  expect(request.stdout).toContain("USAGE gtd request [OPTIONS] <ACTION>");
}, 30_000);

test("--version and -v print the version; only gtd itself has them, and only alone", async () => {
  const v = await runGtd(["--version"]);
  expect(v.code).toBe(0);
  expect(v.stdout).toMatch(/^\S+( \([0-9a-f]{7}(-dirty)?\))?\n$/);
  expect(v.stdout.split(" ")[0]!.trim()).toBe(pkg.version);
  expect(await runGtd(["-v"])).toEqual(v);
  const sub = await runGtd(["logs", "--version"]);
  expect(sub).toEqual({ code: 2, stdout: "", stderr: "gtd: unknown option --version for gtd logs (see gtd logs --help)\nUSAGE gtd logs [OPTIONS]\n" });
  expect((await runGtd(["--version", "logs"])).code).toBe(2);
}, 30_000);
