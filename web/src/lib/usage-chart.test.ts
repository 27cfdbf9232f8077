import { daysOf, keyLabel, MAX_SERIES, OTHER_SERIES, usageByKey, usageChart, usageTotals, type UsagePoint } from './usage-chart';

const point = (day: string, key: string, costUsd: number, totalTokens = 0, extra: Partial<UsagePoint> = {}): UsagePoint => ({
  day, key, calls: 1, failedCalls: 0, promptTokens: totalTokens, completionTokens: 0, totalTokens, costUsd, gpuSeconds: 0, ...extra,
});

describe('usage chart', () => {
  it('lists every UTC day a range touches', () => {
    expect(daysOf(new Date('2026-12-01T10:00:00Z'), new Date('2026-12-04T00:00:00Z'))).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
  });

  it('pivots points into a row per day with a column per key, days without usage as zeros', () => {
    const chart = usageChart([point('2026-12-01', 'openai', 1), point('2026-12-03', 'openai', 2), point('2026-12-03', 'local', 0.5)], 'PROVIDER', 'costUsd', ['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(chart.series).toEqual([{ id: 'openai', label: 'openai' }, { id: 'local', label: 'local' }]);
    expect(chart.rows).toEqual([
      { day: '2026-12-01', openai: 1, local: 0 },
      { day: '2026-12-02', openai: 0, local: 0 },
      { day: '2026-12-03', openai: 2, local: 0.5 },
    ]);
  });

  it('folds the smallest keys into Other beyond the most series drawn, and draws nothing for keys without the measure', () => {
    const points = Array.from({ length: MAX_SERIES + 2 }, (_, i) => point('2026-12-01', `m${i}`, i + 1));
    points.push(point('2026-12-01', '', 0, 0, { gpuSeconds: 60 }));
    const chart = usageChart(points, 'MODEL', 'costUsd', ['2026-12-01']);
    expect(chart.series).toHaveLength(MAX_SERIES);
    expect(chart.series.at(-1)).toEqual({ id: OTHER_SERIES, label: 'Other' });
    expect(chart.series.map((s) => s.id)).not.toContain('');
    // m0, m1, m2 (1 + 2 + 3) are folded.
    expect(chart.rows[0]![OTHER_SERIES]).toBe(6);
  });

  it('names keys by what they stand for', () => {
    expect(keyLabel({ key: '', app: null, workflow: null }, 'APP')).toBe('No app');
    expect(keyLabel({ key: 'a1', app: { name: 'Billing' } }, 'APP')).toBe('Billing');
    expect(keyLabel({ key: 'w1', workflow: { name: 'nightly' } }, 'WORKFLOW')).toBe('nightly');
    expect(keyLabel({ key: '' }, 'PROVIDER')).toBe('GPU time (no provider)');
  });

  it('totals the range and each key', () => {
    const points = [point('2026-12-01', 'a', 0.1, 10), point('2026-12-02', 'a', 0.2, 20), point('2026-12-02', 'b', 1, 5, { gpuSeconds: 1.5, failedCalls: 1 })];
    expect(usageTotals(points)).toMatchObject({ calls: 3, failedCalls: 1, totalTokens: 35, costUsd: 1.3, gpuSeconds: 1.5 });
    expect(usageByKey(points, 'PROVIDER').map((g) => [g.key, g.calls, g.costUsd])).toEqual([['b', 1, 1], ['a', 2, 0.3]]);
  });
});
