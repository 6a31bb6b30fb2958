/**
 * Reads the call logs of the fake `bd` and `git` (test/fixtures/bin). One line per call, fields separated
 * by \x1f: `ARGV`, each argument, `CWD`, the working directory; inside a field a backslash is `\\` and a
 * newline `\n`, so any argument reads back exactly.
 */
import { existsSync, readFileSync } from "node:fs";

/** One call recorded by a fake: its argv and working directory. */
export interface FakeCall {
  argv: string[];
  cwd: string;
}

function decodeField(field: string): string {
  return field.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

export function readFakeLog(path: string): FakeCall[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const fields = line.split("\x1f").map(decodeField);
      // ARGV, args…, CWD, dir: the last two fields are always CWD and the directory.
      return { argv: fields.slice(1, -2), cwd: fields[fields.length - 1]! };
    });
}

/** `argv.join(" ")` of each call, for order assertions. */
export function fakeCommands(path: string): string[] {
  return readFakeLog(path).map((c) => c.argv.join(" "));
}
