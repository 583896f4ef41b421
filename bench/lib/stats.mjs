// Order statistics and number formatting for the benchmark tables. Inputs are plain arrays of
// numbers (microseconds, ops/s, bytes); nothing here measures time.

/** The q-quantile (0..1) of `values` by nearest rank on a sorted copy. NaN for an empty input. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => quantile(values, 0.5);
export const p99 = (values) => quantile(values, 0.99);

/** "12.3" / "1,234" style: three significant digits below 100, grouped integers above. */
export function fmtNum(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m));
}

/** How many times faster `fast` is than `slow` (both latencies, lower is better). */
export function speedup(fast, slow) {
  return fast > 0 && slow > 0 ? slow / fast : Number.NaN;
}

/** "42.1x" with two to three significant digits; "—" when unknown. */
export function fmtRatio(ratio) {
  if (!Number.isFinite(ratio)) return '—';
  return `${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : ratio.toPrecision(3)}x`;
}

/** Summarises one round: per-transition latencies (us) plus the wall time of the whole round. */
export function summariseRound(latenciesUs, wallMs) {
  return {
    n: latenciesUs.length,
    medianUs: median(latenciesUs),
    p99Us: p99(latenciesUs),
    opsPerSec: wallMs > 0 ? (latenciesUs.length * 1000) / wallMs : Number.NaN,
  };
}

/**
 * Combines rounds that ran interleaved with other subjects: the median of each round figure, so
 * one round disturbed by a neighbour on the shared machine does not move the result.
 */
export function combineRounds(rounds) {
  return {
    rounds: rounds.length,
    n: rounds.reduce((sum, r) => sum + r.n, 0),
    medianUs: median(rounds.map((r) => r.medianUs)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    opsPerSec: median(rounds.map((r) => r.opsPerSec)),
    spreadUs: rounds.length
      ? [Math.min(...rounds.map((r) => r.medianUs)), Math.max(...rounds.map((r) => r.medianUs))]
      : [],
  };
}
