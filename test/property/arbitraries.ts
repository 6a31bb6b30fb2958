/**
 * Generators shared by the property tests: identities that must be accepted, text that must be
 * refused, and hostile strings (control characters, lone surrogates, path and shell syntax).
 */
import fc from "fast-check";
import { accessSync, constants, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_IDENTITY_LENGTH } from "../../src/core/identity.ts";

/**
 * numRuns per property: thousands of inputs each. 5000 for pure functions; 2000 where a run writes a
 * config file; 1000 where it writes and fsyncs several files or runs whole heartbeats. So the property
 * suite costs about 12 s of CPU on a 2-core machine (more wall time when the machine is shared).
 */
export const RUNS = { pure: 5000, io: 2000, disk: 1000 } as const;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const WORD = `${LOWER}${LOWER.toUpperCase()}0123456789_`;
const firstChar = fc.constantFrom(...WORD.split(""));
const restChar = fc.constantFrom(...`${WORD}-`.split(""));

/** One identity component: letters, digits, `_`, `-`, not starting with `-` (the identity rule). */
export const component = (maxLength = 12) =>
  fc.tuple(firstChar, fc.string({ unit: restChar, maxLength: maxLength - 1 })).map(([a, b]) => a + b);

/** Any text validateIdentity accepts: one to three components joined by `/`, at most 64 characters. */
export const validIdentity = fc
  .array(component(), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("/"))
  .filter((s) => s.length <= MAX_IDENTITY_LENGTH);

/** Characters an attacker would reach for: path syntax, shell syntax, tmux's rewritten `.` and `:`. */
const NASTY = [".", "..", "/", "\\", "$", "`", ";", "&", "|", "(", ")", "#", "{", "}", ":", "'", '"', " ", "\t", "\n", "\r", "\u0000", "\u001b", "\u007f", "\u0085", "\u00a0", "\u2028", "\u2029", "\u3000", "\ufeff", "-", "--", "~", "*", "?", "%", "é", "İ", "ß", "\u{1f431}"];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** One unit of hostile text: mostly identity characters, often something dangerous. */
export const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: restChar },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
);
export const hostileString = (maxLength = 40) => fc.string({ unit: hostileUnit, maxLength });

/**
 * Text near the identity boundary: a valid identity with up to three edits (a character inserted or
 * replaced by something an identity must not hold, or a component emptied), so that a good share is
 * still accepted and the rest fails for one small reason.
 */
const EDIT_CHARS = [".", "..", "/", "//", "-", " ", "\u00a0", ":", "\\", "é", "\u0000", "\n", "$", "~", "*", "\u200b"];
export const nearIdentity = fc
  .tuple(
    validIdentity,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...EDIT_CHARS), fc.constantFrom("insert", "replace", "prefix", "suffix")), { maxLength: 3 }),
  )
  .map(([id, edits]) => {
    let s = id;
    for (const [at, c, how] of edits) {
      const i = at % (s.length + 1);
      if (how === "insert") s = s.slice(0, i) + c + s.slice(i);
      else if (how === "replace") s = s.slice(0, i) + c + s.slice(i + 1);
      else if (how === "prefix") s = c + s;
      else s = s + c;
    }
    return s;
  });

/** Any string at all: full Unicode, ASCII controls, lone surrogates and the hostile mix. */
export const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "binary-ascii", maxLength: 80 }),
  fc.string({ unit: fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }), loneSurrogate), maxLength: 40 }),
  hostileString(80),
);

/** Each letter's case flipped at random. */
export const randomCase = (s: string) => fc.mixedCase(fc.constant(s));

/**
 * A temp directory for a property's files, on tmpfs when there is one: a property writes (and fsyncs)
 * thousands of files, which on a loaded disk costs seconds and proves nothing more. Remove it after.
 */
export function propertyTempDir(prefix: string): string {
  let base = tmpdir();
  try {
    accessSync("/dev/shm", constants.W_OK);
    if (statSync("/dev/shm").isDirectory()) base = "/dev/shm";
  } catch {
    // No tmpfs: the ordinary temp directory.
  }
  return mkdtempSync(join(base, prefix));
}
