/**
 * Properties of the LIFECYCLE title parser (src/lifecycle/parse.ts) on thousands of generated titles:
 * it never throws, a well-formed title round-trips, and whatever it hands on as an identity is one the
 * identity rules accept, however hostile the text around it.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { validateIdentity } from "../../src/core/identity.ts";
import { MAX_TITLE_LENGTH, parseLifecycleTitle, type LifecycleAction, type ParsedTitle } from "../../src/core/parse.ts";
import { anyString, hostileString, nearIdentity, randomCase, RUNS, validIdentity } from "./arbitraries.ts";

/** The action words the parser documents, with what each means. */
const WORDS: Array<[string, LifecycleAction]> = [
  ["cycle", "cycle"],
  ["cycling", "cycle"],
  ["restart", "restart"],
  ["restarting", "restart"],
  ["shutdown", "shutdown"],
  ["stop", "shutdown"],
  ["stopping", "shutdown"],
];

/** Whitespace the parser trims and splits on that is not a control character (tab and newline are refused). */
const SPACE = fc.constantFrom(" ", " ", " ", "\u00a0", "\u2003", "\u3000", "\ufeff");
const spaces = (minLength: number) => fc.string({ unit: SPACE, minLength, maxLength: 3 });

/** The identity shape validateIdentity enforces: 1–3 components, letters, digits, `_`, `-`, none starting with `-`. */
const IDENTITY_SHAPE = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\/[A-Za-z0-9_][A-Za-z0-9_-]*){0,2}$/;

function kind(r: ParsedTitle): "ok" | "ignore" | "error" {
  const keys = Object.keys(r).sort().join(",");
  if (keys === "action,identity") return "ok";
  if (keys === "ignore") return "ignore";
  if (keys === "error") return "error";
  throw new Error(`unexpected result shape ${JSON.stringify(r)}`);
}

const wordText = fc.constantFrom(...WORDS.map(([w]) => w), "recycle", "kill", "");
/** Titles from pure noise to near misses: a third of them are accepted, the rest fail for small reasons. */
const anyTitle = fc.oneof(
  anyString,
  anyString.map((s) => `LIFECYCLE:${s}`),
  fc.tuple(hostileString(), hostileString(), wordText, hostileString()).map(([a, b, w, c]) => `lifecycle:${a} ${b} requesting ${w}${c}`),
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom("LIFECYCLE:", "lifecycle: ", "Lifecycle:  "), fc.oneof(validIdentity, nearIdentity), fc.constantFrom(" ", "  ", "\u00a0", ""), wordText, fc.constantFrom("", " ", ". "), hostileString(8))
      .map(([p, id, sp, w, sep, c]) => `${p}${id}${sp}requesting ${w}${sep}${sep ? c : ""}`),
  },
  fc.tuple(fc.constantFrom("LIFECYCLE: ", "LIFECYCLE:"), wordText).map(([p, w]) => `${p}requesting ${w}`),
);
const anySender = fc.option(fc.oneof(anyString, nearIdentity), { nil: undefined });

describe("parseLifecycleTitle on any input", () => {
  test("never throws; always exactly one of identity+action, ignore, error", () => {
    fc.assert(
      fc.property(anyTitle, anySender, (title, sender) => {
        kind(parseLifecycleTitle(title, sender));
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("an error is one short line: no raw control characters, the title cut to a prefix", () => {
    fc.assert(
      fc.property(anyTitle, anySender, (title, sender) => {
        const r = parseLifecycleTitle(title, sender);
        if (!("error" in r)) return;
        expect(r.error).not.toMatch(/[\u0000-\u001f]/);
        expect(r.error.length).toBeLessThanOrEqual(400);
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("whatever garbage surrounds it, an accepted identity passes validateIdentity and is a path- and shell-safe name", () => {
    fc.assert(
      fc.property(anyTitle, anySender, (title, sender) => {
        const r = parseLifecycleTitle(title, sender);
        if (!("identity" in r)) return;
        expect(validateIdentity(r.identity)).toEqual({ ok: true, identity: r.identity });
        expect(r.identity).toMatch(IDENTITY_SHAPE);
        expect(r.identity.length).toBeLessThanOrEqual(64);
        // It came from the title verbatim (case kept) or is the sender.
        expect(title.includes(r.identity) || r.identity === sender).toBe(true);
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("a title that does not start with `lifecycle:` (any case) is ignored, whatever follows", () => {
    const notLifecycle = anyString.filter((s) => s.slice(0, 10).toLowerCase() !== "lifecycle:");
    fc.assert(
      fc.property(notLifecycle, anySender, (title, sender) => {
        expect(parseLifecycleTitle(title, sender)).toEqual({ ignore: true });
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("leading whitespace makes it someone else's mail (ignored), as in the original", () => {
    fc.assert(
      fc.property(fc.constantFrom(" ", "\t", "\n", "\u00a0"), anyString, (lead, rest) => {
        expect(parseLifecycleTitle(`${lead}LIFECYCLE: ${rest}`, "mayor")).toEqual({ ignore: true });
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("a lifecycle title with a control character anywhere, or longer than the limit, is an error", () => {
    const control = fc.constantFrom("\u0000", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085", "\u009f", "\u2028", "\u2029");
    fc.assert(
      fc.property(hostileString(), control, hostileString(), anySender, (a, c, b, sender) => {
        expect(kind(parseLifecycleTitle(`LIFECYCLE: mayor ${a}${c}${b} requesting cycle`, sender))).toBe("error");
      }),
      { numRuns: RUNS.pure },
    );
    fc.assert(
      fc.property(fc.integer({ min: MAX_TITLE_LENGTH + 1, max: 4 * MAX_TITLE_LENGTH }), (n) => {
        const title = `LIFECYCLE: mayor requesting cycle ${"x".repeat(n)}`.slice(0, n);
        expect(kind(parseLifecycleTitle(title))).toBe("error");
      }),
      // 600 possible lengths: 1000 runs cover most of them.
      { numRuns: 1000 },
    );
  });
});

/**
 * A well-formed title in every variant the parser documents: prefix and `requesting` in any case, no
 * space or any spaces after the colon, the action word in any case with trailing punctuation, and
 * trailing words. The identity `requesting` itself cannot be written in a title (the first `requesting`
 * word ends the identity); that is no agent anyway, so it is left out.
 */
const wellFormed = fc
  .record({
    identity: validIdentity.filter((id) => id.toLowerCase() !== "requesting"),
    word: fc.constantFrom(...WORDS),
    prefix: randomCase("lifecycle:"),
    requesting: randomCase("requesting"),
    afterColon: spaces(0),
    beforeRequesting: spaces(1),
    beforeWord: spaces(1),
    punctuation: fc.constantFrom("", ".", "!", ",", ";", "..."),
    trailing: fc.option(fc.tuple(spaces(1), fc.string({ unit: "grapheme", maxLength: 20 })), { nil: undefined }),
    sender: anySender,
  })
  .chain((t) => randomCase(t.word[0]).map((w) => ({ ...t, wordText: w })));

describe("round trip", () => {
  test("a title built from a valid identity and an action word parses back to them (case of the identity kept)", () => {
    fc.assert(
      fc.property(wellFormed, (t) => {
        const tail = t.trailing ? t.trailing[0] + t.trailing[1] : "";
        const title = `${t.prefix}${t.afterColon}${t.identity}${t.beforeRequesting}${t.requesting}${t.beforeWord}${t.wordText}${t.punctuation}${tail}`;
        fc.pre(title.length <= MAX_TITLE_LENGTH && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(title));
        expect(parseLifecycleTitle(title, t.sender)).toEqual({ identity: t.identity, action: t.word[1] });
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("a title that names nobody falls back to the sender, validated the same way", () => {
    fc.assert(
      fc.property(randomCase("lifecycle:"), spaces(0), fc.constantFrom(...WORDS), fc.oneof(validIdentity, anyString), (prefix, sp, [word, action], sender) => {
        const r = parseLifecycleTitle(`${prefix}${sp}requesting ${word}`, sender);
        if (validateIdentity(sender).ok) expect(r).toEqual({ identity: sender, action });
        else expect(kind(r)).toBe("error");
      }),
      { numRuns: RUNS.pure },
    );
  });
});
