import type { Queryable } from '@orchestra/lib';
import { ALL_GROUPS, foldedBefore, RUN_DURATION_MS, RUN_QUEUE_WAIT_MS } from '../store/run-metrics-rollup';
import { addHistogram, addStoredHistogram, histPercentiles, type Histogram } from './histogram';
import { BUCKET_MS, bucketStarts, EMPTY_COUNTS, ms, ORIGIN, runMetricsFromRuns, type RunFailureCode, type RunMetrics, type RunMetricsCounts, type RunMetricsScope } from './run-metrics';

/**
 * runMetrics (issue 12), under 200 ms at 1,000,000 runs: a range's whole UTC hours come from the
 * rollup (migration 032, metrics/rollup-job.ts) — one row per hour for the grouping asked for, and one
 * per whole UTC day (migration 035) for the failure codes and, with DAY buckets, the counts and
 * histograms (a 30-day range: 30 day rows and the hours of its partial first and last days) — and
 * from the runs only what the rollup does not hold: the range's partial first and last hours, the runs
 * of its whole hours that have not finished or finished (were last written) since the watermark, and the
 * hours queued for a refold. One statement, so the rollup rows and the runs are read in one snapshot (a fold committing
 * meanwhile cannot count a run twice or not at all). Counts and failure codes are exact; p50/p95 are
 * exact in a bucket (and the totals) that holds no rolled-up run, else estimated from the histograms
 * (histogram.ts: within 4.5%, or 1 ms). Five-minute buckets and the worker filter, which the hourly
 * rollup cannot answer, read the runs (runMetricsFromRuns).
 */

/** Failure codes each side (rollup, runs) answers with, the commonest first; the merged list is exact when a range has fewer codes. */
const FAILURE_CODES_READ = 500;
const HOUR_MS = 3_600_000;
const STATUSES = ['total', 'scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export interface RollupReadOptions {
  /** false: hourly rows only, as before migration 035 (the benchmark's comparison); the answer is the same. */
  dayRows?: boolean;
}

export async function runMetrics(db: Queryable, scope: RunMetricsScope, failureCodeLimit: number, options: RollupReadOptions = {}): Promise<RunMetrics> {
  if (scope.bucket === 'FIVE_MINUTES' || scope.workerId !== undefined) return runMetricsFromRuns(db, scope, failureCodeLimit);
  return runMetricsFromRollup(db, scope, failureCodeLimit, options);
}

type StatusCounts = Record<(typeof STATUSES)[number], number>;

interface Accumulator {
  counts: StatusCounts;
  /** Rolled-up runs' histograms, then the runs' added when a rolled-up run is in it. */
  duration: Histogram;
  queueWait: Histogram;
  rolledDuration: boolean;
  rolledQueueWait: boolean;
  /** The runs' exact [p50, p95] (percentile_cont). */
  exactDuration: Array<number | null> | null;
  exactQueueWait: Array<number | null> | null;
}

interface ReadRow {
  raw_counts: Array<StatusCounts & { bucket: number | null; duration_ms: Array<number | null> | null; queue_wait_ms: Array<number | null> | null }>;
  /** [bucket ms, 0 duration | 1 queue wait, histogram index, runs] */
  raw_hist: Array<[number, number, number, number]>;
  cells: Array<StatusCounts & { bucket: number; duration_hist: Record<string, number>; queue_wait_hist: Record<string, number> }>;
  failures: Array<{ code: string; runs: number; first_at: string; last_at: string; last_run_id: string; last_message: string | null }>;
}

const DAY_MS = 86_400_000;
const hourFloor = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;
/** UTC days: ORIGIN (2000-01-01) is a whole number of days from the epoch. */
const dayFloor = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

export async function runMetricsFromRollup(db: Queryable, scope: RunMetricsScope, failureCodeLimit: number, { dayRows = true }: RollupReadOptions = {}): Promise<RunMetrics> {
  const from = scope.from.getTime();
  const to = scope.to.getTime();
  // [firstHour, lastHour): the range's whole hours (none: firstHour = lastHour, everything from the runs).
  const firstHour = Math.min(hourFloor(from + HOUR_MS - 1), to);
  const lastHour = Math.max(hourFloor(to), firstHour);
  // The watermark read before the statement, to plan the "finished since the watermark" scan with (the
  // statement filters on the watermark of its own snapshot, which is never earlier).
  const watermark = await foldedBefore(db);
  // [firstDay, lastDay): the whole UTC days within the whole hours, read from the day rows (migration 035)
  // unless an hour of the day is queued for a refold. The failure codes (totals of the range) always
  // read them; counts and histograms ([cellDays0, cellDays1)) only with DAY buckets, where a day row is one
  // bucket. No whole day: both ranges empty, at lastHour.
  let firstDay = dayFloor(firstHour + DAY_MS - 1);
  let lastDay = dayFloor(lastHour);
  if (firstDay >= lastDay || !dayRows) firstDay = lastDay = lastHour;
  const [cellDays0, cellDays1] = scope.bucket === 'DAY' ? [firstDay, lastDay] : [lastHour, lastHour];
  const params: unknown[] = [
    scope.from,
    scope.to,
    new Date(firstHour),
    new Date(lastHour),
    watermark,
    `${BUCKET_MS[scope.bucket] / 1000} seconds`,
    ORIGIN,
    scope.workflowId ?? ALL_GROUPS,
    scope.appId ?? ALL_GROUPS,
    new Date(cellDays0),
    new Date(cellDays1),
    new Date(firstDay),
    new Date(lastDay),
  ];
  let filter = '';
  if (scope.workflowId !== undefined) filter += ` AND r.workflow_id = $${params.push(scope.workflowId)}`;
  if (scope.appId !== undefined) filter += ` AND r.app_id = $${params.push(scope.appId)}`;
  const runColumns = `r.id, r.created_at, r.status, r.error, ${RUN_DURATION_MS('r')} AS duration_ms, ${RUN_QUEUE_WAIT_MS('r')} AS queue_wait_ms`;
  const epoch = (t: string) => `extract(epoch FROM ${t}) * 1000`;
  const statusCounts = `count(*)::int AS total,
            count(*) FILTER (WHERE status = 'SCHEDULED')::int AS scheduled,
            count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
            count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
            count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled`;
  /**
   * The rollup rows of the whole hours: of the days [d0, d1) (parameters), the day rows of the days with
   * no hour queued for a refold; the hourly rows of every other hour not queued (a queued hour is read
   * from the runs). The rows of the grouping asked for, each with `at`: its hour or day.
   */
  const rolledRows = (hourly: string, daily: string, columns: string, [d0, d1]: [string, string]) =>
    `SELECT c.hour AS at, ${columns} FROM ${hourly} c WHERE c.workflow_id = $8 AND c.app_id = $9 AND c.hour >= $3 AND c.hour < ${d0} AND c.hour NOT IN (SELECT hour FROM pending)
       UNION ALL
       SELECT c.hour, ${columns} FROM ${hourly} c WHERE c.workflow_id = $8 AND c.app_id = $9 AND c.hour >= ${d1} AND c.hour < $4 AND c.hour NOT IN (SELECT hour FROM pending)
       UNION ALL
       SELECT c.hour, ${columns} FROM pending_days p JOIN ${hourly} c ON c.hour >= p.day AND c.hour < p.day + interval '24 hours'
        WHERE p.day >= ${d0} AND p.day < ${d1} AND c.workflow_id = $8 AND c.app_id = $9 AND c.hour NOT IN (SELECT hour FROM pending)
       UNION ALL
       SELECT c.day, ${columns} FROM ${daily} c WHERE c.workflow_id = $8 AND c.app_id = $9 AND c.day >= ${d0} AND c.day < ${d1} AND c.day NOT IN (SELECT day FROM pending_days)`;
  const { rows } = await db.query<ReadRow>(
    `WITH wm AS (SELECT folded_before AS w FROM run_metrics_watermark),
     pending AS (SELECT DISTINCT hour FROM run_metrics_refolds WHERE hour >= $3 AND hour < $4),
     pending_days AS (SELECT DISTINCT date_bin('24 hours', hour, $7::timestamptz) AS day FROM pending),
     raw AS MATERIALIZED (
       SELECT ${runColumns} FROM runs r WHERE r.created_at >= $1 AND r.created_at < $3${filter}
       UNION ALL
       SELECT ${runColumns} FROM runs r WHERE r.created_at >= $4 AND r.created_at < $2${filter}
       UNION ALL
       SELECT ${runColumns} FROM runs r WHERE r.created_at >= $3 AND r.created_at < $4 AND r.finished_at IS NULL${filter}
       UNION ALL
       SELECT ${runColumns} FROM runs r WHERE r.created_at >= $3 AND r.created_at < $4 AND r.finished_at IS NOT NULL AND r.updated_at >= $5::timestamptz AND r.updated_at >= (SELECT w FROM wm)${filter}
       UNION ALL
       SELECT ${runColumns} FROM pending p JOIN runs r ON r.created_at >= p.hour AND r.created_at < p.hour + interval '1 hour'
        WHERE r.finished_at IS NOT NULL AND r.updated_at < (SELECT w FROM wm)${filter}
     ), rb AS (
       SELECT date_bin($6::interval, created_at, $7::timestamptz) AS bucket, status, duration_ms, queue_wait_ms FROM raw
     ), raw_counts AS (
       SELECT ${epoch('bucket')} AS bucket, ${statusCounts},
              percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY duration_ms) AS duration_ms,
              percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY queue_wait_ms) AS queue_wait_ms
         FROM rb GROUP BY GROUPING SETS ((bucket), ())
     ), raw_hist AS (
       SELECT ${epoch('bucket')} AS b, 0 AS m, run_metrics_hist_index(duration_ms) AS i, count(*)::int AS n FROM rb WHERE duration_ms IS NOT NULL GROUP BY bucket, 3
       UNION ALL
       SELECT ${epoch('bucket')}, 1, run_metrics_hist_index(queue_wait_ms), count(*)::int FROM rb WHERE queue_wait_ms IS NOT NULL GROUP BY bucket, 3
     ), cells AS (
       SELECT ${epoch('date_bin($6::interval, c.at, $7::timestamptz)')} AS bucket, ${STATUSES.map((s) => `c.${s}`).join(', ')}, c.duration_hist, c.queue_wait_hist
         FROM (${rolledRows('run_metrics_hourly', 'run_metrics_daily', `${STATUSES.map((s) => `c.${s}`).join(', ')}, c.duration_hist, c.queue_wait_hist`, ['$10', '$11'])}) AS c
     ), raw_failures AS (
       SELECT coalesce(error->>'code', 'UNKNOWN') AS code, count(*)::int AS runs, min(created_at) AS first_at, max(created_at) AS last_at,
              (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_run_id, (array_agg(error->>'message' ORDER BY created_at DESC, id DESC))[1] AS last_message
         FROM raw WHERE status = 'FAILED' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${FAILURE_CODES_READ}
     ), rolled_failures AS (
       SELECT c.code, sum(c.runs)::int AS runs, min(c.first_at) AS first_at, max(c.last_at) AS last_at,
              (array_agg(c.last_run_id ORDER BY c.last_at DESC, c.last_run_id DESC))[1] AS last_run_id,
              (array_agg(c.last_message ORDER BY c.last_at DESC, c.last_run_id DESC))[1] AS last_message
         FROM (${rolledRows('run_metrics_failures_hourly', 'run_metrics_failures_daily', 'c.code, c.runs, c.first_at, c.last_at, c.last_run_id, c.last_message', ['$12', '$13'])}) AS c
        GROUP BY c.code ORDER BY 2 DESC, 1 LIMIT ${FAILURE_CODES_READ}
     )
     SELECT (SELECT coalesce(json_agg(raw_counts), '[]') FROM raw_counts) AS raw_counts,
            (SELECT coalesce(json_agg(json_build_array(b, m, i, n)), '[]') FROM raw_hist) AS raw_hist,
            (SELECT coalesce(json_agg(cells), '[]') FROM cells) AS cells,
            (SELECT coalesce(json_agg(f), '[]') FROM (SELECT * FROM raw_failures UNION ALL SELECT * FROM rolled_failures) AS f) AS failures`,
    params,
  );
  const row = rows[0];
  if (!row) throw new Error('runMetrics answered no row');
  return assemble(scope, row, failureCodeLimit);
}

const emptyAccumulator = (): Accumulator => ({
  counts: { total: 0, scheduled: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
  duration: new Map(),
  queueWait: new Map(),
  rolledDuration: false,
  rolledQueueWait: false,
  exactDuration: null,
  exactQueueWait: null,
});

/** Adds the rollup rows and the runs' aggregates up per bucket and for the range, and merges the failure codes. */
function assemble(scope: RunMetricsScope, row: ReadRow, failureCodeLimit: number): RunMetrics {
  const byBucket = new Map<number, Accumulator>();
  const totals = emptyAccumulator();
  const bucketOf = (t: number): Accumulator => {
    let acc = byBucket.get(t);
    if (!acc) byBucket.set(t, (acc = emptyAccumulator()));
    return acc;
  };
  const addCounts = (acc: Accumulator, counts: StatusCounts) => {
    for (const s of STATUSES) acc.counts[s] += counts[s];
  };
  // Rolled-up hours and days first: a bucket (or the range) with any takes its percentiles from the histograms.
  for (const cell of row.cells) {
    const acc = bucketOf(Number(cell.bucket));
    addCounts(acc, cell);
    if (addStoredHistogram(acc.duration, cell.duration_hist) > 0) acc.rolledDuration = true;
    if (addStoredHistogram(acc.queueWait, cell.queue_wait_hist) > 0) acc.rolledQueueWait = true;
  }
  for (const acc of byBucket.values()) {
    addHistogram(totals.duration, acc.duration);
    addHistogram(totals.queueWait, acc.queueWait);
    totals.rolledDuration ||= acc.rolledDuration;
    totals.rolledQueueWait ||= acc.rolledQueueWait;
  }
  // The runs' counts per bucket, and their exact percentiles per bucket and (bucket null) for the range.
  for (const r of row.raw_counts) {
    const acc = r.bucket === null ? totals : bucketOf(Number(r.bucket));
    if (r.bucket !== null) addCounts(acc, r);
    acc.exactDuration = r.duration_ms;
    acc.exactQueueWait = r.queue_wait_ms;
  }
  for (const [bucket, measure, index, runs] of row.raw_hist) {
    for (const acc of [bucketOf(Number(bucket)), totals]) {
      if (measure === 0 && acc.rolledDuration) addHistogram(acc.duration, [[index, runs]]);
      if (measure === 1 && acc.rolledQueueWait) addHistogram(acc.queueWait, [[index, runs]]);
    }
  }
  for (const acc of byBucket.values()) addCounts(totals, acc.counts);
  return {
    buckets: bucketStarts(scope.from, scope.to, scope.bucket).map((start) => {
      const acc = byBucket.get(start.getTime());
      return { start, counts: acc ? countsOf(acc) : EMPTY_COUNTS };
    }),
    totals: countsOf(totals),
    failureCodes: mergeFailures(row.failures, failureCodeLimit),
  };
}

function countsOf(acc: Accumulator): RunMetricsCounts {
  const c = acc.counts;
  if (c.total === 0) return EMPTY_COUNTS;
  const finished = c.succeeded + c.failed + c.cancelled;
  const duration = acc.rolledDuration ? histPercentiles(acc.duration, [0.5, 0.95]) : (acc.exactDuration ?? [null, null]);
  const queueWait = acc.rolledQueueWait ? histPercentiles(acc.queueWait, [0.5, 0.95]) : (acc.exactQueueWait ?? [null, null]);
  return {
    ...c,
    failureRate: finished === 0 ? null : Math.round((c.failed / finished) * 10_000) / 10_000,
    p50DurationMs: ms(duration[0]),
    p95DurationMs: ms(duration[1]),
    p50QueueWaitMs: ms(queueWait[0]),
    p95QueueWaitMs: ms(queueWait[1]),
  };
}

/** The rollup's and the runs' failure codes as one list: runs added, the earliest first and the latest last (by time, then run id). */
function mergeFailures(rows: ReadRow['failures'], limit: number): RunFailureCode[] {
  const byCode = new Map<string, RunFailureCode>();
  for (const r of rows) {
    const firstAt = new Date(r.first_at);
    const lastAt = new Date(r.last_at);
    const known = byCode.get(r.code);
    if (!known) {
      byCode.set(r.code, { code: r.code, runs: r.runs, firstAt, lastAt, lastMessage: r.last_message ?? '', lastRunId: r.last_run_id });
      continue;
    }
    known.runs += r.runs;
    if (firstAt < known.firstAt) known.firstAt = firstAt;
    if (lastAt > known.lastAt || (lastAt.getTime() === known.lastAt.getTime() && r.last_run_id > known.lastRunId)) {
      known.lastAt = lastAt;
      known.lastRunId = r.last_run_id;
      known.lastMessage = r.last_message ?? '';
    }
  }
  return [...byCode.values()].sort((a, b) => b.runs - a.runs || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)).slice(0, limit);
}
