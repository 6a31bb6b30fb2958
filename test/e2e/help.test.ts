/** Every command's --help, through dist/gtd, ends with an Examples block of real command lines. */
import { expect, test } from "bun:test";
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
