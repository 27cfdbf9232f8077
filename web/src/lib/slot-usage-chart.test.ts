import { slotUsageRows, slotUsageSeries, slotUsageSummary } from './slot-usage-chart';

describe('slot usage chart', () => {
  const pools = [
    { pool: 'gpu', points: [{ start: 'a', busySlots: 3, peakBusySlots: 4, totalSlots: 4 }, { start: 'b', busySlots: null, peakBusySlots: null, totalSlots: null }, { start: 'c', busySlots: 1, peakBusySlots: 2, totalSlots: 4 }] },
    { pool: 'default', points: [{ start: 'a', busySlots: 0, peakBusySlots: 0, totalSlots: 8 }, { start: 'b', busySlots: 0, peakBusySlots: 0, totalSlots: 0 }, { start: 'c', busySlots: null, peakBusySlots: null, totalSlots: null }] },
  ];

  it('draws a busy and a total line per pool, a gap where a bucket has no sample', () => {
    expect(slotUsageSeries(pools, (i) => `c${i}`).map((s) => [s.label, s.color])).toEqual([['gpu: busy', 'c0'], ['gpu: slots', 'c1'], ['default: busy', 'c2'], ['default: slots', 'c3']]);
    expect(slotUsageRows(pools)).toEqual([
      { start: 'a', 'busy-0': 3, 'total-0': 4, 'busy-1': 0, 'total-1': 8 },
      { start: 'b', 'busy-0': null, 'total-0': null, 'busy-1': 0, 'total-1': 0 },
      { start: 'c', 'busy-0': 1, 'total-0': 4, 'busy-1': null, 'total-1': null },
    ]);
  });

  it('summarises each pool over its sampled buckets only', () => {
    expect(slotUsageSummary(pools)).toEqual([
      { pool: 'gpu', meanBusy: 2, meanTotal: 4, peakBusy: 4, utilization: 0.5 },
      { pool: 'default', meanBusy: 0, meanTotal: 4, peakBusy: 0, utilization: 0 },
    ]);
  });
});
