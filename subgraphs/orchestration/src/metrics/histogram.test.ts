import { addHistogram, addStoredHistogram, HIST_MAX_INDEX, HIST_RELATIVE_ERROR, histIndex, histPercentiles, histValue, type Histogram } from './histogram';

/** percentile_cont as PostgreSQL computes it (linear interpolation between the nearest ranks). */
function exactPercentile(sorted: number[], p: number): number {
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (position - lower) * (sorted[upper]! - sorted[lower]!);
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('run metrics histograms', () => {
  it('puts a value in the bucket whose bounds hold it, 8 per doubling', () => {
    expect(histIndex(0)).toBe(0);
    expect(histIndex(0.999)).toBe(0);
    expect(histIndex(-5)).toBe(0);
    expect(histIndex(1)).toBe(1);
    expect(histIndex(2)).toBe(9);
    expect(histIndex(1_000)).toBe(1 + Math.floor(Math.log2(1_000) * 8));
    expect(histIndex(1e15)).toBe(HIST_MAX_INDEX);
    for (const v of [1.5, 3, 250, 2_000, 61_000, 86_400_000]) {
      const i = histIndex(v);
      expect(2 ** ((i - 1) / 8)).toBeLessThanOrEqual(v);
      expect(v).toBeLessThan(2 ** (i / 8));
      expect(Math.abs(histValue(i) - v) / v).toBeLessThanOrEqual(HIST_RELATIVE_ERROR);
    }
  });

  it('estimates p50 and p95 within the stated bound of percentile_cont, whatever the spread', () => {
    expect(HIST_RELATIVE_ERROR).toBeLessThan(0.045);
    const next = random(12);
    for (const [n, spread] of [
      [1, 1_000],
      [2, 100],
      [7, 60_000],
      [100, 5],
      [1_000, 120_000],
      [10_000, 2_000_000],
    ] as const) {
      const values = Array.from({ length: n }, () => 1 + next() ** 3 * spread).sort((a, b) => a - b);
      const hist: Histogram = new Map();
      for (const v of values) addHistogram(hist, [[histIndex(v), 1]]);
      const [p50, p95] = histPercentiles(hist, [0.5, 0.95]);
      for (const [estimate, p] of [
        [p50!, 0.5],
        [p95!, 0.95],
      ] as const) {
        const exact = exactPercentile(values, p);
        expect(Math.abs(estimate - exact) / exact).toBeLessThanOrEqual(HIST_RELATIVE_ERROR + 1e-12);
      }
    }
  });

  it('adds stored histograms and answers null for an empty one', () => {
    const hist = addHistogram(addHistogram(new Map(), { '9': 2, '17': 1 }), { '9': 1, '0': 4 });
    expect([...hist.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 4],
      [9, 3],
      [17, 1],
    ]);
    const stored: Histogram = new Map([[9, 1]]);
    expect(addStoredHistogram(stored, { '9': 2, '17': 1, '20': 0 })).toBe(3);
    expect(addStoredHistogram(stored, {})).toBe(0);
    expect([...stored.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [9, 3],
      [17, 1],
    ]);
    expect(histPercentiles(new Map(), [0.5, 0.95])).toEqual([null, null]);
    // Values under 1 ms are estimated 0 (within 1 ms).
    expect(histPercentiles(new Map([[0, 3]]), [0.5])).toEqual([0]);
  });
});
