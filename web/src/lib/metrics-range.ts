/**
 * The time ranges the metrics page offers (issue 12: 1 h, 24 h, 7 d, 30 d, custom), each with the
 * bucket that gives a readable number of points, and the links from a bucket or a failure code to the
 * runs list filtered to it.
 */

export type MetricsPreset = '1h' | '24h' | '7d' | '30d' | 'custom';
export type MetricsBucketName = 'FIVE_MINUTES' | 'HOUR' | 'DAY';

export const METRICS_PRESETS: ReadonlyArray<{ id: Exclude<MetricsPreset, 'custom'>; label: string; ms: number; bucket: MetricsBucketName }> = [
  { id: '1h', label: 'Last hour', ms: 3_600_000, bucket: 'FIVE_MINUTES' },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, bucket: 'HOUR' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, bucket: 'HOUR' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, bucket: 'DAY' },
];

export const BUCKET_MS: Record<MetricsBucketName, number> = { FIVE_MINUTES: 300_000, HOUR: 3_600_000, DAY: 86_400_000 };
/** The API's bounds (orchestration metrics/resolvers.ts). */
export const MAX_RANGE_MS = 92 * 86_400_000;
export const MAX_BUCKETS = 1_000;
/** The longest custom range charted by five minutes (72 points). */
export const FIVE_MINUTES_MAX_MS = 6 * 3_600_000;

export interface MetricsRange {
  from: string;
  to: string;
  bucket: MetricsBucketName;
}

/**
 * A preset's range ending now (rounded up to the minute, so a query key holds still for a minute), or
 * a custom one from datetime-local values: five-minute buckets up to 6 hours, else the narrowest of
 * hour and day that keeps within MAX_BUCKETS.
 * An error string says what is wrong with a custom range.
 */
export function metricsRange(preset: MetricsPreset, now: number, custom: { from?: string | undefined; to?: string | undefined } = {}): MetricsRange | { error: string } {
  if (preset !== 'custom') {
    const p = METRICS_PRESETS.find((x) => x.id === preset)!;
    const to = Math.ceil(now / 60_000) * 60_000;
    return { from: new Date(to - p.ms).toISOString(), to: new Date(to).toISOString(), bucket: p.bucket };
  }
  const from = custom.from ? Date.parse(custom.from) : NaN;
  const to = custom.to ? Date.parse(custom.to) : NaN;
  if (Number.isNaN(from) || Number.isNaN(to)) return { error: 'Choose both ends of the range.' };
  if (to <= from) return { error: 'The end must be after the start.' };
  if (to - from > MAX_RANGE_MS) return { error: 'Choose at most 92 days.' };
  // Five-minute buckets only up to FIVE_MINUTES_MAX_MS: the API answers them from the runs themselves
  // (hours and days come from its hourly rollup, fast at any range).
  const bucket = to - from <= FIVE_MINUTES_MAX_MS ? 'FIVE_MINUTES' : ((['HOUR', 'DAY'] as const).find((b) => Math.ceil((to - from) / BUCKET_MS[b]) + 1 <= MAX_BUCKETS) ?? 'DAY');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket };
}

/** A datetime-local value (the reader's time zone) for an instant: the runs list's from/to search. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The runs list's search for runs of a bucket (or a whole range), optionally of one status and workflow. */
export function runsSearchFor(range: { from: string; to: string }, status?: 'FAILED' | 'SUCCEEDED'  , workflowId?: string  ) {
  return {
    from: toLocalInput(range.from),
    to: toLocalInput(new Date(Date.parse(range.to) + 59_999).toISOString()),
    ...(status ? { status: [status] } : {}),
    ...(workflowId ? { workflowId } : {}),
  };
}

/** How a bucket's start reads on an axis: a time of day for sub-day buckets, a date for days. */
export function bucketLabel(iso: string, bucket: MetricsBucketName, rangeMs: number): string {
  const d = new Date(iso);
  if (bucket === 'DAY') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (rangeMs > 86_400_000) return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
