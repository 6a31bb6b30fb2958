/**
 * pokeVerified on a real tmux server: a program that reads its input takes the poke ("consumed"); one that
 * shows the text but never takes the submit key leaves it "stranded"; a pane that shows nothing (no echo,
 * copy mode, dead) is "no-echo" and gets no Enter. Each case is a real program in a real pane.
 *
 * Timing: a phase that must succeed gets 10 s (it returns as soon as the screen shows it, so a loaded
 * machine only makes it slower); a phase that must run out gets a short budget, because nothing on the
 * screen can change however long it waits.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TmuxPort } from "../../src/ports.ts";
import { TmuxError } from "../../src/tmux.ts";
import { createTmuxEnv, type TmuxEnv } from "../helpers/tmux-env.ts";
import { waitFor } from "../helpers/wait.ts";

const LONG_MS = 10_000;
let t: TmuxEnv;
let live: TmuxPort;
beforeEach(async () => {
  t = await createTmuxEnv();
  live = t.makePort({ verify: { echoMs: LONG_MS, submitMs: LONG_MS } });
});
afterEach(async () => {
  await t.cleanup();
});

const TEXT = "HEARTBEAT: run your rounds";

async function agent(name: string): Promise<void> {
  await t.port.newSession({ name, cwd: t.root, env: {}, argv: ["claude"] });
  await waitFor(async () => (await t.agentLog(name)).includes("START"), { what: `${name} START` });
}
const logLines = async (name: string) => (await t.agentLog(name)).split("\n").filter((l) => l.startsWith("LINE ")).map((l) => l.slice(5));
/**
 * The agent's lines once there are `n`: "consumed" is what the screen showed (the tty's echo comes before
 * the program reads), so the log may lag a moment behind it.
 */
const linesWhen = (name: string, n: number) =>
  waitFor(async () => {
    const got = await logLines(name);
    return got.length >= n ? got : undefined;
  }, { what: `${n} lines from ${name}` });
const screen = (target: string) => t.tmux("capture-pane", "-p", "-t", target);

/**
 * A TUI-like input line in raw mode: echoes what it reads, C-u clears the line, and the `need`-th
 * Enter clears it and logs SUBMIT (need 0: never). Prints READY> once raw mode is on. (bash's `read -n`
 * turns ICRNL back on, so Enter may arrive as a newline: -d '' makes that a character, not the end.)
 */
const TUI = `
log=$1 need=$2 n=0
stty raw -echo
printf 'READY> '
while IFS= read -rsn1 -d '' c; do
  case $c in
    $'\\r'|$'\\n') n=$((n+1)); echo "CR $n" >>"$log"
            if [ "$need" -gt 0 ] && [ "$n" -ge "$need" ]; then printf '\\r\\033[KREADY> '; echo SUBMIT >>"$log"; fi ;;
    $'\\025') printf '\\r\\033[KREADY> ' ;;
    *) printf '%s' "$c" ;;
  esac
done`;

async function tui(name: string, need: number): Promise<string> {
  const log = join(t.root, `${name}.tui.log`);
  await t.port.newSession({ name, cwd: t.root, env: {}, argv: ["bash", "-c", TUI, "tui", log, String(need)] });
  await waitFor(async () => (await screen(`=${name}:`)).includes("READY>"), { what: `${name} READY` });
  return log;
}
/** The TUI's log once it ends with `last` (it is written just after the screen changes). */
const tuiLog = (log: string, last: string) =>
  waitFor(() => {
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    return text.endsWith(last) ? text : undefined;
  }, { what: `${last.trim()} in ${log}` });

describe("consumed", () => {
  test("the fake agent reads exactly the poke; pending input is cleared first", async () => {
    await agent("gt-deacon");
    await t.tmux("send-keys", "-t", "=gt-deacon:", "-l", "junk");
    expect(await live.pokeVerified("gt-deacon", TEXT)).toEqual({ kind: "consumed" });
    expect(await linesWhen("gt-deacon", 1)).toEqual([TEXT]);
    // Again, with the first poke's echo still on the screen.
    expect(await live.pokeVerified("gt-deacon", "second; \x1b[A")).toEqual({ kind: "consumed" });
    expect(await linesWhen("gt-deacon", 2)).toEqual([TEXT, "second;  [A"]);
  });

  test("a TUI that clears its input line on Enter", async () => {
    const log = await tui("tui", 1);
    expect(await live.pokeVerified("tui", TEXT)).toEqual({ kind: "consumed" });
    expect(await tuiLog(log, "SUBMIT\n")).toBe("CR 1\nSUBMIT\n");
  });

  test("a TUI that ignores the first Enter takes the second submit (C-m)", async () => {
    const log = await tui("tui", 2);
    // The first Enter's phase must run out before C-m goes; 5 s leaves the second one time on a busy machine.
    const port = t.makePort({ verify: { echoMs: LONG_MS, submitMs: 5000 } });
    expect(await port.pokeVerified("tui", TEXT)).toEqual({ kind: "consumed" });
    expect(await tuiLog(log, "SUBMIT\n")).toBe("CR 1\nCR 2\nSUBMIT\n");
  });

  test("the agent's own pane is poked even when a person's pane is the active one", async () => {
    await agent("gt-deacon");
    const mark = join(t.root, "human.txt");
    await t.tmux("split-window", "-t", "=gt-deacon:", "--", "sh", "-c", 'cat > "$1"', "sh", mark);
    expect(await t.tmux("display-message", "-p", "-t", "=gt-deacon:", "#{pane_index}")).toBe("1\n");
    expect(await live.pokeVerified("gt-deacon", TEXT)).toEqual({ kind: "consumed" });
    expect(await linesWhen("gt-deacon", 1)).toEqual([TEXT]);
    expect(await screen("=gt-deacon:")).not.toContain("HEARTBEAT");
  });

  test("a line-mode pane where nothing reads: the tty takes the line, which looks the same (consumed)", async () => {
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sleep", "600"] });
    expect(await live.pokeVerified("s", TEXT)).toEqual({ kind: "consumed" });
  });
});

describe("stranded", () => {
  test("a TUI that shows the text but never takes a submit key", async () => {
    const log = await tui("tui", 0);
    const port = t.makePort({ verify: { echoMs: LONG_MS, submitMs: 300 } });
    expect(await port.pokeVerified("tui", TEXT)).toEqual({ kind: "stranded" });
    // Both submit keys were sent, and the text is still on the input line.
    expect(await tuiLog(log, "CR 2\n")).toBe("CR 1\nCR 2\n");
    expect(await screen("=tui:")).toContain(`READY> ${TEXT}`);
  });
});

describe("no-echo: nothing typed shows, and no Enter is sent", () => {
  const quick = () => t.makePort({ verify: { echoMs: 300, submitMs: 300 } });

  test("a pane whose tty does not echo and where nothing reads", async () => {
    await t.port.newSession({ name: "s", cwd: t.root, env: {}, argv: ["sh", "-c", "stty -echo; echo READY; exec sleep 600"] });
    await waitFor(async () => (await screen("=s:")).includes("READY"), { what: "READY" });
    expect(await quick().pokeVerified("s", TEXT)).toEqual({ kind: "no-echo" });
  });

  test("a pane in copy mode gets no keys at all", async () => {
    await agent("gt-deacon");
    await t.tmux("copy-mode", "-t", "=gt-deacon:");
    expect(await quick().pokeVerified("gt-deacon", TEXT)).toEqual({ kind: "no-echo" });
    expect(await t.tmux("display-message", "-p", "-t", "=gt-deacon:", "#{pane_in_mode}")).toBe("1\n");
    await t.tmux("send-keys", "-t", "=gt-deacon:", "-X", "cancel");
    // tmux handles commands in order: anything typed by the poke would be read before the marker.
    await t.port.sendLine("gt-deacon", "marker");
    await waitFor(async () => (await logLines("gt-deacon")).length > 0, { what: "marker" });
    expect(await logLines("gt-deacon")).toEqual(["marker"]);
  });

  test("a dead pane; an empty text", async () => {
    await t.tmux("set-option", "-g", "remain-on-exit", "on");
    await t.port.newSession({ name: "d", cwd: t.root, env: {}, argv: ["true", "x"] });
    await waitFor(async () => (await t.port.sessions()).get("d")?.paneDead, { what: "dead pane" });
    expect(await quick().pokeVerified("d", TEXT)).toEqual({ kind: "no-echo" });
    await agent("gt-deacon");
    expect(await quick().pokeVerified("gt-deacon", " \n ")).toEqual({ kind: "no-echo" });
  });

  test("a missing session or server is a TmuxError, as for poke", async () => {
    await agent("gt-deacon-old");
    const err = await t.port.pokeVerified("gt-deacon", TEXT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TmuxError);
    expect((err as TmuxError).kind).toBe("no-session");
    await t.tmux("kill-server");
    expect(((await t.port.pokeVerified("gt-deacon", TEXT).catch((e: unknown) => e)) as TmuxError).kind).toBe("no-server");
  });
});
