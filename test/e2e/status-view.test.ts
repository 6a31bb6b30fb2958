/**
 * `gtd status` as a person sees it, in a real terminal (a pane of the test's tmux server): a table with
 * liveness in colour; NO_COLOR drops the colour; a pipe gets the plain lines scripts rely on.
 */
import { expect, test } from "bun:test";
import { startDaemon } from "../helpers/e2e-town.ts";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 30_000;
const w = useGtdWorld();

/** Run `gtd status` in a fresh pane (a TTY) and return the screen with its colour codes. */
async function inTerminal(session: string, env: string[] = []): Promise<string> {
  const t = w().tmux;
  // The pane first runs a shell and gets its size; then gtd status replaces it. (Output written in the
  // first instant of a detached session, before tmux has sized it, can be lost from the screen.)
  await t.tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", "-c", w().town, ";", "set-option", "-t", `=${session}:`, "remain-on-exit", "on");
  await t.tmux("respawn-pane", "-k", "-t", `=${session}:`, "-c", w().town, "--", "env", ...env, GTD, "status");
  return waitFor(async () => {
    const dead = (await t.tmux("display-message", "-p", "-t", `=${session}:`, "#{pane_dead}")).trim();
    if (dead !== "1") return null;
    // From the start of the history: the screen can scroll by a line when the pane dies.
    return t.tmux("capture-pane", "-p", "-e", "-S", "-", "-t", `=${session}:`);
  }, { what: `gtd status in ${session} to finish` });
}

test("a terminal gets colour and the poke table; NO_COLOR keeps the table without colour; a pipe stays plain", async () => {
  const pid = await startDaemon(w());
  await w().waitForLog(/^Poked Deacon/);
  await waitFor(() => (w().readState().backoff as Record<string, unknown> | undefined)?.deacon, { what: "the Deacon's backoff saved" });

  const screen = await inTerminal("view-colour");
  expect(screen).toContain(`\u001b[32m●\u001b[39m Daemon is running (PID ${pid})`);
  expect(screen).toMatch(/AGENT +POKE EVERY +LAST POKE +UNANSWERED/);
  expect(screen).toMatch(/\n {2}deacon +\d+m\d+s +\d\d:\d\d:\d\d/);

  const noColour = await inTerminal("view-nocolour", ["NO_COLOR=1"]);
  expect(noColour).toContain(`● Daemon is running (PID ${pid})`);
  expect(noColour).not.toContain("\u001b[32m");
  expect(noColour).toMatch(/AGENT +POKE EVERY/);

  const piped = await w().run(["status"]);
  expect(piped.stdout).not.toContain("\u001b[");
  expect(piped.stdout).not.toContain("AGENT");
  expect(piped.stdout).toMatch(/\n {2}Pokes: deacon every \d+m\d+s, last \d\d:\d\d:\d\d/);
}, T);
