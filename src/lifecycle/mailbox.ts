/**
 * The mailbox port over a command line (`bd mail …` by default, `gt mail …` by config). Commands are
 * argv arrays from config; values are put in as argv elements, so no shell ever parses mail text.
 *
 * Fixes against the original (reference §7.1–7.2): inbox failures are errors the caller logs (defect
 * #6, the original returned silently); one malformed message is skipped, not the whole batch (Go's
 * decoder gave up on `"priority":"P1"`); every call has a timeout (defect #25).
 */
import * as v from "valibot";
import { GtdError } from "../errors.ts";
import type { InboxResult, MailboxPort, MailMessage } from "../ports.ts";
import { describeFailure, type RunResult, type Runner } from "../proc.ts";
import { describeIssues } from "../store.ts";
import { quote } from "../quote.ts";
import { messageIdProblem } from "../core/message-id.ts";

export interface MailboxOptions {
  inbox: string[];
  close: string[];
  send: string[];
  /** The town root: bd finds its database from the working directory. */
  cwd: string;
  timeoutMs: number;
  run: Runner;
  /** Merged over the daemon's environment (e.g. a PATH that finds bd under launchd). */
  env?: Record<string, string | undefined>;
}

export { messageIdProblem };

const optionalText = v.optional(v.nullable(v.string()));

/** One inbox entry. Other fields (description, priority of any type, labels, …) are ignored. */
const MessageSchema = v.looseObject({
  id: v.pipe(v.string(), v.minLength(1, "must be a non-empty string")),
  title: v.string(),
  sender: optionalText,
  status: optionalText,
  created_at: optionalText,
});

const PLACEHOLDER = /\{(id|to|subject|body)\}/g;

/**
 * Fill `{id}`, `{to}`, `{subject}`, `{body}` in an argv template. Each element is substituted on its own
 * (an element `{body}` becomes the whole body, `--id={id}` becomes `--id=<id>`) in one pass, so text in a
 * value that looks like a placeholder is never expanded again. Unknown `{x}` stays as written.
 */
export function fillArgv(template: readonly string[], values: Partial<Record<"id" | "to" | "subject" | "body", string>>): string[] {
  return template.map((arg) =>
    arg.replace(PLACEHOLDER, (whole, name: "id" | "to" | "subject" | "body") => values[name] ?? whole),
  );
}

/** Control characters out, length capped: command output quoted in a one-line log message. */
function snippet(text: string, max = 80): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Decode the inbox command's stdout. Empty, `null` and `[]` mean no mail. Output that is not a JSON
 * array throws (the whole read failed); an element that does not fit is reported in `skipped`
 * (`message 2: id: …`, counting from 1) and the other messages are still returned.
 */
export function parseInbox(stdout: string): InboxResult {
  const text = stdout.trim();
  if (text === "" || text === "null" || text === "[]") return { messages: [], skipped: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new GtdError("MAILBOX", `inbox output is not JSON: ${snippet(text)}`);
  }
  if (raw === null) return { messages: [], skipped: [] };
  if (!Array.isArray(raw)) {
    throw new GtdError("MAILBOX", `inbox output is not a JSON array: ${snippet(text)}`);
  }
  const messages: MailMessage[] = [];
  const skipped: string[] = [];
  raw.forEach((item, i) => {
    const n = i + 1;
    const parsed = v.safeParse(MessageSchema, item);
    if (!parsed.success) {
      skipped.push(`message ${n}: ${describeIssues(parsed.issues)}`);
      return;
    }
    const m = parsed.output;
    const bad = messageIdProblem(m.id);
    if (bad) {
      skipped.push(`message ${n}: id: ${bad}`);
      return;
    }
    messages.push({
      id: m.id,
      title: m.title,
      sender: m.sender ?? undefined,
      status: m.status ?? undefined,
      created_at: m.created_at ?? undefined,
    });
  });
  return { messages, skipped };
}

function checkTemplate(what: string, argv: readonly string[]): void {
  if (argv.length === 0 || !argv[0]) throw new GtdError("CONFIG", `mailbox.${what} command is empty`);
}

export function createMailbox(opts: MailboxOptions): MailboxPort {
  checkTemplate("inbox", opts.inbox);
  checkTemplate("close", opts.close);
  checkTemplate("send", opts.send);

  async function run(what: string, argv: string[], signal?: AbortSignal): Promise<RunResult> {
    const result = await opts.run(argv, {
      cwd: opts.cwd,
      timeoutMs: opts.timeoutMs,
      ...(opts.env ? { env: opts.env } : {}),
      ...(signal ? { signal } : {}),
    });
    if (result.code !== 0) {
      // Name the command as configured (template, not filled in): mail text stays out of log lines.
      const hint = result.notFound ? `is ${argv[0]} on PATH? the command is set by mailbox.${what}` : undefined;
      throw new GtdError("MAILBOX", `mailbox ${what} (${templateText(what)}) failed: ${describeFailure(result, opts.timeoutMs)}`, hint);
    }
    return result;
  }

  function templateText(what: string): string {
    const t = what === "inbox" ? opts.inbox : what === "close" ? opts.close : opts.send;
    return snippet(t.join(" "), 120);
  }

  return {
    async inbox(signal) {
      const result = await run("inbox", [...opts.inbox], signal);
      return parseInbox(result.stdout);
    },

    async close(id, signal) {
      // Checked again here: close may be called with an id that did not come through parseInbox.
      const bad = messageIdProblem(id);
      if (bad) throw new GtdError("MAILBOX", `not closing message: ${bad}`);
      await run("close", fillArgv(opts.close, { id }), signal);
    },

    async send(to, subject, body, signal) {
      // `to` is usually a separate argument before the flags; a leading `-` would be taken as a flag.
      if (to === "" || to.startsWith("-") || /[\u0000-\u001f\u007f]/.test(to)) {
        throw new GtdError("MAILBOX", `invalid mail recipient ${quote(to)}`);
      }
      await run("send", fillArgv(opts.send, { to, subject, body }), signal);
    },
  };
}
