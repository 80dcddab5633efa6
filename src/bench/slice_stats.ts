// The statistics of an A/B comparison on a noisy machine. The two targets are loaded in turn, in
// slices (A B B A A B …); each pair of neighbouring slices is one round, measured under nearly the
// same conditions, so the figure compared is the ratio B/A within a round. The verdict uses the
// median of the rounds' ratios (one disturbed round does not move it), their min–max, and a
// bootstrap 95 % interval of that median (rounds resampled with replacement).

/** The middle value (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A small seeded generator (mulberry32) of numbers in [0, 1): the bootstrap must give the same
 * interval for the same slices, in a test and between two readings of one report.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The value below which `fraction` of the sorted values fall (linear between neighbours). */
export function quantile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  const at = fraction * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export interface Interval {
  low: number;
  high: number;
}

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 0x6865_7264; // 'herd'

/** A percentile bootstrap 95 % interval of the median of `values`. */
export function bootstrapMedianInterval(values: readonly number[], random: () => number, resamples = BOOTSTRAP_RESAMPLES): Interval {
  if (values.length === 0) return { low: NaN, high: NaN };
  const medians: number[] = new Array(resamples);
  const sample: number[] = new Array(values.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < values.length; i++) sample[i] = values[Math.floor(random() * values.length)];
    medians[r] = median(sample);
  }
  medians.sort((a, b) => a - b);
  return { low: quantile(medians, 0.025), high: quantile(medians, 0.975) };
}

/** B against A for one figure: per-target medians over slices, and the rounds' ratios B/A. */
export interface FigureComparison {
  a: number;
  b: number;
  /** Median of the rounds' ratios B/A; NaN when no round had a usable A. */
  ratio: number;
  /** Min and max of the rounds' ratios. */
  min: number;
  max: number;
  /** Bootstrap 95 % interval of `ratio`. */
  low: number;
  high: number;
  /** Rounds whose ratio could be formed (A positive, both finite). */
  rounds: number;
}

/**
 * Compares one figure across rounds: `a[i]` and `b[i]` were measured in round i. A round whose A
 * is zero or either value missing (NaN) has no ratio and is left out of the spread.
 */
export function compareFigure(a: readonly number[], b: readonly number[], seed = BOOTSTRAP_SEED): FigureComparison {
  if (a.length !== b.length) throw new Error(`compareFigure: ${a.length} A values against ${b.length} B values`);
  const ratios: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] > 0 && Number.isFinite(a[i]) && Number.isFinite(b[i])) ratios.push(b[i] / a[i]);
  }
  const interval = bootstrapMedianInterval(ratios, seededRandom(seed));
  return {
    a: median(a.filter(Number.isFinite)),
    b: median(b.filter(Number.isFinite)),
    ratio: median(ratios),
    min: ratios.length ? Math.min(...ratios) : NaN,
    max: ratios.length ? Math.max(...ratios) : NaN,
    low: interval.low,
    high: interval.high,
    rounds: ratios.length,
  };
}
