/**
 * early-signals.ts: only the daemon's argv installs the remembering handlers; what arrives before the
 * take-over is handed over (once per kind, in order of first arrival), and later signals go straight to
 * the new handler. Each case runs in a child bun process, so the test runner's own signals stay default.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDaemonArgv } from "../../../src/early-signals.ts";

const MODULE = resolve(import.meta.dir, "../../../src/early-signals.ts");
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-early-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("isDaemonArgv", () => {
  test.each([
    [["start", "--foreground"], true],
    [["start", "--foreground", "--town", "/t", "--heartbeat", "5m"], true],
    [["start", "--town", "/t", "--foreground"], true],
    [["start"], false],
    [["start", "--town", "/t"], false],
    [["start", "--", "--foreground"], false],
    [["start", "--foreground=false"], false],
    [["stop"], false],
    [["logs", "--foreground"], false],
    [["demo"], false],
    [[], false],
  ] as const)("%j → %p", (argv, expected) => {
    expect(isDaemonArgv(argv)).toBe(expected);
  });
});

/** Run `body` in a child whose argv (after the script) is `argv`; the module is imported first. */
function child(argv: string[], body: string): { code: number | null; signal: string | null; stdout: string } {
  const script = join(dir, "child.ts");
  // A bare import, as main.ts has it (a namespace import nobody uses would be elided by the transpiler).
  writeFileSync(script, `import ${JSON.stringify(MODULE)};\nimport * as early from ${JSON.stringify(MODULE)};\n${body}\n`);
  const r = Bun.spawnSync([process.execPath, script, ...argv], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, signal: r.signalCode === undefined || r.signalCode === null ? null : String(r.signalCode), stdout: r.stdout.toString() };
}

/** Send ourselves `sig` and wait until a listener of our own has seen it (delivery is asynchronous). */
const SEND = `
const seen = new Map();
for (const s of ["SIGTERM", "SIGINT", "SIGUSR1", "SIGHUP"]) process.on(s, () => seen.set(s, (seen.get(s) ?? 0) + 1));
async function send(sig) {
  const before = seen.get(sig) ?? 0;
  process.kill(process.pid, sig);
  while ((seen.get(sig) ?? 0) === before) await new Promise((r) => setImmediate(r));
}
`;

describe("in the daemon process", () => {
  test("importing the module is enough: a SIGUSR1 and a SIGTERM are not fatal", () => {
    const r = child(
      ["start", "--foreground", "--town", "/t"],
      `process.kill(process.pid, "SIGUSR1");\nprocess.kill(process.pid, "SIGTERM");\nconst t = Date.now();\nwhile (Date.now() - t < 200) await new Promise((r) => setImmediate(r));\nconsole.log("survived");`,
    );
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe("survived\n");
  });

  test("early signals are remembered and handed over once per kind, in order of first arrival", () => {
    const r = child(
      ["start", "--foreground"],
      `${SEND}
await send("SIGUSR1"); await send("SIGTERM"); await send("SIGUSR1"); await send("SIGHUP"); await send("SIGTERM");
const later = [];
const handed = early.takeOverSignals((s) => later.push(s));
await send("SIGUSR1");
console.log(JSON.stringify({ handed, later }));`,
    );
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ handed: ["SIGUSR1", "SIGTERM", "SIGHUP"], later: ["SIGUSR1"] });
  });
});

describe("main.ts", () => {
  test("its very first import is early-signals.ts, so nothing loads before the handlers are in", () => {
    const main = readFileSync(resolve(import.meta.dir, "../../../src/main.ts"), "utf8");
    const firstImport = main.split("\n").find((l) => l.startsWith("import "));
    expect(firstImport).toBe('import "./early-signals.ts";');
  });
});

describe("in any other command", () => {
  test("nothing is installed: SIGUSR1 keeps its default action and ends the process", () => {
    // Had it survived, it would say so after a bounded wait (the default action is immediate).
    const r = child(["status"], `process.kill(process.pid, "SIGUSR1");\nconst t = Date.now();\nwhile (Date.now() - t < 5000) await new Promise((r) => setImmediate(r));\nconsole.log("survived");`);
    expect(r.stdout).toBe("");
    expect(r.signal).toBe("SIGUSR1");
  });
});
