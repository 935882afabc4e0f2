/**
 * Quantiles from prom-client histograms, computed the way PromQL's `histogram_quantile` does
 * (linear interpolation inside the bucket), so the in-process alerts and the dashboard agree
 * with the Prometheus rules and Grafana panels.
 */
import type { Histogram } from "prom-client";

/** One cumulative bucket: observations `<= le`. `le` is `Infinity` for the `+Inf` bucket. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The `q`-quantile (0..1) of cumulative buckets, or `undefined` when there are no observations.
 *
 * @example
 * histogramQuantile(0.95, [{ le: 1, count: 90 }, { le: 5, count: 100 }, { le: Infinity, count: 100 }]); // 3
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank && bucket.count > prevCount) {
      if (bucket.le === Infinity) return prevLe;
      const inBucket = bucket.count - prevCount;
      return prevLe + (bucket.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = bucket.le === Infinity ? prevLe : bucket.le;
    prevCount = bucket.count;
  }
  return prevLe;
}

/** Cumulative buckets of a histogram, summed over all its label sets (optionally filtered). */
export async function histogramBuckets<L extends string>(
  histogram: Histogram<L>,
  filter: (labels: Partial<Record<L, string | number>>) => boolean = () => true,
): Promise<Bucket[]> {
  const byLe = new Map<number, number>();
  for (const value of (await histogram.get()).values) {
    if (!value.metricName?.endsWith("_bucket")) continue;
    const { le, ...labels } = value.labels as Record<string, string | number>;
    if (le === undefined || !filter(labels as Partial<Record<L, string | number>>)) continue;
    const bound = le === "+Inf" ? Infinity : Number(le);
    byLe.set(bound, (byLe.get(bound) ?? 0) + value.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** Bucket-wise difference `now - before` (for a window), clamped at zero after a counter reset. */
export function subtractBuckets(now: readonly Bucket[], before: readonly Bucket[]): Bucket[] {
  const old = new Map(before.map((b) => [b.le, b.count]));
  return now.map((b) => ({ le: b.le, count: Math.max(0, b.count - (old.get(b.le) ?? 0)) }));
}
