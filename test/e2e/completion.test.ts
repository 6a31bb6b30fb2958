/**
 * `gtd completion` through dist/gtd: the bash script loads and completes commands, flags, positional
 * words and the town's agent names (asked of gtd at completion time); zsh and fish scripts parse.
 */
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";

const T = 30_000;
const w = useGtdWorld();

/** A rig with a crew member, so the town has agents beyond the mayor. */
function addRig(): void {
  mkdirSync(join(w().town, "gastown", ".beads"), { recursive: true });
  mkdirSync(join(w().town, "gastown", "crew", "joe"), { recursive: true });
}

/** Run bash's completion for `line` (the words typed so far, the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const file = join(w().tmux.root, "gtd.bash");
  writeFileSync(file, script);
  const quoted = words.map((x) => `'${x}'`).join(" ");
  const r = Bun.spawnSync(["bash", "--norc", "-c", `source '${file}' && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && _gtd && printf '%s\\n' "\${COMPREPLY[@]}"`], {
    cwd: w().town,
    env: { ...w().env, PATH: `${dirname(GTD)}:${w().env.PATH}` } as Record<string, string>,
    stderr: "pipe",
  });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().split("\n").filter(Boolean);
}

test("bash: loads without error and completes commands, flags, words and agents", async () => {
  addRig();
  const r = await w().run(["completion", "bash"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const load = Bun.spawnSync(["bash", "--norc", "-c", `source /dev/stdin && complete -p gtd`], { stdin: Buffer.from(r.stdout), stderr: "pipe" });
  expect(load.stderr.toString()).toBe("");
  expect(load.stdout.toString().trim()).toBe("complete -F _gtd gtd");

  expect(bashComplete(r.stdout, ["gtd", "req"])).toEqual(["request"]);
  expect(bashComplete(r.stdout, ["gtd", "re"])).toEqual(["request", "resume", "restart", "reset"]);
  expect(bashComplete(r.stdout, ["gtd", "logs", "--"])).toEqual(["--town", "--lines", "--follow", "--json", "--help"]);
  expect(bashComplete(r.stdout, ["gtd", "request", ""])).toEqual(["cycle", "restart", "shutdown"]);
  expect(bashComplete(r.stdout, ["gtd", "request", "cycle", "--as", ""])).toEqual(["mayor", "gastown-witness", "gastown-refinery", "gastown-crew-joe"]);
  expect(bashComplete(r.stdout, ["gtd", "request", "cycle", "--as", "gastown-c"])).toEqual(["gastown-crew-joe"]);
  // pause, resume, restart and reset complete the supervised agents: the Deacon and supervise.agents.
  expect(bashComplete(r.stdout, ["gtd", "pause", ""])).toEqual(["deacon"]);
  expect(bashComplete(r.stdout, ["gtd", "pause", "--"])).toEqual(["--town", "--all", "--help"]);
  mkdirSync(join(w().town, "daemon"), { recursive: true });
  writeFileSync(join(w().town, "daemon", "config.json"), JSON.stringify({ supervise: { agents: ["gastown-witness", "mayor"] } }));
  expect(bashComplete(r.stdout, ["gtd", "restart", ""])).toEqual(["deacon", "gastown-witness", "mayor"]);
  expect(bashComplete(r.stdout, ["gtd", "reset", "m"])).toEqual(["mayor"]);
}, T);

test("--supervised lists the Deacon and supervise.agents; with no town or a bad config it lists none and says nothing", async () => {
  expect(await w().run(["completion", "--supervised"], { extraEnv: { GTD_SUPERVISE_AGENTS: "mayor gastown/witness" } })).toEqual({
    code: 0,
    stdout: "deacon\nmayor\ngastown-witness\n",
    stderr: "",
  });
  expect(await w().run(["completion", "--supervised"], { extraEnv: { GTD_SUPERVISE_AGENTS: "not-an-agent" } })).toEqual({ code: 0, stdout: "", stderr: "" });
  expect(await w().run(["completion", "--supervised"], { cwd: w().tmux.root })).toEqual({ code: 0, stdout: "", stderr: "" });
}, T);

test("--agents lists the town's agents; outside a town it lists none and says nothing", async () => {
  addRig();
  const r = await w().run(["completion", "--agents"]);
  expect(r.stdout).toBe("mayor\ngastown-witness\ngastown-refinery\ngastown-crew-joe\n");
  const away = await w().run(["completion", "--agents"], { cwd: w().tmux.root });
  expect(away).toEqual({ code: 0, stdout: "", stderr: "" });
}, T);

for (const [shell, check] of [
  ["zsh", ["zsh", "-n"]],
  ["fish", ["fish", "--no-execute"]],
] as const) {
  test(`${shell}: the script parses`, async () => {
    const r = await w().run(["completion", shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("request");
    // Debian's zsh and fish are installed by .ci/run; a machine without them still checks the text above.
    if (!Bun.which(check[0])) return;
    const file = join(w().tmux.root, `gtd.${shell}`);
    writeFileSync(file, r.stdout);
    const p = Bun.spawnSync([...check, file], { stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
  }, T);
}

test("no shell, or an unknown one, is a usage error", async () => {
  expect((await w().run(["completion"])).code).toBe(2);
  expect((await w().run(["completion", "powershell"])).code).toBe(2);
}, T);
