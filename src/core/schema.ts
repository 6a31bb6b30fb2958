/**
 * The schema pieces every file reader shares: the one RFC 3339 time schema (Go's RFC3339Nano, as the
 * original writes it; the zero time `0001-01-01T00:00:00Z` stands for "never") and the one-line issue text.
 */
import * as v from "valibot";
import { parseGoTime } from "../gotime.ts";
import { describeIssues } from "../issues.ts";

/** An RFC 3339 time, kept as written (slot files rewrite sent_at byte for byte). */
export const GoTimeText = v.pipe(
  v.string(),
  v.check((s) => parseGoTime(s) !== undefined, "expected an RFC3339 time"),
);

/** An RFC 3339 time as epoch ms; the zero time is null. */
export const GoTime = v.pipe(
  GoTimeText,
  v.transform((s) => parseGoTime(s) ?? null),
);

/** An RFC 3339 time that must be a real instant (the zero time is refused). */
export const GoInstant = v.pipe(GoTime, v.number("expected an RFC3339 time"));

export { describeIssues };
