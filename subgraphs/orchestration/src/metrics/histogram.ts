/**
 * The fixed log-scale histograms of the run metrics rollup (migration 032: run_metrics_hist_index is
 * the same function in SQL). Bucket 0 holds values under 1 ms; bucket i >= 1 holds
 * [2^((i-1)/8), 2^(i/8)) ms; the last, HIST_MAX_INDEX, everything above (about 1.9 years).
 *
 * A percentile is estimated the way PostgreSQL's percentile_cont defines it (linear interpolation
 * between the two nearest ranks), each rank's value taken as the geometric middle of its bucket,
 * 2^((i-0.5)/8). A value v of bucket i >= 1 is within a factor 2^(1/16) of that middle, and an
 * interpolation between two such estimates is within the same factor of the exact interpolation, so
 * the estimate is within +4.43% / -4.24% of the exact percentile (HIST_RELATIVE_ERROR), or within
 * 1 ms for values under 1 ms (estimated 0), before rounding to whole milliseconds.
 */

export const HIST_BUCKETS_PER_DOUBLING = 8;
export const HIST_MAX_INDEX = 288;
/** The largest relative error of a percentile from a histogram: 2^(1/16) - 1. */
export const HIST_RELATIVE_ERROR = 2 ** (1 / (2 * HIST_BUCKETS_PER_DOUBLING)) - 1;

/** Bucket index -> runs. */
export type Histogram = Map<number, number>;

/** The bucket of a value in milliseconds (as run_metrics_hist_index in SQL). */
export function histIndex(ms: number): number {
  if (ms < 1) return 0;
  return Math.min(HIST_MAX_INDEX, 1 + Math.floor(Math.log2(ms) * HIST_BUCKETS_PER_DOUBLING));
}

/** The value a bucket stands for: the geometric middle of its bounds (0 for bucket 0). */
export function histValue(index: number): number {
  return index <= 0 ? 0 : 2 ** ((index - 0.5) / HIST_BUCKETS_PER_DOUBLING);
}

/** Adds a histogram as stored ({"<index>": count}, jsonb) or as pairs into `into`. */
export function addHistogram(into: Histogram, from: Record<string, number> | Iterable<[number, number]>): Histogram {
  const entries: Iterable<[number | string, number]> = Symbol.iterator in from ? from : Object.entries(from);
  for (const [key, count] of entries) {
    const index = Number(key);
    if (count > 0) into.set(index, (into.get(index) ?? 0) + count);
  }
  return into;
}

/** Adds a histogram as stored ({"<index>": count}) into `into`; resolves to the values added. (runMetrics adds hundreds a request: no entry arrays.) */
export function addStoredHistogram(into: Histogram, from: Record<string, number>): number {
  let added = 0;
  for (const key of Object.keys(from)) {
    const count = from[key]!;
    if (count <= 0) continue;
    const index = Number(key);
    into.set(index, (into.get(index) ?? 0) + count);
    added += count;
  }
  return added;
}

export const histCount = (hist: Histogram): number => {
  let n = 0;
  for (const count of hist.values()) n += count;
  return n;
};

/**
 * percentile_cont(fractions) of the histogram's values, estimated (see above); null when it is empty.
 * One walk over the buckets in order for all fractions.
 */
export function histPercentiles(hist: Histogram, fractions: readonly number[]): Array<number | null> {
  const n = histCount(hist);
  if (n === 0) return fractions.map(() => null);
  const buckets = [...hist.entries()].sort((a, b) => a[0] - b[0]);
  /** The estimated value of the rank-th smallest value (0-based). */
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (const [index, count] of buckets) {
      seen += count;
      if (rank < seen) return histValue(index);
    }
    return histValue(buckets[buckets.length - 1]![0]);
  };
  return fractions.map((p) => {
    const position = p * (n - 1);
    const lower = Math.floor(position);
    const upper = Math.ceil(position);
    const low = valueAt(lower);
    return lower === upper ? low : low + (position - lower) * (valueAt(upper) - low);
  });
}
