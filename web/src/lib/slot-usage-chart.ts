/**
 * The slot usage chart's rows and series (issue 12): one busy line and one total line per pool (the
 * first MAX_CHART_POOLS pools, which the API sorts busiest first), and each pool's summary over the range.
 */

export const MAX_CHART_POOLS = 4;

export interface SlotPoint {
  start: string;
  busySlots?: number | null | undefined;
  peakBusySlots?: number | null | undefined;
  totalSlots?: number | null | undefined;
}

export interface SlotPool {
  pool: string;
  points: readonly SlotPoint[];
}

/** A busy and a total line per charted pool, coloured by `color(n)` for the n-th line. */
export function slotUsageSeries(pools: readonly SlotPool[], color: (index: number) => string) {
  return pools.slice(0, MAX_CHART_POOLS).flatMap((p, i) => [
    { id: `busy-${i}`, label: `${p.pool}: busy`, color: color(2 * i) },
    { id: `total-${i}`, label: `${p.pool}: slots`, color: color(2 * i + 1) },
  ]);
}

/** One row per bucket start: each charted pool's busy and total (null where no sample). */
export function slotUsageRows(pools: readonly SlotPool[]): Array<Record<string, string | number | null>> {
  const charted = pools.slice(0, MAX_CHART_POOLS);
  const starts = charted[0]?.points.map((p) => p.start) ?? [];
  return starts.map((start, i) => {
    const row: Record<string, string | number | null> = { start };
    charted.forEach((p, j) => {
      row[`busy-${j}`] = p.points[i]?.busySlots ?? null;
      row[`total-${j}`] = p.points[i]?.totalSlots ?? null;
    });
    return row;
  });
}

export interface SlotSummary {
  pool: string;
  meanBusy: number;
  meanTotal: number;
  peakBusy: number;
  utilization: number | null;
}

/** Each pool over the sampled buckets of the range: mean busy and total slots, the peak, busy / total. */
export function slotUsageSummary(pools: readonly SlotPool[]): SlotSummary[] {
  return pools.map((p) => {
    const sampled = p.points.filter((x) => x.busySlots !== null && x.busySlots !== undefined);
    const meanBusy = sampled.reduce((s, x) => s + (x.busySlots ?? 0), 0) / (sampled.length || 1);
    const meanTotal = sampled.reduce((s, x) => s + (x.totalSlots ?? 0), 0) / (sampled.length || 1);
    const peakBusy = sampled.reduce((m, x) => Math.max(m, x.peakBusySlots ?? 0), 0);
    return { pool: p.pool, meanBusy, meanTotal, peakBusy, utilization: meanTotal === 0 ? null : meanBusy / meanTotal };
  });
}
