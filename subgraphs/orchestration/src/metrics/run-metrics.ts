import type { Queryable } from '@orchestra/lib';
import { RUN_DURATION_MS, RUN_QUEUE_WAIT_MS } from '../store/run-metrics-rollup';

/**
 * Aggregates of the organization's runs over a time range (issue 12 metrics: what is failing, since
 * when, and why), straight from the runs: runMetricsFromRuns. One range scan of the runs created in the
 * range, through runs_org_created (migration 025: (org_id, created_at), including status and the times,
 * so the planner may answer from the index alone), bucketed with date_bin and totalled in the same pass
 * (GROUPING SETS); the failure codes read only the failed runs' rows. Runs under the principal's org
 * (row-level security). runMetrics (run-metrics-read.ts) uses it for five-minute buckets and the worker
 * filter, which the hourly rollup cannot answer, and the rollup for the rest.
 */

export type MetricsBucket = 'FIVE_MINUTES' | 'HOUR' | 'DAY';

export const BUCKET_MS: Record<MetricsBucket, number> = { FIVE_MINUTES: 300_000, HOUR: 3_600_000, DAY: 86_400_000 };

export interface RunMetricsScope {
  from: Date;
  to: Date;
  bucket: MetricsBucket;
  workflowId?: string | undefined;
  appId?: string | undefined;
  /** Runs one of whose attempts ran (or runs) on this worker. */
  workerId?: string | undefined;
}

export interface RunMetricsCounts {
  total: number;
  scheduled: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  failureRate: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  p50QueueWaitMs: number | null;
  p95QueueWaitMs: number | null;
}

export interface RunFailureCode {
  code: string;
  runs: number;
  firstAt: Date;
  lastAt: Date;
  lastMessage: string;
  lastRunId: string;
}

export interface RunMetrics {
  buckets: Array<{ start: Date; counts: RunMetricsCounts }>;
  totals: RunMetricsCounts;
  failureCodes: RunFailureCode[];
}

/** Buckets are aligned to this instant (a UTC midnight): a day bucket is a UTC day. */
export const ORIGIN = new Date('2000-01-01T00:00:00Z');

/** The start of the bucket holding `at`. */
export const bucketStart = (at: Date, bucket: MetricsBucket): Date => {
  const width = BUCKET_MS[bucket];
  return new Date(ORIGIN.getTime() + Math.floor((at.getTime() - ORIGIN.getTime()) / width) * width);
};

/** Every bucket start from the one holding `from` up to `to` (exclusive). */
export function bucketStarts(from: Date, to: Date, bucket: MetricsBucket): Date[] {
  const starts: Date[] = [];
  for (let t = bucketStart(from, bucket).getTime(); t < to.getTime(); t += BUCKET_MS[bucket]) starts.push(new Date(t));
  return starts;
}

interface CountsRow {
  bucket: Date | null;
  total: number;
  scheduled: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** [p50, p95], or null when no run of the group has one. */
  duration_ms: Array<number | null> | null;
  queue_wait_ms: Array<number | null> | null;
}

export const EMPTY_COUNTS: RunMetricsCounts = {
  total: 0,
  scheduled: 0,
  queued: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  failureRate: null,
  p50DurationMs: null,
  p95DurationMs: null,
  p50QueueWaitMs: null,
  p95QueueWaitMs: null,
};

export const ms = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round(value));

function countsOf(row: CountsRow): RunMetricsCounts {
  const finished = row.succeeded + row.failed + row.cancelled;
  return {
    total: row.total,
    scheduled: row.scheduled,
    queued: row.queued,
    running: row.running,
    succeeded: row.succeeded,
    failed: row.failed,
    cancelled: row.cancelled,
    failureRate: finished === 0 ? null : Math.round((row.failed / finished) * 10_000) / 10_000,
    p50DurationMs: ms(row.duration_ms?.[0]),
    p95DurationMs: ms(row.duration_ms?.[1]),
    p50QueueWaitMs: ms(row.queue_wait_ms?.[0]),
    p95QueueWaitMs: ms(row.queue_wait_ms?.[1]),
  };
}

/** The runs' filter: the range, and a workflow, app or worker when given (parameters $1.. in order). */
function scopeOf(scope: RunMetricsScope, alias = ''): { where: string; params: unknown[] } {
  const params: unknown[] = [scope.from, scope.to];
  let where = `${alias}created_at >= $1 AND ${alias}created_at < $2`;
  if (scope.workflowId !== undefined) where += ` AND ${alias}workflow_id = $${params.push(scope.workflowId)}`;
  if (scope.appId !== undefined) where += ` AND ${alias}app_id = $${params.push(scope.appId)}`;
  // Through task_attempts_worker_queued (migration 028): a run's attempts are queued after it is created.
  if (scope.workerId !== undefined) where += ` AND ${alias}id IN (SELECT wa.run_id FROM task_attempts wa WHERE wa.worker_id = $${params.push(scope.workerId)} AND wa.queued_at >= $1)`;
  return { where, params };
}

const DURATION = RUN_DURATION_MS('runs');
const QUEUE_WAIT = RUN_QUEUE_WAIT_MS('runs');

/**
 * The counts and percentiles per bucket, and their totals (bucket null), in one scan of the range.
 * Each run's duration and queue wait are computed once (the subquery is kept apart by OFFSET 0), and
 * p50 and p95 come from one sort each (percentile_cont over an array of fractions) rather than one sort
 * per percentile. Nulls (not finished, not started) are left out by percentile_cont itself.
 */
export function runCountsQuery(scope: RunMetricsScope): { text: string; values: unknown[] } {
  const { where, params } = scopeOf(scope);
  const width = `${BUCKET_MS[scope.bucket] / 1000} seconds`;
  return {
    text: `SELECT bucket,
            count(*)::int AS total,
            count(*) FILTER (WHERE status = 'SCHEDULED')::int AS scheduled,
            count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
            count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
            count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
            percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY duration_ms) AS duration_ms,
            percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY queue_wait_ms) AS queue_wait_ms
       FROM (SELECT date_bin($${params.length + 1}::interval, created_at, $${params.length + 2}::timestamptz) AS bucket, status,
                    ${DURATION} AS duration_ms, ${QUEUE_WAIT} AS queue_wait_ms
               FROM runs WHERE ${where} OFFSET 0) AS r
      GROUP BY GROUPING SETS ((bucket), ())`,
    values: [...params, width, ORIGIN],
  };
}

/** runMetrics read from the runs alone: exact, and one scan of the range's runs. */
export async function runMetricsFromRuns(db: Queryable, scope: RunMetricsScope, failureCodeLimit: number): Promise<RunMetrics> {
  const { where, params } = scopeOf(scope);
  const counts = await db.query<CountsRow>(runCountsQuery(scope));
  const failures = await db.query<{ code: string; runs: number; first_at: Date; last_at: Date; last_message: string | null; last_run_id: string }>(
    `WITH codes AS (
       SELECT coalesce(error->>'code', 'UNKNOWN') AS code, count(*)::int AS runs, min(created_at) AS first_at, max(created_at) AS last_at
         FROM runs WHERE ${where} AND status = 'FAILED'
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $${params.length + 1})
     SELECT codes.*, latest.message AS last_message, latest.id AS last_run_id
       FROM codes CROSS JOIN LATERAL (
         SELECT r.id, r.error->>'message' AS message FROM runs r
          WHERE ${scopeOf(scope, 'r.').where} AND r.status = 'FAILED' AND coalesce(r.error->>'code', 'UNKNOWN') = codes.code
          ORDER BY r.created_at DESC, r.id DESC LIMIT 1) latest
      ORDER BY codes.runs DESC, codes.code`,
    [...params, failureCodeLimit],
  );
  const byBucket = new Map<number, RunMetricsCounts>();
  let totals = EMPTY_COUNTS;
  for (const row of counts.rows) {
    if (row.bucket === null) totals = countsOf(row);
    else byBucket.set(row.bucket.getTime(), countsOf(row));
  }
  return {
    buckets: bucketStarts(scope.from, scope.to, scope.bucket).map((start) => ({ start, counts: byBucket.get(start.getTime()) ?? EMPTY_COUNTS })),
    totals,
    failureCodes: failures.rows.map((r) => ({ code: r.code, runs: r.runs, firstAt: r.first_at, lastAt: r.last_at, lastMessage: r.last_message ?? '', lastRunId: r.last_run_id })),
  };
}
