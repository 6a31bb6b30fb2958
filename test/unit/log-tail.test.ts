/** gtd logs on a log file someone replaced: a FIFO never hangs it, and nothing is read without bound. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { follow, lastLines } from "../../src/log-tail.ts";
import { waitFor } from "../helpers/wait.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-log-tail-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a FIFO in place of the log: no lines, and the call returns at once (no writer would ever come)", () => {
  const fifo = join(dir, "daemon.log");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
  expect(lastLines(fifo, 10)).toEqual([]);
});

test("following a FIFO reads nothing and stops when asked; a regular file put back is followed", async () => {
  const path = join(dir, "daemon.log");
  expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
  const stop = new AbortController();
  let seen = "";
  const done = follow(path, (s) => (seen += s), stop.signal, 10);
  rmSync(path);
  writeFileSync(path, "");
  appendFileSync(path, "line one\n");
  await waitFor(() => seen.includes("line one"), { what: "the appended line" });
  stop.abort();
  await done;
});

test("a huge log without newlines is read back only up to the cap", () => {
  const path = join(dir, "daemon.log");
  writeFileSync(path, `${"x".repeat(20 * 1024 * 1024)}\nlast\n`);
  const lines = lastLines(path, 5);
  expect(lines.at(-1)).toBe("last");
  // The first line is cut at the 16 MiB cap rather than read whole.
  expect(lines[0]!.length).toBeLessThan(17 * 1024 * 1024);
  expect(lines[0]!.length).toBeGreaterThan(15 * 1024 * 1024);
});

test("logLineAsJson: JSON lines pass through, text lines get a time and daemon.message, anything else is kept", async () => {
  const { logLineAsJson } = await import("../../src/log-tail.ts");
  const { jsonLogLine, rfc3339Local } = await import("../../src/log.ts");
  const ms = new Date(2026, 10, 30, 23, 49, 6).getTime();
  const json = jsonLogLine("Poked Deacon (stale)", ms, "pokeAgents.poked", { agent: "deacon" }).trimEnd();
  expect(JSON.parse(json)).toEqual({ time: rfc3339Local(ms), event: "pokeAgents.poked", message: "Poked Deacon (stale)", data: { agent: "deacon" } });
  expect(logLineAsJson(json)).toBe(json);
  expect(JSON.parse(logLineAsJson("2026/11/30 23:49:06 Heartbeat starting"))).toEqual({ time: rfc3339Local(ms), event: "daemon.message", message: "Heartbeat starting" });
  expect(JSON.parse(logLineAsJson("{not json"))).toEqual({ event: "log.unparsed", message: "{not json" });
  // Huge data is left out; the message says what happened.
  expect(JSON.parse(jsonLogLine("x", ms, "e", { big: "y".repeat(10_000) })).data).toBeUndefined();
});
