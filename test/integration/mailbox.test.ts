/**
 * The command-line mailbox against the fake `bd` in test/fixtures/bin (real processes, real runner).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defaultConfig } from "../../src/config/index.ts";
import { GtdError } from "../../src/errors.ts";
import { createMailbox, fillArgv, type MailboxOptions } from "../../src/lifecycle/mailbox.ts";
import type { MailboxPort } from "../../src/ports.ts";
import { runCommand } from "../../src/proc.ts";
import { readFakeLog } from "../helpers/fake-log.ts";
import { waitFor } from "../helpers/wait.ts";

const FAKE_BIN = resolve(import.meta.dir, "../fixtures/bin");

let town: string;
let inboxFile: string;
let logFile: string;
let env: Record<string, string | undefined>;

beforeEach(() => {
  town = realpathSync(mkdtempSync(join(tmpdir(), "gtd-mailbox-")));
  mkdirSync(join(town, "mayor"));
  inboxFile = join(town, "inbox.json");
  logFile = join(town, "bd.log");
  env = {
    PATH: `${FAKE_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    FAKE_BD_LOG: logFile,
    FAKE_BD_INBOX: inboxFile,
    FAKE_BD_INBOX_RC: "",
    FAKE_BD_CLOSE_RC: "",
    FAKE_BD_SLEEP: "",
  };
});
afterEach(() => rmSync(town, { recursive: true, force: true }));

function mailbox(over: Partial<MailboxOptions> = {}): MailboxPort {
  const cfg = defaultConfig().mailbox;
  return createMailbox({
    inbox: cfg.inbox,
    close: cfg.close,
    send: cfg.send,
    cwd: town,
    timeoutMs: 5000,
    run: runCommand,
    env,
    ...over,
  });
}

const inbox = (json: unknown) => writeFileSync(inboxFile, typeof json === "string" ? json : JSON.stringify(json, null, 2) + "\n");

async function mailboxError(p: Promise<unknown>): Promise<GtdError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GtdError);
    expect((err as GtdError).code).toBe("MAILBOX");
    expect((err as GtdError).message).not.toContain("\n");
    return err as GtdError;
  }
  throw new Error("expected a MAILBOX error");
}

describe("inbox", () => {
  test("runs `bd mail inbox --identity deacon/ --json` in the town root", async () => {
    inbox([]);
    await mailbox().inbox();
    expect(readFakeLog(logFile)).toEqual([{ argv: ["mail", "inbox", "--identity", "deacon/", "--json"], cwd: town }]);
  });

  test.each([
    ["no fixture (bd prints null)", null],
    ["null", "null\n"],
    ["[]", "[]\n"],
    ["empty output", ""],
    ["whitespace", "  \n\n"],
  ])("%s → no messages", async (_what, content) => {
    if (content !== null) inbox(content);
    expect(await mailbox().inbox()).toEqual({ messages: [], skipped: [] });
  });

  test("bd's real output shape, with a string priority tolerated", async () => {
    inbox([
      {
        id: "gt-abc12",
        title: "LIFECYCLE: mayor requesting cycle",
        description: "Lifecycle request from mayor.",
        sender: "mayor",
        assignee: "deacon/",
        priority: "P1",
        status: "open",
        created_at: "2025-12-20T18:23:00Z",
        labels: ["x"],
      },
      { id: "gt-2", title: "hello", priority: 2 },
    ]);
    expect(await mailbox().inbox()).toEqual({
      messages: [
        { id: "gt-abc12", title: "LIFECYCLE: mayor requesting cycle", sender: "mayor", status: "open", created_at: "2025-12-20T18:23:00Z" },
        { id: "gt-2", title: "hello", sender: undefined, status: undefined, created_at: undefined },
      ],
      skipped: [],
    });
  });

  test("one malformed message among good ones is skipped with a reason; the rest are kept", async () => {
    inbox([
      { id: "a-1", title: "first" },
      { id: 7, title: "numeric id" },
      { id: "a-3" },
      "not an object",
      { id: "-rf", title: "flag-looking id" },
      { id: "a b", title: "space in id" },
      { id: "", title: "empty id" },
      { id: "a-8", title: "last", sender: null },
    ]);
    const result = await mailbox().inbox();
    expect(result.messages.map((m) => m.id)).toEqual(["a-1", "a-8"]);
    expect(result.skipped).toHaveLength(6);
    expect(result.skipped[0]).toMatch(/^message 2: id: /);
    expect(result.skipped[1]).toMatch(/^message 3: title: /);
    expect(result.skipped[2]).toMatch(/^message 4: /);
    expect(result.skipped[3]).toMatch(/^message 5: id: invalid message id "-rf"/);
    expect(result.skipped[4]).toMatch(/^message 6: id: invalid message id/);
    expect(result.skipped[5]).toMatch(/^message 7: id: /);
    for (const line of result.skipped) expect(line).not.toContain("\n");
  });

  test("non-JSON output is an error quoting the start of it", async () => {
    inbox("xyz not json\nsecond line");
    const err = await mailboxError(mailbox().inbox());
    expect(err.message).toBe("inbox output is not JSON: xyz not json second line");
  });

  test("long non-JSON output is cut to 80 characters", async () => {
    inbox("x".repeat(500));
    const err = await mailboxError(mailbox().inbox());
    expect(err.message).toBe(`inbox output is not JSON: ${"x".repeat(80)}…`);
  });

  test("a JSON value that is not an array is an error", async () => {
    inbox({ id: "a", title: "b" });
    const err = await mailboxError(mailbox().inbox());
    expect(err.message).toMatch(/^inbox output is not a JSON array/);
  });

  test("non-zero exit: names the command and the failure", async () => {
    env.FAKE_BD_INBOX_RC = "3";
    const err = await mailboxError(mailbox().inbox());
    expect(err.message).toBe(
      "mailbox inbox (bd mail inbox --identity deacon/ --json) failed: exit status 3: Error: fake bd mail inbox failed (rc 3)",
    );
  });

  test("missing command", async () => {
    const err = await mailboxError(mailbox({ inbox: ["gtd-test-no-such-command", "mail", "inbox"] }).inbox());
    expect(err.message).toMatch(/^mailbox inbox \(gtd-test-no-such-command mail inbox\) failed: command not found/);
    expect(err.hint).toContain("mailbox.inbox");
  });

  // A bd that would sleep for ten minutes: the call can only end by the timeout or the abort, never by bd
  // finishing, so its ending at all is the assertion (no clock reading: a loaded machine cannot fail it).
  const HUNG_BD_SECONDS = "600";

  test("a hung bd is cut at the timeout, not waited for", async () => {
    env.FAKE_BD_SLEEP = HUNG_BD_SECONDS;
    const err = await mailboxError(mailbox({ timeoutMs: 300 }).inbox());
    expect(err.message).toMatch(/failed: timed out after 300ms$/);
  });

  test("an abort signal stops the call while bd hangs", async () => {
    env.FAKE_BD_SLEEP = HUNG_BD_SECONDS;
    const ac = new AbortController();
    const call = mailboxError(mailbox().inbox(ac.signal));
    // Abort once bd is running (its first act is to record the call), not after a guessed delay.
    await waitFor(() => readFakeLog(logFile).length === 1, { what: "the fake bd to start" });
    ac.abort();
    const err = await call;
    expect(err.message).toBe("mailbox inbox (bd mail inbox --identity deacon/ --json) failed: killed");
  });
});

describe("close", () => {
  test("`bd close <id>` in the town root; the message leaves the inbox", async () => {
    inbox([
      { id: "gt-1", title: "a" },
      { id: "gt-2", title: "b" },
    ]);
    const box = mailbox();
    await box.close("gt-1");
    expect(readFakeLog(logFile)).toEqual([{ argv: ["close", "gt-1"], cwd: town }]);
    expect((await box.inbox()).messages.map((m) => m.id)).toEqual(["gt-2"]);
  });

  test("a failing close throws with the failure", async () => {
    env.FAKE_BD_CLOSE_RC = "1";
    const err = await mailboxError(mailbox().close("gt-1"));
    expect(err.message).toMatch(/^mailbox close \(bd close \{id\}\) failed: exit status 1/);
  });

  test.each(["-rf", "--all", "a b", "$(touch x)", "a;b", "", "x".repeat(129), "a\nb"])(
    "an id like %p is refused before any command runs",
    async (id) => {
      await mailboxError(mailbox().close(id));
      expect(readFakeLog(logFile)).toEqual([]);
    },
  );
});

describe("send", () => {
  test("mail text arrives as literal arguments, never through a shell", async () => {
    const subject = "LIFECYCLE: $(touch pwned1) requesting cycle; touch pwned2";
    const body = "line 1\n`touch pwned3`\t'quoted' \"double\" \\ back\n$HOME && rm -rf ~ | cat > pwned4";
    await mailbox().send("deacon/", subject, body);
    expect(readFakeLog(logFile)).toEqual([{ argv: ["mail", "send", "deacon/", "-s", subject, "-m", body], cwd: town }]);
    for (const f of ["pwned1", "pwned2", "pwned3", "pwned4"]) expect(existsSync(join(town, f))).toBe(false);
  });

  test("placeholders inside values are not expanded again", async () => {
    await mailbox().send("deacon/", "{body}", "{to} {id}");
    expect(readFakeLog(logFile)[0]!.argv).toEqual(["mail", "send", "deacon/", "-s", "{body}", "-m", "{to} {id}"]);
  });

  test("a recipient that would read as a flag is refused", async () => {
    await mailboxError(mailbox().send("-x", "s", "b"));
    await mailboxError(mailbox().send("", "s", "b"));
    expect(readFakeLog(logFile)).toEqual([]);
  });

  test("a failing send throws", async () => {
    env.FAKE_BD_SEND_RC = "2";
    const err = await mailboxError(mailbox().send("deacon/", "s", "b"));
    expect(err.message).toMatch(/exit status 2/);
  });
});

describe("fillArgv", () => {
  test("whole elements and embedded placeholders; unknown ones stay", () => {
    expect(fillArgv(["gt", "mail", "close", "--id={id}", "{id}", "{other}", "{ID}"], { id: "gt-1" })).toEqual([
      "gt",
      "mail",
      "close",
      "--id=gt-1",
      "gt-1",
      "{other}",
      "{ID}",
    ]);
  });

  test("a value is one element even with spaces", () => {
    expect(fillArgv(["x", "{subject}"], { subject: "a b  c" })).toEqual(["x", "a b  c"]);
  });
});
