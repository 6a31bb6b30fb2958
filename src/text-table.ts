/** Aligned text columns for the human views (`gtd status` on a terminal), with optional ANSI colour. */

export interface Style {
  /** Render sections as aligned tables (a terminal) rather than one line per item (a pipe, a script). */
  table: boolean;
  /** ANSI colour; off under NO_COLOR or when stdout is not a terminal. */
  color: boolean;
}

export const PLAIN: Style = { table: false, color: false };

const CODES = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(style: Style, colour: Colour, text: string): string {
  return style.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

/** Visible width: ANSI codes take no columns. */
const width = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;

/** Rows under a header, each column as wide as its widest cell, two spaces apart, indented. */
export function table(header: string[], rows: string[][], indent = "  "): string[] {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - width(c))))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The style for stdout: a table on a terminal, colour there too unless NO_COLOR is set (no-color.org). */
export function styleFor(isTTY: boolean | undefined, env: Record<string, string | undefined>): Style {
  const tty = isTTY === true;
  return { table: tty, color: tty && !env.NO_COLOR };
}
