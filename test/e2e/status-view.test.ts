/**
 * `gtd status` as a person sees it, in a real terminal (a pane of the test's tmux server): a table with
 * liveness in colour; NO_COLOR drops the colour; a pipe gets the plain lines scripts rely on. And the
 * next heartbeat it shows is the next one, not the one that just ran.
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

test("status shows the real next heartbeat: after the last one, at most one interval later", async () => {
  // 5s: the pass reads its clock as its tick fires, so `next > last` could fail only if a tick came a
  // whole interval late; a pass late by less only brings next closer to last, never past it.
  await startDaemon(w(), { GTD_HEARTBEAT: "5s" });
  // #1 runs at start; #2 is the schedule's first tick, the kind whose next heartbeat used to be wrong.
  await w().waitForHeartbeats(2, 20_000);
  const { code, json } = await w().status();
  expect(code).toBe(0);
  expect(json.heartbeat_count).toBeGreaterThanOrEqual(2);
  const lastMs = Date.parse(json.last_heartbeat);
  const nextMs = Date.parse(json.next_heartbeat);
  expect(nextMs).toBeGreaterThan(lastMs);
  expect(nextMs - lastMs).toBeLessThanOrEqual(5000);
  const human = await w().run(["status"]);
  expect(human.stdout).toMatch(/\n {2}Next heartbeat: \d\d:\d\d:\d\d \(every 5s\)\n/);
}, T);
