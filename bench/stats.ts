/** Summaries of samples: the median and the 95th percentile (nearest rank), with the sample count. */

export interface Figure {
  median: number;
  p95: number;
  n: number;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: with few samples the p95 is the largest one, never an interpolated value nobody saw.
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function figure(xs: number[]): Figure {
  return { median: round(median(xs)), p95: round(percentile(xs, 95)), n: xs.length };
}

/** Three decimals: results.json stays readable and nothing measured here is finer than a microsecond. */
export function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x;
}
