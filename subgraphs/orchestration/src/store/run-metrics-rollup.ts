import type { Queryable } from '@orchestra/lib';

/**
 * The run metrics rollup's SQL (migration 032). Folded: exactly the finished runs (finished_at set)
 * whose row was last written (updated_at) before the watermark. The engine writes updated_at with
 * finished_at when a run finishes, and a finished run changes again only when it is retried (then it
 * is no longer finished, and its hour is queued for a refold); a run inserted finished (an import, a
 * test's seed) has updated_at of its insert, so it is folded too.
 * Only the rollup job writes run_metrics_hourly, run_metrics_daily and their failure tables, under one
 * advisory lock per schema, so a fold and a refold never race:
 *  - fold: adds the finished runs written in [watermark, until) to their hours' and days' rows, and
 *    moves the watermark;
 *  - refold: rebuilds an organization's hour from its folded runs, for the hours queued in
 *    run_metrics_refolds (a retried or deleted run), then those hours' days from their hourly rows.
 */

/** workflow_id / app_id of the rows that hold every workflow / every app. */
export const ALL_GROUPS = '00000000-0000-0000-0000-000000000000';
/** Hours are UTC hours: date_bin from this origin. */
export const ROLLUP_ORIGIN = '2000-01-01T00:00:00Z';
const ORIGIN_MS = Date.parse(ROLLUP_ORIGIN);
const DAY_MS = 86_400_000;

export const RUN_DURATION_MS = (r: string) => `extract(epoch FROM ${r}.finished_at - ${r}.started_at) * 1000`;
export const RUN_QUEUE_WAIT_MS = (r: string) => `extract(epoch FROM ${r}.started_at - greatest(${r}.created_at, coalesce(${r}.start_at, ${r}.created_at))) * 1000`;

const LOCK_KEY = `hashtext('orchestra-run-metrics-rollup:' || current_schema())`;

/** Says, for this transaction, that its rollup writes keep the day rows (migration 035 refuses hourly writes otherwise). */
const WRITES_DAYS = `set_config('orchestra.run_metrics_days', 'on', true)`;

/** The rollup's writer lock for this transaction; false when another transaction holds it (a replica's job). */
export async function tryLockRollup(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS locked, ${WRITES_DAYS}`);
  return rows[0]?.locked === true;
}

/** The rollup's writer lock for this transaction, waiting for whoever holds it. */
export async function lockRollup(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY}), ${WRITES_DAYS}`);
}

/** The watermark as PostgreSQL writes it ('-infinity' before the first fold): finished runs last written before it are folded. */
export async function foldedBefore(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ w: string }>('SELECT folded_before::text AS w FROM run_metrics_watermark');
  const w = rows[0]?.w;
  if (w === undefined) throw new Error('run_metrics_watermark has no row (migration 032)');
  return w;
}

/**
 * Queues the UTC hours of these runs' creation for a refold: a folded run was retried (it is no longer
 * finished) or is about to be deleted. In the caller's transaction, so runMetrics reads those hours
 * from the runs from the same commit on.
 */
export async function queueRefolds(db: Queryable, runs: ReadonlyArray<{ orgId: string; createdAt: Date }>): Promise<void> {
  if (runs.length === 0) return;
  await db.query(
    `INSERT INTO run_metrics_refolds (org_id, hour)
     SELECT DISTINCT p.org_id, date_bin('1 hour', p.created_at, '${ROLLUP_ORIGIN}') FROM unnest($1::uuid[], $2::timestamptz[]) AS p(org_id, created_at)`,
    [runs.map((r) => r.orgId), runs.map((r) => r.createdAt)],
  );
}

/** The rollup's two grains: hourly rows, and day rows (migration 035; each the sum of its day's hourly rows). */
const GRAINS = [
  { cells: 'run_metrics_hourly', failures: 'run_metrics_failures_hourly', column: 'hour' },
  { cells: 'run_metrics_daily', failures: 'run_metrics_failures_daily', column: 'day' },
] as const;

const STATUS_COLUMNS = ['total', 'scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
/** A failure row's latest run replaced by the one being added when that is later (by time, then run id). */
const LATER = `(EXCLUDED.last_at, EXCLUDED.last_run_id) > (t.last_at, t.last_run_id)`;

/** The CTEs adding x's runs (see foldStatement) to one grain's rows, named with `name`. */
function foldGrain(grain: (typeof GRAINS)[number], name: string): string {
  const at = grain.column;
  const sum = (c: string) => `${c} = t.${c} + EXCLUDED.${c}`;
  return `${name}_counts AS (
       SELECT org_id, workflow_id, app_id, ${at}, count(*)::int AS total,
              count(*) FILTER (WHERE status = 'SCHEDULED')::int AS scheduled,
              count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
              count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
              count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded,
              count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
              count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
         FROM x GROUP BY 1, 2, 3, 4
     ), ${name}_dh AS (
       SELECT org_id, workflow_id, app_id, ${at}, run_metrics_hist_json(array_agg(di), array_agg(n)) AS h
         FROM (SELECT org_id, workflow_id, app_id, ${at}, di, count(*) AS n FROM x WHERE di IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS d GROUP BY 1, 2, 3, 4
     ), ${name}_qh AS (
       SELECT org_id, workflow_id, app_id, ${at}, run_metrics_hist_json(array_agg(qi), array_agg(n)) AS h
         FROM (SELECT org_id, workflow_id, app_id, ${at}, qi, count(*) AS n FROM x WHERE qi IS NOT NULL GROUP BY 1, 2, 3, 4, 5) AS q GROUP BY 1, 2, 3, 4
     ), ${name}_cells AS (
       INSERT INTO ${grain.cells} AS t (org_id, workflow_id, app_id, ${at}, ${STATUS_COLUMNS.join(', ')}, duration_hist, queue_wait_hist)
       SELECT c.org_id, c.workflow_id, c.app_id, c.${at}, ${STATUS_COLUMNS.map((col) => `c.${col}`).join(', ')}, coalesce(dh.h, '{}'::json), coalesce(qh.h, '{}'::json)
         FROM ${name}_counts c LEFT JOIN ${name}_dh dh USING (org_id, workflow_id, app_id, ${at}) LEFT JOIN ${name}_qh qh USING (org_id, workflow_id, app_id, ${at})
       ON CONFLICT (org_id, workflow_id, app_id, ${at}) DO UPDATE SET
         ${STATUS_COLUMNS.map(sum).join(', ')},
         duration_hist = run_metrics_hist_add(t.duration_hist, EXCLUDED.duration_hist),
         queue_wait_hist = run_metrics_hist_add(t.queue_wait_hist, EXCLUDED.queue_wait_hist)
       RETURNING 1
     ), ${name}_failures AS (
       INSERT INTO ${grain.failures} AS t (org_id, workflow_id, app_id, ${at}, code, runs, first_at, last_at, last_run_id, last_message)
       SELECT org_id, workflow_id, app_id, ${at}, coalesce(error->>'code', 'UNKNOWN'), count(*)::int, min(created_at), max(created_at),
              (array_agg(id ORDER BY created_at DESC, id DESC))[1], (array_agg(error->>'message' ORDER BY created_at DESC, id DESC))[1]
         FROM x WHERE status = 'FAILED' GROUP BY 1, 2, 3, 4, 5
       ON CONFLICT (org_id, workflow_id, app_id, ${at}, code) DO UPDATE SET
         runs = t.runs + EXCLUDED.runs,
         first_at = least(t.first_at, EXCLUDED.first_at),
         last_at = greatest(t.last_at, EXCLUDED.last_at),
         last_run_id = CASE WHEN ${LATER} THEN EXCLUDED.last_run_id ELSE t.last_run_id END,
         last_message = CASE WHEN ${LATER} THEN EXCLUDED.last_message ELSE t.last_message END
       RETURNING 1
     )`;
}

/**
 * One statement adding the runs `source` selects (a subquery aliased r, all columns of runs) to the
 * rollup, hourly and (unless `hoursOnly`: a refold rebuilds the days from the hours after) day rows:
 * each run counts in its hour's and its day's row of every workflow, its workflow's, and (when it has
 * an app) its app's and its workflow-and-app's.
 */
function foldStatement(source: string, { hoursOnly = false } = {}): string {
  return `WITH x AS MATERIALIZED (
       SELECT r.id, r.org_id, r.status, r.created_at, r.error, date_bin('1 hour', r.created_at, '${ROLLUP_ORIGIN}') AS hour,
              date_bin('24 hours', r.created_at, '${ROLLUP_ORIGIN}') AS day,
              run_metrics_hist_index(${RUN_DURATION_MS('r')}) AS di, run_metrics_hist_index(${RUN_QUEUE_WAIT_MS('r')}) AS qi,
              g.workflow_id, g.app_id
         FROM ${source}
        CROSS JOIN LATERAL (VALUES ('${ALL_GROUPS}'::uuid, '${ALL_GROUPS}'::uuid), (r.workflow_id, '${ALL_GROUPS}'::uuid), ('${ALL_GROUPS}'::uuid, r.app_id), (r.workflow_id, r.app_id)) AS g(workflow_id, app_id)
        WHERE g.app_id IS NOT NULL
     ), ${foldGrain(GRAINS[0], 'h')}${hoursOnly ? '' : `, ${foldGrain(GRAINS[1], 'd')}`}
     SELECT (SELECT count(*) FROM x WHERE workflow_id = '${ALL_GROUPS}' AND app_id = '${ALL_GROUPS}')::int AS runs,
            (SELECT count(*) FROM h_cells)::int AS cells, (SELECT count(*) FROM h_failures)::int AS failure_rows${
              hoursOnly ? '' : `, (SELECT count(*) FROM d_cells)::int AS day_cells, (SELECT count(*) FROM d_failures)::int AS day_failure_rows`
            }`;
}

/**
 * Rebuilds these organizations' days (UTC day starts) from their hourly rows: after a refold has rebuilt
 * hours of them, so each day row is again the sum of its hours.
 */
async function rebuildDays(db: Queryable, orgs: string[], days: Date[]): Promise<void> {
  for (const table of ['run_metrics_daily', 'run_metrics_failures_daily']) {
    await db.query(`DELETE FROM ${table} t USING unnest($1::uuid[], $2::timestamptz[]) AS p(org_id, day) WHERE t.org_id = p.org_id AND t.day = p.day`, [orgs, days]);
  }
  const hoursOf = (table: string) => `unnest($1::uuid[], $2::timestamptz[]) AS p(org_id, day) JOIN ${table} h ON h.org_id = p.org_id AND h.hour >= p.day AND h.hour < p.day + interval '24 hours'`;
  await db.query(
    `INSERT INTO run_metrics_daily (org_id, workflow_id, app_id, day, ${STATUS_COLUMNS.join(', ')}, duration_hist, queue_wait_hist)
     SELECT h.org_id, h.workflow_id, h.app_id, p.day, ${STATUS_COLUMNS.map((c) => `sum(h.${c})::int`).join(', ')},
            run_metrics_hist_sum(h.duration_hist), run_metrics_hist_sum(h.queue_wait_hist)
       FROM ${hoursOf('run_metrics_hourly')} GROUP BY 1, 2, 3, 4`,
    [orgs, days],
  );
  await db.query(
    `INSERT INTO run_metrics_failures_daily (org_id, workflow_id, app_id, day, code, runs, first_at, last_at, last_run_id, last_message)
     SELECT h.org_id, h.workflow_id, h.app_id, p.day, h.code, sum(h.runs)::int, min(h.first_at), max(h.last_at),
            (array_agg(h.last_run_id ORDER BY h.last_at DESC, h.last_run_id DESC))[1], (array_agg(h.last_message ORDER BY h.last_at DESC, h.last_run_id DESC))[1]
       FROM ${hoursOf('run_metrics_failures_hourly')} GROUP BY 1, 2, 3, 4, 5`,
    [orgs, days],
  );
}

export interface FoldBatch {
  /** Runs folded by this batch. */
  runs: number;
  /** More runs are settled than one batch takes: fold again at once. */
  more: boolean;
  /** The watermark after the batch. */
  foldedBefore: string;
}

/**
 * Folds the next batch of settled finished runs (call under tryLockRollup): at most about `maxRuns`
 * (more only when more than that many were written at the same instant, which are folded together),
 * oldest write first. Settled: written at least `settleMs` ago, and before every other open transaction
 * of this database began — a transaction writes updated_at as its own start (now()) and may commit
 * later, so a run is folded only once no transaction that could still commit it is open. (Sessions of
 * other roles show no xact_start to a role without pg_read_all_stats; `settleMs` covers those.)
 */
export async function foldSettledRuns(db: Queryable, { maxRuns, settleMs }: { maxRuns: number; settleMs: number }): Promise<FoldBatch> {
  const { rows } = await db.query<{ since: string; fold_until: string; more: boolean }>(
    `WITH w AS (
       SELECT folded_before AS since,
              least(now() - make_interval(secs => $1::float8 / 1000),
                    coalesce((SELECT min(xact_start) FROM pg_stat_activity
                               WHERE datname = current_database() AND backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()), 'infinity')) AS upto
         FROM run_metrics_watermark
     ), b AS (
       SELECT w.since, w.upto,
              (SELECT r.updated_at FROM runs r WHERE r.finished_at IS NOT NULL AND r.updated_at >= w.since AND r.updated_at < w.upto ORDER BY r.updated_at OFFSET $2 LIMIT 1) AS nth
         FROM w
     ), u AS (
       SELECT since, upto, CASE
                WHEN upto <= since THEN since
                WHEN nth IS NULL THEN upto
                WHEN nth > since THEN nth
                -- More than maxRuns written at \`since\` itself: they go in one batch.
                ELSE coalesce((SELECT min(r.updated_at) FROM runs r WHERE r.finished_at IS NOT NULL AND r.updated_at > b.since AND r.updated_at < b.upto), upto)
              END AS fold_until
         FROM b
     )
     SELECT since::text AS since, fold_until::text AS fold_until, fold_until < upto AS more FROM u`,
    [settleMs, maxRuns],
  );
  const bounds = rows[0];
  if (!bounds) throw new Error('run_metrics_watermark has no row (migration 032)');
  if (bounds.fold_until === bounds.since) return { runs: 0, more: false, foldedBefore: bounds.since };
  const folded = await db.query<{ runs: number }>(foldStatement(`(SELECT * FROM runs WHERE finished_at IS NOT NULL AND updated_at >= $1::timestamptz AND updated_at < $2::timestamptz) AS r`), [bounds.since, bounds.fold_until]);
  await db.query('UPDATE run_metrics_watermark SET folded_before = $1::timestamptz, updated_at = now()', [bounds.fold_until]);
  return { runs: folded.rows[0]?.runs ?? 0, more: bounds.more, foldedBefore: bounds.fold_until };
}

/**
 * Refolds up to `limit` queued hours (call under tryLockRollup, before foldSettledRuns moves the
 * watermark): each organization's hour is rebuilt from its folded runs,
 * and the queue rows read are deleted (rows queued meanwhile stay for the next pass). Resolves to the
 * hours refolded.
 */
export async function refoldQueuedHours(db: Queryable, limit: number): Promise<number> {
  const { rows: queued } = await db.query<{ id: string; org_id: string; hour: Date }>('SELECT id, org_id, hour FROM run_metrics_refolds ORDER BY id LIMIT $1', [limit]);
  if (queued.length === 0) return 0;
  const hours = new Map<string, { orgId: string; hour: Date }>();
  for (const q of queued) hours.set(`${q.org_id}/${q.hour.getTime()}`, { orgId: q.org_id, hour: q.hour });
  const orgs = [...hours.values()].map((h) => h.orgId);
  const starts = [...hours.values()].map((h) => h.hour);
  for (const table of ['run_metrics_hourly', 'run_metrics_failures_hourly']) {
    await db.query(`DELETE FROM ${table} t USING unnest($1::uuid[], $2::timestamptz[]) AS p(org_id, hour) WHERE t.org_id = p.org_id AND t.hour = p.hour`, [orgs, starts]);
  }
  await db.query(
    foldStatement(
      `(SELECT r.* FROM unnest($1::uuid[], $2::timestamptz[]) AS p(org_id, hour)
          JOIN runs r ON r.org_id = p.org_id AND r.created_at >= p.hour AND r.created_at < p.hour + interval '1 hour'
         WHERE r.finished_at IS NOT NULL AND r.updated_at < (SELECT folded_before FROM run_metrics_watermark)) AS r`,
      { hoursOnly: true },
    ),
    [orgs, starts],
  );
  const days = new Map<string, { orgId: string; day: Date }>();
  for (const h of hours.values()) {
    const day = new Date(Math.floor((h.hour.getTime() - ORIGIN_MS) / DAY_MS) * DAY_MS + ORIGIN_MS);
    days.set(`${h.orgId}/${day.getTime()}`, { orgId: h.orgId, day });
  }
  await rebuildDays(db, [...days.values()].map((d) => d.orgId), [...days.values()].map((d) => d.day));
  await db.query('DELETE FROM run_metrics_refolds WHERE id = ANY($1::bigint[])', [queued.map((q) => q.id)]);
  return hours.size;
}
