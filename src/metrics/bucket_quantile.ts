// A quantile estimated from histogram bucket counts, as Prometheus' histogram_quantile() does: find the
// bucket the rank falls in and interpolate linearly within it. Coarse (the buckets are 5 ms to 10 s
// apart), but it needs only the counts workers already report.
import { DURATION_BUCKETS } from './snapshot.ts';

/** `counts` per bucket, not cumulative, the last one +Inf; null when there is nothing to rank. */
export function bucketQuantile(counts: readonly number[], q: number, bounds: readonly number[] = DURATION_BUCKETS): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (below + counts[i] >= rank && counts[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]; // in +Inf: the largest finite bound, as Prometheus answers
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / counts[i]);
    }
    below += counts[i];
  }
  return bounds[bounds.length - 1];
}
