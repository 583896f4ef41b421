// Order statistics for the bench phases, defined exactly as the benchmark suite does
// (bench/lib/stats.mjs), so `chatstate bench` and `npm run bench` print comparable figures.

/** The q-quantile (0..1) of `values` by nearest rank on a sorted copy. NaN for an empty input. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface PhaseResult {
  /** Timed transitions completed. */
  transitions: number;
  p50Us: number;
  p99Us: number;
  /** Completed transitions / wall time of the whole phase. */
  perSecond: number;
  seconds: number;
}

/** One phase: per-transition latencies (us) plus the wall time of the whole phase. */
export function summarise(latenciesUs: ArrayLike<number>, wallMs: number): PhaseResult {
  return {
    transitions: latenciesUs.length,
    p50Us: quantile(latenciesUs, 0.5),
    p99Us: quantile(latenciesUs, 0.99),
    perSecond: wallMs > 0 ? (latenciesUs.length * 1000) / wallMs : Number.NaN,
    seconds: wallMs / 1000,
  };
}
