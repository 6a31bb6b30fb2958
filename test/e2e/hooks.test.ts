/**
 * The README's hook snippets, taken from the README itself and run as Claude Code and git would run
 * them (a shell, the agent's environment), against dist/gtd and a running daemon.
 */
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { startDaemon, waitForStarts } from "../helpers/e2e-town.ts";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";

const T = 40_000;
const w = useGtdWorld();

/** The fenced block of `lang` in the README's hooks section. */
function snippet(lang: string): string {
  const readme = readFileSync(resolve(import.meta.dir, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Calling gtd from hooks"));
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(section);
  if (!m) throw new Error(`no ${lang} block in the README's hooks section`);
  return m[1]!;
}

/** Run a hook command line the way Claude Code does: through a shell, in the agent's environment. */
function runHook(command: string, env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(["sh", "-c", command], {
    cwd: w().town,
    env: { ...w().env, PATH: `${dirname(GTD)}:${w().env.PATH}`, ...env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("the PreCompact hook cycles the agent it runs in", async () => {
  const settings = JSON.parse(snippet("json"));
  const command: string = settings.hooks.PreCompact[0].hooks[0].command;
  expect(command).toBe("gtd request cycle");

  const inbox = join(w().tmux.root, "inbox.json");
  writeFileSync(inbox, "[]");
  mkdirSync(join(w().town, "mayor"), { recursive: true });
  await startDaemon(w(), { FAKE_BD_INBOX: inbox });
  await w().waitForLog("Heartbeat complete (#1)");

  // What a gtd-started mayor session carries.
  const r = runHook(command, { GT_IDENTITY: "mayor", GT_TOWN_ROOT: w().town, FAKE_BD_INBOX: inbox });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("✓ Signaled daemon");
  await w().waitForLog("Restarted session gt-mayor");
  await w().waitForLog(/^Closed lifecycle message /);
  await waitForStarts(w().tmux, "gt-mayor", 1);
}, T);

test("the shell hook signals a running daemon, and succeeds without one", async () => {
  const script = snippet("sh").replace("~/gt", w().town);
  const idle = runHook(script, {});
  expect(idle).toMatchObject({ code: 0 });
  expect(idle.stderr).toContain("not running");

  await startDaemon(w());
  await w().waitForLog("Heartbeat complete (#1)");
  const r = runHook(script, {});
  expect(r).toMatchObject({ code: 0, stderr: "" });
  await w().waitForLog("Received SIGUSR1, processing lifecycle requests immediately");
}, T);
