import { GtdError } from "./errors.ts";
import { quote } from "./quote.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse `250ms`, `30s`, `5m`, `1h`, `1h30m`, `1.5s` into milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  // 309 nines overflow to Infinity; past 2^53 ms (285,000 years) no timer or Go duration means anything.
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : null;
}

/** Like parseDuration, but a bad value is a GtdError naming the field. */
export function requireDuration(text: string, field: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new GtdError("CONFIG", `${field}: ${quote(text)} is not a duration`, "use a number with a unit: 250ms, 30s, 5m, 1h");
  }
  return ms;
}

/**
 * Format milliseconds the way Go's time.Duration.String() does (`5m0s`, `7m30s`, `16m52.5s`, `250ms`),
 * because the original's log lines carry Go durations and users grep for them.
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  // Work in whole nanoseconds as Go does; truncation matches Go's integer Duration.
  let ns = BigInt(Math.round(Math.abs(ms) * 1e6));
  let out: string;
  if (ns < 1_000_000_000n) {
    if (ns < 1000n) out = `${ns}ns`;
    else if (ns < 1_000_000n) out = `${trimFraction(ns, 1000n)}µs`;
    else out = `${trimFraction(ns, 1_000_000n)}ms`;
  } else {
    const h = ns / 3_600_000_000_000n;
    ns -= h * 3_600_000_000_000n;
    const m = ns / 60_000_000_000n;
    ns -= m * 60_000_000_000n;
    out = `${trimFraction(ns, 1_000_000_000n)}s`;
    if (h > 0n || m > 0n) out = `${m}m${out}`;
    if (h > 0n) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const frac = value % unit;
  if (frac === 0n) return `${whole}`;
  const digits = unit.toString().length - 1;
  const f = frac.toString().padStart(digits, "0").replace(/0+$/, "");
  return `${whole}.${f}`;
}
