/**
 * A poke whose delivery is checked on the screen (TmuxPort.pokeVerified). The facts it relies on, each
 * checked against tmux 3.3a:
 * - Commands in one tmux call run in order, so a capture taken in the same call as the keys shows the
 *   pane before the keys; `display-message -p` after `capture-pane -p` prints the cursor as the last line.
 * - Typed text that a program reads shows on the screen: the tty echoes it (line mode) or the program
 *   draws it (Claude Code and other TUIs). A pane in copy mode would take the keys as copy-mode commands,
 *   so it is not typed into at all.
 * - What the submit key does is seen where the text was shown: a TUI clears or redraws that line, a line
 *   mode tty moves the cursor to the next line. A program that never reads its tty (`sleep` in line
 *   mode) cannot be told apart from one that reads it: the tty itself takes the line.
 * - tmux versions differ on whether `Enter` submits, so an unsubmitted text gets one `C-m` more.
 */
import type { PokeDelivery } from "./ports.ts";

/** What one look at the pane shows: its visible lines (wrapped lines joined) and where the cursor is. */
export interface PaneView {
  lines: string[];
  /** `x,y,history`: a move or a scroll changes it even when no line's text does. */
  cursor: string;
}

export const VIEW_FORMAT = "#{cursor_x},#{cursor_y},#{history_size}";

/** The tmux commands whose output parseView reads, for the agent's pane. */
export function viewCommands(pane: string): string[][] {
  return [
    ["capture-pane", "-p", "-J", "-t", pane],
    ["display-message", "-p", "-t", pane, VIEW_FORMAT],
  ];
}

/** capture-pane's lines then the cursor line (see viewCommands); null when the output is not that. */
export function parseView(stdout: string): PaneView | null {
  const lines = stdout.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const cursor = lines.pop();
  if (cursor === undefined || !/^\d+,\d+,\d+$/.test(cursor)) return null;
  return { lines: lines.map((l) => l.trimEnd()), cursor };
}

/**
 * Characters of the text looked for on the screen: its end, at most this many, so that a text longer than
 * a line (wrapped by the program, with its own borders) is still recognised by what fits on the last one.
 * The pokes gtd sends are ~30 characters; a new session's pane is 80 columns wide.
 */
export const FRAGMENT_CHARS = 32;

export function fragment(text: string): string {
  return text.trim().slice(-FRAGMENT_CHARS).trim();
}

/**
 * The row where the typed text shows in `after` and did not in `before`: a line holding the fragment
 * that changed (the last one: input sits below the transcript), or, when no line changed but the
 * cursor moved or the screen scrolled, the last line holding it. null: the typing changed nothing
 * visible (not echoed, or the same text already stood there).
 */
export function echoRow(before: PaneView, after: PaneView, frag: string): number | null {
  let holding: number | null = null;
  for (let i = after.lines.length - 1; i >= 0; i--) {
    const line = after.lines[i] as string;
    if (!line.includes(frag)) continue;
    if (line !== before.lines[i]) return i;
    holding ??= i;
  }
  return holding !== null && after.cursor !== before.cursor ? holding : null;
}

/** Whether the submit key took the text: its line changed, or the cursor left it (moved or scrolled). */
export function consumed(shown: PaneView, now: PaneView, row: number): boolean {
  return now.lines[row] !== shown.lines[row] || now.cursor !== shown.cursor;
}

export interface VerifyTiming {
  /** Between two looks: short, so a quick program is not kept waiting. */
  stepMs: number;
  /** How long the text may take to show before the pane counts as not reading (no-echo). */
  echoMs: number;
  /** How long each submit key may take to show an effect before the next (or stranded). */
  submitMs: number;
  /** At least this long between the text and the first submit (see TmuxOptions.enterDelayMs). */
  enterDelayMs: number;
}

/**
 * Defaults: 50 ms between looks (a screen redraw takes a few ms; 20 looks a second are cheap tmux calls),
 * and 1 s for each phase, so a poke never holds a pass more than ~3 s while a live agent answers in
 * well under one.
 */
export const VERIFY_DEFAULTS: Omit<VerifyTiming, "enterDelayMs"> = { stepMs: 50, echoMs: 1000, submitMs: 1000 };

/** What the procedure needs from tmux: a call that returns stdout (and throws on failure). */
export interface VerifyIo {
  /** The agent's pane, and whether it can take keys at all (not in a mode, not dead). */
  pane(): Promise<{ id: string; ready: boolean }>;
  /** Runs one tmux command sequence, returns its stdout. */
  exec(commands: string[][]): Promise<string>;
  sleep(ms: number): Promise<void>;
}

/** C-u, the text, then the submit keys, each step checked on the screen (see the file comment). */
export async function verifiedPoke(io: VerifyIo, clean: string, t: VerifyTiming): Promise<PokeDelivery> {
  const pane = await io.pane();
  const frag = fragment(clean);
  // Nothing to see for an empty text; and a pane in copy mode would read the keys as commands.
  if (!pane.ready || frag === "") return { kind: "no-echo" };
  const look = async () => parseView(await io.exec(viewCommands(pane.id)));
  const before = parseView(await io.exec([
    ...viewCommands(pane.id),
    ["send-keys", "-t", pane.id, "C-u"],
    ["send-keys", "-t", pane.id, "-l", "--", clean],
  ]));
  if (!before) return { kind: "no-echo" };

  let waitedMs = 0;
  let shown: { view: PaneView; row: number } | null = null;
  while (!shown && waitedMs < t.echoMs) {
    await io.sleep(t.stepMs);
    waitedMs += t.stepMs;
    const now = await look();
    const row = now ? echoRow(before, now, frag) : null;
    if (now && row !== null) shown = { view: now, row };
  }
  if (!shown) return { kind: "no-echo" };
  if (waitedMs < t.enterDelayMs) await io.sleep(t.enterDelayMs - waitedMs);

  for (const key of ["Enter", "C-m"]) {
    await io.exec([["send-keys", "-t", pane.id, key]]);
    for (let spentMs = 0; spentMs < t.submitMs; spentMs += t.stepMs) {
      await io.sleep(t.stepMs);
      const now = await look();
      if (now && consumed(shown.view, now, shown.row)) return { kind: "consumed" };
    }
  }
  return { kind: "stranded" };
}
