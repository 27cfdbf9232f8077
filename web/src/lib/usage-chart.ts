/**
 * The usage page's numbers (issue 14): usageSeries points (one per UTC day and key) pivoted into one
 * row per day of the range with a column per key, the keys beyond the largest few folded into
 * "Other" so a chart stays readable, and the range's totals.
 */

export type UsageMeasure = 'costUsd' | 'totalTokens';
export type UsageSplit = 'APP' | 'WORKFLOW' | 'PROVIDER' | 'MODEL';

export interface UsagePoint {
  day: string;
  key: string;
  app?: { name: string } | null | undefined;
  workflow?: { name: string } | null | undefined;
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

export interface UsageTotals {
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

export interface UsageChart {
  /** The series, largest first ("Other" last when keys were folded). */
  series: Array<{ id: string; label: string }>;
  /** One row per day of the range, oldest first: `day` and one number per series id. */
  rows: Array<{ day: string } & Record<string, number | string>>;
}

export const OTHER_SERIES = '__other';
/** Series drawn at most; the rest are summed as "Other". */
export const MAX_SERIES = 8;

const DAY_MS = 86_400_000;

/** The UTC days (YYYY-MM-DD) that [from, to) touches, oldest first. */
export function daysOf(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let t = Math.floor(from.getTime() / DAY_MS) * DAY_MS; t < to.getTime(); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** What a key is called: an app's or workflow's name, a provider or model as it is, '' by what it stands for. */
export function keyLabel(point: Pick<UsagePoint, 'key' | 'app' | 'workflow'>, split: UsageSplit): string {
  if (split === 'APP') return point.key === '' ? 'No app' : (point.app?.name ?? point.key);
  if (split === 'WORKFLOW') return point.workflow?.name ?? point.key;
  return point.key === '' ? 'GPU time (no provider)' : point.key;
}

export function usageChart(points: readonly UsagePoint[], split: UsageSplit, measure: UsageMeasure, days: readonly string[]): UsageChart {
  const sizeOf = new Map<string, number>();
  const labelOf = new Map<string, string>();
  for (const p of points) {
    sizeOf.set(p.key, (sizeOf.get(p.key) ?? 0) + p[measure]);
    labelOf.set(p.key, keyLabel(p, split));
  }
  // Keys with nothing of this measure (GPU-only rows on a cost chart) draw nothing.
  const ranked = [...sizeOf.entries()].filter(([, size]) => size > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const folded = ranked.length > MAX_SERIES;
  const shown = folded ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const seriesOf = new Map(shown.map(([key]) => [key, key]));
  const series = shown.map(([key]) => ({ id: key, label: labelOf.get(key) ?? key }));
  if (folded) series.push({ id: OTHER_SERIES, label: 'Other' });
  const rows = days.map((day) => {
    const row: { day: string } & Record<string, number | string> = { day };
    for (const s of series) row[s.id] = 0;
    return row;
  });
  const rowOf = new Map(rows.map((row) => [row.day, row]));
  for (const p of points) {
    const row = rowOf.get(p.day);
    const id = seriesOf.get(p.key) ?? (folded && (sizeOf.get(p.key) ?? 0) > 0 ? OTHER_SERIES : undefined);
    if (!row || id === undefined) continue;
    row[id] = (row[id] as number) + p[measure];
  }
  return { series, rows };
}

export function usageTotals(points: readonly UsagePoint[]): UsageTotals {
  const totals: UsageTotals = { calls: 0, failedCalls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0, gpuSeconds: 0 };
  for (const p of points) {
    totals.calls += p.calls;
    totals.failedCalls += p.failedCalls;
    totals.promptTokens += p.promptTokens;
    totals.completionTokens += p.completionTokens;
    totals.totalTokens += p.totalTokens;
    totals.costUsd += p.costUsd;
    totals.gpuSeconds += p.gpuSeconds;
  }
  totals.costUsd = Math.round(totals.costUsd * 1e8) / 1e8;
  totals.gpuSeconds = Math.round(totals.gpuSeconds * 1000) / 1000;
  return totals;
}

/** Each key's totals over the range (the table under the chart), largest cost first. */
export function usageByKey(points: readonly UsagePoint[], split: UsageSplit): Array<{ key: string; label: string } & UsageTotals> {
  const groups = new Map<string, UsagePoint[]>();
  for (const p of points) groups.set(p.key, [...(groups.get(p.key) ?? []), p]);
  return [...groups.entries()]
    .map(([key, ps]) => ({ key, label: keyLabel(ps[0]!, split), ...usageTotals(ps) }))
    .sort((a, b) => b.costUsd - a.costUsd || b.totalTokens - a.totalTokens || (a.label < b.label ? -1 : 1));
}

const USD = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const formatUsd = (value: number): string => USD.format(value);
export const formatTokens = (value: number): string => COMPACT.format(value);
export const formatGpuSeconds = (seconds: number): string => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} GPU-h` : `${Math.round(seconds)} GPU-s`);
