/**
 * gtd logs: the last N lines, and follow through rotation. A log file someone replaced (a FIFO never
 * hangs it, nothing is read without bound); follow's rotation cases driven one poll at a time
 * (createFollower), so each step is seen by the follower exactly when the test says, whatever the load.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileLog } from "../../src/log.ts";
import { createFollower, follow, lastLines } from "../../src/log-tail.ts";
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
  // A text stamp read at a given offset keeps its wall clock and says which zone it was.
  expect(JSON.parse(logLineAsJson("2026/11/30 23:49:06 Heartbeat starting", 60)).time).toBe("2026-11-30T23:49:06+01:00");
  expect(JSON.parse(logLineAsJson("2026/03/08 01:59:59 a", -300)).time).toBe("2026-03-08T01:59:59-05:00");
  expect(JSON.parse(logLineAsJson("2026/03/08 03:00:00 b", -240)).time).toBe("2026-03-08T03:00:00-04:00");
  // Huge data is left out; the message says what happened.
  expect(JSON.parse(jsonLogLine("x", ms, "e", { big: "y".repeat(10_000) })).data).toBeUndefined();
});

describe("lastLines", () => {
  test("a small file: the last n lines, and all of them when n is larger", () => {
    writeFileSync(join(dir, "s.log"), "a\nb\nc\n");
    expect(lastLines(join(dir, "s.log"), 2)).toEqual(["b", "c"]);
    expect(lastLines(join(dir, "s.log"), 3)).toEqual(["a", "b", "c"]);
    expect(lastLines(join(dir, "s.log"), 50)).toEqual(["a", "b", "c"]);
  });

  test("a last line without a newline counts", () => {
    writeFileSync(join(dir, "s.log"), "a\nb\nc");
    expect(lastLines(join(dir, "s.log"), 2)).toEqual(["b", "c"]);
  });

  test("n = 0 gives nothing; a missing or empty file gives nothing", () => {
    writeFileSync(join(dir, "s.log"), "a\nb\n");
    expect(lastLines(join(dir, "s.log"), 0)).toEqual([]);
    expect(lastLines(join(dir, "none.log"), 10)).toEqual([]);
    writeFileSync(join(dir, "empty.log"), "");
    expect(lastLines(join(dir, "empty.log"), 10)).toEqual([]);
  });

  test("a large file (> 64 KB): last lines across chunk boundaries, and n larger than the file", () => {
    const all = Array.from({ length: 8000 }, (_, i) => `2026/11/25 12:09:13 line ${String(i).padStart(5, "0")}`);
    const path = join(dir, "big.log");
    writeFileSync(path, `${all.join("\n")}\n`);
    expect(statSync(path).size).toBeGreaterThan(3 * 64 * 1024);
    expect(lastLines(path, 3)).toEqual(all.slice(-3));
    expect(lastLines(path, 4000)).toEqual(all.slice(-4000));
    expect(lastLines(path, 2185)).toEqual(all.slice(-2185));
    expect(lastLines(path, 10_000)).toEqual(all);
  });

  test("a multi-byte character on a chunk boundary is not mangled", () => {
    const path = join(dir, "utf8.log");
    // The last 65536 bytes begin with the second byte of "µ" (2 bytes in UTF-8).
    writeFileSync(path, `Poked Deacon (backoff now: 250µs)\nx µ${"x".repeat(65534)}\n`);
    const [first, second] = lastLines(path, 2);
    expect(first).toBe("Poked Deacon (backoff now: 250µs)");
    expect(second).toBe(`x µ${"x".repeat(65534)}`);
  });
});

/** Follow `path` (5 ms polls) while `body` runs, `out()` being all printed so far; the follow always ends. */
async function whileFollowing(path: string, body: (out: () => string) => Promise<void>): Promise<void> {
  let out = "";
  const stop = new AbortController();
  const done = follow(path, (s) => (out += s), stop.signal, 5);
  try {
    await body(() => out);
  } finally {
    stop.abort();
    await done;
  }
}

/** Append `text` to `path` and wait until the follow has printed it. */
async function appendSeen(path: string, out: () => string, text: string, what: string): Promise<void> {
  appendFileSync(path, text);
  await waitFor(() => out().includes(text), { what });
}

describe("follow (polling on a timer)", () => {
  test("prints what is appended, not what was there before", async () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "old line\n");
    await whileFollowing(path, async (out) => {
      await appendSeen(path, out, "new 1\n", "first appended line");
      await appendSeen(path, out, "new 2\n", "second appended line");
      expect(out()).toBe("new 1\nnew 2\n");
    });
  });

  test("survives a rotation: rename + new file", async () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "");
    await whileFollowing(path, async (out) => {
      await appendSeen(path, out, "before rotation\n", "line before rotation");
      renameSync(path, `${path}.1`);
      writeFileSync(path, "after rotation\n");
      await waitFor(() => out().includes("after rotation\n"), { what: "line after rotation" });
      await appendSeen(path, out, "and more\n", "line appended after rotation");
      expect(out()).toBe("before rotation\nafter rotation\nand more\n");
    });
  });

  test("survives truncation in place", async () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "0123456789\n");
    await whileFollowing(path, async (out) => {
      appendFileSync(path, "x\n");
      await waitFor(() => out() === "x\n", { what: "x" });
      writeFileSync(path, "y\n");
      await waitFor(() => out().endsWith("y\n"), { what: "y after truncation" });
      expect(out()).toBe("x\ny\n");
    });
  });

  test("waits for a log that does not exist yet, then prints it from the start", async () => {
    const path = join(dir, "later.log");
    await whileFollowing(path, async (out) => {
      writeFileSync(path, "first\n");
      await waitFor(() => out() === "first\n", { what: "the new file's content" });
    });
  });

  test("abort ends follow", async () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "");
    const stop = new AbortController();
    const done = follow(path, () => {}, stop.signal, 5);
    stop.abort();
    await done;
  });
});

/** A follower of `path` stepped by hand: `poll()` runs one poll and returns what it printed. */
function stepped(path: string) {
  let out = "";
  const follower = createFollower(path, (s) => (out += s));
  return {
    poll(): string {
      const before = out.length;
      follower.poll();
      return out.slice(before);
    },
    out: () => out,
    close: () => follower.close(),
  };
}

describe("follow, one poll at a time", () => {
  test("starts at the current end; each poll prints what was appended since the last", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "old line\n");
    const f = stepped(path);
    expect(f.poll()).toBe("");
    appendFileSync(path, "new 1\n");
    appendFileSync(path, "new 2\n");
    expect(f.poll()).toBe("new 1\nnew 2\n");
    expect(f.poll()).toBe("");
    f.close();
  });

  test("lines written just before a rotation are printed before the new file's (the old one is read to its end first)", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "");
    const f = stepped(path);
    appendFileSync(path, "last of the old file\n");
    renameSync(path, `${path}.1`);
    writeFileSync(path, "first of the new file\n");
    // Before: the poll moved to the new file at once, and the old file's last line was never printed.
    expect(f.poll()).toBe("last of the old file\nfirst of the new file\n");
    appendFileSync(path, "and more\n");
    expect(f.poll()).toBe("and more\n");
    f.close();
  });

  test("a file that came and went between two polls: the held one is finished, the one at the path read from its start", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "");
    const f = stepped(path);
    appendFileSync(path, "one\n");
    expect(f.poll()).toBe("one\n");
    const held = statSync(path).ino;
    appendFileSync(path, "two\n");
    renameSync(path, `${path}.1`);
    writeFileSync(path, "three\n");
    // The held file is renamed over: it has no name left. Before, nothing held it open, so its inode was
    // free, and ext4 hands a freed inode to the next file: the new log then passed for the held file and
    // was read from the held file's offset ("\nfive\n" here), losing "two" and "four".
    renameSync(path, `${path}.1`);
    writeFileSync(path, "four\nfive\n");
    // "three" was at the path only between two polls; follow reads the path, never the rotated names.
    expect(f.poll()).toBe("two\nfour\nfive\n");
    expect(f.out()).toBe("one\ntwo\nfour\nfive\n");
    expect(statSync(path).ino).not.toBe(held); // held open until now, so not handed to the new file
    f.close();
  });

  test("one file kept (unlink, then a new file): the rest of the old file, then the new from its start", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "a\n");
    const f = stepped(path);
    appendFileSync(path, "b\n");
    unlinkSync(path);
    expect(f.poll()).toBe("b\n"); // no file at the path for now: the held one is still read
    writeFileSync(path, "c\nd\ne\n");
    expect(f.poll()).toBe("c\nd\ne\n");
    f.close();
  });

  test("truncation in place: from the top again", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "0123456789\n");
    const f = stepped(path);
    writeFileSync(path, "y\n");
    expect(f.poll()).toBe("y\n");
    f.close();
  });

  test("a log that does not exist yet is printed from its start once it does", () => {
    const path = join(dir, "later.log");
    const f = stepped(path);
    expect(f.poll()).toBe("");
    writeFileSync(path, "first\n");
    expect(f.poll()).toBe("first\n");
    f.close();
  });

  test("more than a chunk before a rotation: one chunk a poll, the old file finished before the new one, a character cut by a chunk boundary whole", () => {
    const path = join(dir, "f.log");
    writeFileSync(path, "");
    const f = stepped(path);
    // 1 MiB a poll: the "µ" (2 bytes) straddles the first chunk's end.
    const big = `${"x".repeat(1024 * 1024 - 1)}µ${"y".repeat(1024 * 1024)}\n`;
    appendFileSync(path, big);
    renameSync(path, `${path}.1`);
    writeFileSync(path, "new\n");
    const polls = [f.poll(), f.poll(), f.poll()];
    expect(polls[0]).toBe("x".repeat(1024 * 1024 - 1));
    expect(polls[2]).toEndWith("\nnew\n");
    expect(f.out()).toBe(`${big}new\n`);
    f.close();
  });

  test("a real FileLog's rotations, several lines logged between polls: none lost while one rotation separates two polls", () => {
    const logPath = join(dir, "daemon", "daemon.log");
    const at = new Date(2026, 10, 25, 12, 9, 13).getTime();
    const stamp = "2026/11/25 12:09:13";
    // 27 bytes a line ("2026/11/25 12:09:13 msg-NN\n"); 60 bytes hold two, so every second line rotates.
    const { log } = createFileLog({ path: logPath, maxBytes: 60, files: 3, clock: { now: () => at } });
    log("msg-01");
    const f = stepped(logPath);
    log("msg-02");
    log("msg-03"); // rotates: msg-02 is now in daemon.log.1 only
    expect(existsSync(`${logPath}.1`)).toBe(true);
    expect(f.poll()).toBe(`${stamp} msg-02\n${stamp} msg-03\n`);
    for (let i = 4; i <= 9; i++) {
      log(`msg-0${i}`);
      expect(f.poll()).toBe(`${stamp} msg-0${i}\n`);
    }
    f.close();
  });
});

/** The storm: another process rotating the log as fast as it can, until `stop` exists. */
const STORM = `const fs = require("node:fs");
const [path, stop] = [process.argv[2], process.argv[3]];
for (let i = 0; !fs.existsSync(stop); i++) {
  fs.appendFileSync(path, "storm " + i + "\\n");
  fs.renameSync(path, path + ".1");
  fs.writeFileSync(path, "fresh " + i + "\\n");
}
`;

/** A storm line's place in the storm: rotation i writes "storm i" to the old file, then "fresh i" to the new. */
function stormOrder(line: string): number | null {
  const m = /^(storm|fresh) (\d+)$/.exec(line);
  return m ? 2 * Number(m[2]) + (m[1] === "fresh" ? 1 : 0) : null;
}

test("a rotation storm in another process: follow never throws, prints only whole lines in order, and the line appended after it", async () => {
  const path = join(dir, "storm.log");
  const stop = join(dir, "stop");
  const script = join(dir, "storm.js");
  writeFileSync(path, "");
  writeFileSync(script, STORM);
  const f = stepped(path);
  // A separate process, so its renames land between this poll's own fs calls (here they could not).
  const storm = Bun.spawn([process.execPath, script, path, stop], { stderr: "pipe" });
  try {
    // Poll, ten polls back to back per probe, until the follower has moved through 200 of the storm's
    // files (a poll moves at most one file on): 200 times a rotation landed between two polls. On a loaded
    // machine that takes longer, never fails: it counts overlaps, not milliseconds.
    let filesSeen = 0;
    await waitFor(
      () => {
        for (let i = 0; i < 10; i++) if (f.poll().includes("fresh ")) filesSeen++;
        return filesSeen >= 200;
      },
      { intervalMs: 0, timeoutMs: 100_000, what: "the follower through 200 of the storm's rotations" },
    );
  } finally {
    writeFileSync(stop, "");
  }
  expect(await storm.exited).toBe(0);
  // The storm is over: one poll finishes the file held and reaches the one at the path, from wherever the
  // storm left the follower.
  appendFileSync(path, "after the storm\n");
  f.poll();
  expect(f.out()).toEndWith("\nafter the storm\n");
  const lines = f.out().trimEnd().split("\n");
  expect(lines.pop()).toBe("after the storm");
  // Whole lines only, each later in the storm than the one before (none half read, none twice).
  const order = lines.map(stormOrder);
  expect(order.filter((o) => o === null)).toEqual([]);
  for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
  f.close();
}, 120_000);
