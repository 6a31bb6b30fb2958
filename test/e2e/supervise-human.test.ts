/**
 * Pokes that do not collide with people, through dist/gtd on real tmux: while a person at a terminal
 * attached to the Deacon's session was active within supervise.humanActive, the poke waits (said once,
 * shown in status as deferred_why); at the first heartbeat after they go quiet, it goes out, the client
 * still attached. The client is real: `tmux attach` inside `script`, its keys written to script's stdin.
 * Each test: its own town and tmux server.
 */
import { expect, test } from "bun:test";
import { startDaemon } from "../helpers/e2e-town.ts";
import { useGtdWorld } from "../helpers/gtd-cli.ts";
import { afterHeartbeats, EVERY_HEARTBEAT, FAST, linesRead, logged, moody, waitForRow, waitForRuns } from "../helpers/supervise-town.ts";
import { waitFor } from "../helpers/wait.ts";

const T = 120_000;
const w = useGtdWorld();
const SESSION = "gt-deacon";
/** F12 as a terminal sends it; bound to a no-op below, so it reaches tmux (client activity) but not the agent. */
const F12 = "\x1b[24~";
const DEFERRED = /^a person at a terminal attached to gt-deacon was active \d+s ago$/;

test("an active attached client defers the Deacon's poke; it goes out once the client is quiet", async () => {
  await startDaemon(w(), { ...FAST, ...EVERY_HEARTBEAT, GTD_SUPERVISE_HUMAN_ACTIVE: "3s", GTD_DEACON_COMMAND: moody("read") });
  const t = w().tmux;
  await waitForRuns(t, SESSION, 1);
  // Pokes land while nobody is there.
  await waitFor(async () => (await linesRead(t, SESSION)).length > 0, { timeoutMs: 30_000, what: "a first poke" });
  await t.tmux("bind-key", "-n", "F12", "refresh-client", "-S");

  // A person attaches (attaching counts as activity) and keeps pressing a key.
  const client = Bun.spawn(["script", "-q", "-c", `tmux attach -t =${SESSION}`, "/dev/null"], {
    env: t.env as Record<string, string>,
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
  });
  w().track(client.pid);
  let typing = true;
  let before = 0;
  const keys = (async () => {
    while (typing) {
      client.stdin.write(F12);
      client.stdin.flush();
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    await waitFor(async () => (await t.tmux("list-clients", "-F", "#{client_session}")).trim() === SESSION, { what: "the client attached" });
    const row = await waitForRow(w(), "deacon", (r) => r.deferred_why !== null, "a deferred poke");
    expect(row.deferred_why).toMatch(DEFERRED);
    // A poke delivered just before the client came in has been read by the next heartbeat.
    await afterHeartbeats(w(), 1);
    before = (await linesRead(t, SESSION)).length;
    const poked = logged(w(), /^Poked Deacon/).length;
    // Heartbeat after heartbeat (well past the 4s a poke waits for its answer): nothing typed into the pane.
    await afterHeartbeats(w(), 8);
    expect((await linesRead(t, SESSION)).length).toBe(before);
    expect(logged(w(), /^Poked Deacon/).length).toBe(poked);
    // Said once, not at every heartbeat.
    expect(logged(w(), /^Deferring the poke to Deacon: a person at a terminal attached to gt-deacon was active \d+s ago$/)).toHaveLength(1);
    expect((await waitForRow(w(), "deacon", () => true, "a row")).deferred_why).toMatch(DEFERRED);
  } finally {
    typing = false;
    await keys;
  }

  // Quiet now: the next heartbeat past humanActive pokes, with the person still attached.
  await waitFor(async () => (await linesRead(t, SESSION)).length > before, { timeoutMs: 30_000, what: "the deferred poke delivered" });
  expect((await t.tmux("list-clients", "-F", "#{client_session}")).trim()).toBe(SESSION);
  expect((await linesRead(t, SESSION)).at(-1)).toBe("LINE HEARTBEAT: run your rounds");
  await waitForRow(w(), "deacon", (r) => r.deferred_why === null, "no deferred poke");
  client.kill();
}, T);
