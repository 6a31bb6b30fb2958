import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { localOffsetMin } from "../../src/gotime.ts";
import { capMessage, createFileLog, jsonLogLine, LOG_MESSAGE_CAP_CHARS, logLine, rfc3339Local, rotatedName } from "../../src/log.ts";

let dir: string;
let logPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-log-"));
  logPath = join(dir, "daemon", "daemon.log");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A clock at a local wall-clock time, so the expected stamp holds in any TZ. */
function clockAt(y: number, mo: number, d: number, h: number, mi: number, s: number) {
  let now = new Date(y, mo - 1, d, h, mi, s).getTime();
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const STAMP = "2026/11/25 12:09:13";

describe("createFileLog", () => {
  test("one line per message, `YYYY/MM/DD HH:MM:SS message`, from the injected clock", () => {
    const clock = clockAt(2026, 11, 25, 12, 9, 13);
    const { log } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock });
    log("Daemon starting (PID 42)");
    clock.advance(61_000);
    log("Heartbeat starting");
    expect(readFileSync(logPath, "utf8")).toBe(
      `${STAMP} Daemon starting (PID 42)\n2026/11/25 12:10:14 Heartbeat starting\n`,
    );
  });

  test("pads single-digit fields", () => {
    const { log } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 1, 2, 3, 4, 5) });
    log("x");
    expect(readFileSync(logPath, "utf8")).toBe("2026/01/02 03:04:05 x\n");
  });

  test("newlines in a message are folded into one line", () => {
    const { log } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    log("Error executing lifecycle action: first\nsecond\r\nthird\n");
    log("next");
    const text = readFileSync(logPath, "utf8");
    expect(text).toBe(`${STAMP} Error executing lifecycle action: first second third \n${STAMP} next\n`);
    expect(text.split("\n").length).toBe(3);
  });

  test("appends to an existing log, mode 0644, and creates its directory", () => {
    const clock = clockAt(2026, 11, 25, 12, 9, 13);
    createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock }).log("first run");
    createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock }).log("second run");
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} first run\n${STAMP} second run\n`);
    expect(statSync(logPath).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  test("the mirror gets each line exactly as written to the file", () => {
    const mirrored: string[] = [];
    const { log } = createFileLog({
      path: logPath,
      maxBytes: 1_000_000,
      files: 3,
      clock: clockAt(2026, 11, 25, 12, 9, 13),
      mirror: (line) => mirrored.push(line),
    });
    log("one");
    log("two\nlines");
    expect(mirrored).toEqual([`${STAMP} one\n`, `${STAMP} two lines\n`]);
    expect(readFileSync(logPath, "utf8")).toBe(mirrored.join(""));
  });

  test("rotation by size keeps exactly `files` files, newest in daemon.log", () => {
    // Each line is 27 bytes ("2026/11/25 12:09:13 msg-NN\n"); 60 bytes holds two.
    const { log } = createFileLog({ path: logPath, maxBytes: 60, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    for (let i = 1; i <= 10; i++) log(`msg-${String(i).padStart(2, "0")}`);
    const lines = (p: string) => readFileSync(p, "utf8").trimEnd().split("\n").map((l) => l.slice(STAMP.length + 1));
    expect(readdirSync(join(dir, "daemon")).sort()).toEqual(["daemon.log", "daemon.log.1", "daemon.log.2"]);
    expect(lines(logPath)).toEqual(["msg-09", "msg-10"]);
    expect(lines(rotatedName(logPath, 1))).toEqual(["msg-07", "msg-08"]);
    expect(lines(rotatedName(logPath, 2))).toEqual(["msg-05", "msg-06"]);
    for (const f of readdirSync(join(dir, "daemon"))) expect(statSync(join(dir, "daemon", f)).size).toBeLessThanOrEqual(60);
  });

  test("onRotate runs after each rotation, when the new daemon.log already exists", () => {
    const seen: boolean[] = [];
    const { log } = createFileLog({
      path: logPath,
      maxBytes: 60,
      files: 3,
      clock: clockAt(2026, 11, 25, 12, 9, 13),
      onRotate: () => seen.push(existsSync(logPath)),
    });
    for (let i = 1; i <= 6; i++) log(`msg-${String(i).padStart(2, "0")}`);
    expect(seen).toEqual([true, true]);
  });

  test("files=1 keeps only daemon.log", () => {
    const { log } = createFileLog({ path: logPath, maxBytes: 60, files: 1, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    for (let i = 1; i <= 5; i++) log(`msg-${String(i).padStart(2, "0")}`);
    expect(readdirSync(join(dir, "daemon"))).toEqual(["daemon.log"]);
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} msg-05\n`);
  });

  test("an existing log already over the limit is rotated on the first write", () => {
    const clock = clockAt(2026, 11, 25, 12, 9, 13);
    createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock }).log("old ".repeat(20));
    const { log } = createFileLog({ path: logPath, maxBytes: 60, files: 3, clock });
    log("new");
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} new\n`);
    expect(readFileSync(rotatedName(logPath, 1), "utf8")).toContain("old old");
  });

  test("a line longer than the limit is still written whole", () => {
    const { log } = createFileLog({ path: logPath, maxBytes: 10, files: 2, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    log("a long message");
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} a long message\n`);
  });

  test("configure applies new limits (SIGHUP reload)", () => {
    const { log, configure } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    for (let i = 1; i <= 4; i++) log(`msg-${String(i).padStart(2, "0")}`);
    expect(existsSync(rotatedName(logPath, 1))).toBe(false);
    configure(60, 2);
    log("msg-05");
    expect(readdirSync(join(dir, "daemon")).sort()).toEqual(["daemon.log", "daemon.log.1"]);
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} msg-05\n`);
  });

  test("the log never throws, even when the file cannot be written", () => {
    const mirrored: string[] = [];
    const { log } = createFileLog({
      path: logPath,
      maxBytes: 1_000_000,
      files: 3,
      clock: clockAt(2026, 11, 25, 12, 9, 13),
      mirror: (l) => mirrored.push(l),
    });
    rmSync(join(dir, "daemon"), { recursive: true });
    writeFileSync(join(dir, "daemon"), "a file where the directory was");
    expect(() => log("still alive")).not.toThrow();
    expect(mirrored).toEqual([`${STAMP} still alive\n`]);
  });
});

describe("the line cap (a backstop for a caller that echoes a huge value)", () => {
  test("a message over the cap keeps its first 2000 characters, then the full length", () => {
    expect(LOG_MESSAGE_CAP_CHARS).toBe(2000);
    const mirrored: string[] = [];
    const { log } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13), mirror: (l) => mirrored.push(l) });
    log(`Bad rig name ${"x".repeat(10_181)}`);
    const expected = `${STAMP} Bad rig name ${"x".repeat(2000 - 13)}… (10194 chars)\n`;
    expect(readFileSync(logPath, "utf8")).toBe(expected);
    expect(mirrored).toEqual([expected]);
  });

  test("a 30 MB message makes one short line, not 30 MB of log", () => {
    const { log } = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13) });
    log(`Config value: ${"v".repeat(30 * 1024 * 1024)}`);
    expect(statSync(logPath).size).toBeLessThan(2100);
    expect(readFileSync(logPath, "utf8")).toEndWith(`… (${30 * 1024 * 1024 + 14} chars)\n`);
  });

  test("at the cap exactly: unchanged", () => {
    const m = "y".repeat(LOG_MESSAGE_CAP_CHARS);
    expect(capMessage(m)).toBe(m);
    expect(logLine(m, 0)).toEndWith(` ${m}\n`);
  });

  test("never cuts a character in half (a surrogate pair at the boundary)", () => {
    const m = `${"a".repeat(LOG_MESSAGE_CAP_CHARS - 1)}😀${"b".repeat(10)}`;
    const capped = capMessage(m);
    expect(capped).toBe(`${"a".repeat(LOG_MESSAGE_CAP_CHARS - 1)}… (${m.length} chars)`);
    expect(Buffer.from(capped, "utf8").toString("utf8")).toBe(capped);
  });

  test("newlines past the cap are gone with the rest; the line is still one line", () => {
    const line = logLine(`${"z".repeat(LOG_MESSAGE_CAP_CHARS)}\nsecond\nthird`, 0);
    expect(line.split("\n").length).toBe(2);
  });
});

describe("a log path that is not a plain file of ours", () => {
  const OUTSIDE = "outside the town, not gtd's\n";

  function withMirror() {
    const mirrored: string[] = [];
    const fl = createFileLog({ path: logPath, maxBytes: 1_000_000, files: 3, clock: clockAt(2026, 11, 25, 12, 9, 13), mirror: (l) => mirrored.push(l) });
    return { ...fl, mirrored };
  }

  test("a symlink to a file outside: never appended to; one warning, then the mirror only", () => {
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, OUTSIDE);
    const { log, mirrored } = withMirror();
    symlinkSync(outside, logPath);
    log("one");
    log("two");
    expect(readFileSync(outside, "utf8")).toBe(OUTSIDE);
    expect(mirrored).toEqual([
      `${STAMP} one\n`,
      `${STAMP} Warning: not writing to the log: ${logPath} is a symbolic link; only to stderr until it is replaced by a regular file\n`,
      `${STAMP} two\n`,
    ]);
  });

  test("once the link is replaced by a regular file, the log resumes and says so", () => {
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, OUTSIDE);
    const { log } = withMirror();
    symlinkSync(outside, logPath);
    log("while linked");
    rmSync(logPath);
    log("back");
    expect(readFileSync(logPath, "utf8")).toBe(`${STAMP} back\n${STAMP} Log file ${logPath} is a regular file again; writing to it\n`);
    expect(readFileSync(outside, "utf8")).toBe(OUTSIDE);
  });

  test("a hard link to a file outside: refused too (its other name could be anywhere)", () => {
    const outside = join(dir, "outside.txt");
    writeFileSync(outside, OUTSIDE);
    const { log, mirrored } = withMirror();
    linkSync(outside, logPath);
    log("x");
    expect(readFileSync(outside, "utf8")).toBe(OUTSIDE);
    expect(mirrored[1]).toContain(`${logPath} is a file with 2 names (a hard link)`);
  });

  test("a FIFO: never blocks, refused", () => {
    mkdirSync(dirname(logPath), { recursive: true });
    expect(Bun.spawnSync(["mkfifo", logPath]).exitCode).toBe(0);
    const { log, mirrored } = withMirror();
    log("x");
    expect(mirrored[1]).toContain(`${logPath} is not a regular file`);
  });
});

describe("time stamps at an explicit UTC offset (minutes east; the default is the local offset at that instant)", () => {
  /** New York's spring change, 2026-03-08: 01:59:59 EST (-05:00), one second later 03:00:00 EDT (-04:00). */
  const BEFORE_DST = Date.UTC(2026, 2, 8, 6, 59, 59);
  const AFTER_DST = BEFORE_DST + 1000;

  test("logLine: the text stamp at the offset; across a DST change each instant has its own", () => {
    expect(logLine("x", BEFORE_DST, 0)).toBe("2026/03/08 06:59:59 x\n");
    expect(logLine("x", BEFORE_DST, -300)).toBe("2026/03/08 01:59:59 x\n");
    expect(logLine("x", AFTER_DST, -240)).toBe("2026/03/08 03:00:00 x\n");
  });

  test("rfc3339Local: that wall clock and the offset that says so, Z at 0", () => {
    const ms = Date.UTC(2026, 10, 30, 22, 49, 6);
    expect(rfc3339Local(ms, 60)).toBe("2026-11-30T23:49:06+01:00");
    expect(rfc3339Local(ms, 0)).toBe("2026-11-30T22:49:06Z");
    expect(rfc3339Local(ms, -210)).toBe("2026-11-30T19:19:06-03:30");
    expect(rfc3339Local(ms, 120)).toBe("2026-12-01T00:49:06+02:00");
    expect(rfc3339Local(BEFORE_DST, -300)).toBe("2026-03-08T01:59:59-05:00");
    expect(rfc3339Local(AFTER_DST, -240)).toBe("2026-03-08T03:00:00-04:00");
  });

  test("without an offset: the local one at each instant (what the daemon writes)", () => {
    for (const ms of [BEFORE_DST, AFTER_DST, Date.UTC(2026, 6, 1), Date.UTC(2026, 11, 1)]) {
      expect(logLine("x", ms)).toBe(logLine("x", ms, localOffsetMin(ms)));
      expect(rfc3339Local(ms)).toBe(rfc3339Local(ms, localOffsetMin(ms)));
      expect(JSON.parse(jsonLogLine("x", ms)).time).toBe(rfc3339Local(ms, localOffsetMin(ms)));
    }
  });
});
