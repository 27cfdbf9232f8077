import type { Queryable } from '@orchestra/lib';
import { CALL_TOTALS, EMPTY_USAGE, totalsOf, type TotalsRow, type UsageTotals } from '../store/usage';

/**
 * The organization's usage per UTC day split by one more key (issue 14's usage page: tokens and cost
 * per day stacked by app, workflow, provider or model). Reads model_calls and gpu_usage under the
 * principal's org (row-level security) through their (org_id, created_at) indexes.
 */

export type UsageSplitBy = 'APP' | 'WORKFLOW' | 'PROVIDER' | 'MODEL';

export interface UsageSeriesPoint extends UsageTotals {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** An app id, workflow id, provider or model name; '' for no app, and for GPU time under PROVIDER and MODEL. */
  key: string;
}

const DAY = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

const SPLIT_KEY: Record<UsageSplitBy, { calls: string; gpu: string }> = {
  APP: { calls: `coalesce(app_id::text, '')`, gpu: `coalesce(app_id::text, '')` },
  WORKFLOW: { calls: 'workflow_id::text', gpu: 'workflow_id::text' },
  // GPU time is no provider's and no model's: it is counted under ''.
  PROVIDER: { calls: 'provider', gpu: `''` },
  MODEL: { calls: 'model', gpu: `''` },
};

const byDayThenKey = (a: UsageSeriesPoint, b: UsageSeriesPoint): number => (a.day !== b.day ? (a.day < b.day ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Usage in [from, to) per day and key, by day then key, at most `limit` points. */
export async function usageSeries(db: Queryable, from: Date, to: Date, splitBy: UsageSplitBy, limit: number): Promise<UsageSeriesPoint[]> {
  const key = SPLIT_KEY[splitBy];
  const [calls, gpu] = [
    await db.query<TotalsRow & { day: string; key: string }>(
      `SELECT ${DAY} AS day, ${key.calls} AS key, ${CALL_TOTALS} FROM model_calls WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $3`,
      [from, to, limit],
    ),
    await db.query<{ day: string; key: string; gpu_seconds: number }>(
      `SELECT ${DAY} AS day, ${key.gpu} AS key, sum(gpu_seconds)::float8 AS gpu_seconds FROM gpu_usage WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $3`,
      [from, to, limit],
    ),
  ];
  const points = new Map<string, UsageSeriesPoint>();
  const id = (day: string, k: string) => `${day}\u0000${k}`;
  for (const row of calls.rows) points.set(id(row.day, row.key), { day: row.day, key: row.key, ...totalsOf(row, 0) });
  for (const row of gpu.rows) {
    const before = points.get(id(row.day, row.key)) ?? { day: row.day, key: row.key, ...EMPTY_USAGE };
    points.set(id(row.day, row.key), { ...before, gpuSeconds: Math.round(row.gpu_seconds * 1000) / 1000 });
  }
  return [...points.values()].sort(byDayThenKey).slice(0, limit);
}
