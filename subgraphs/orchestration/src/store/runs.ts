import type { Queryable } from '@orchestra/lib';
import type { ConcurrencyHold } from '../domain/flow-control';
import type { RunStatus } from '../domain/states';
import type { StepDefinition } from '../domain/workflow-definition';
import { camelRow, camelRows, prepared, rowFromJson, type ErrorInfo, type RunRow } from './rows';

export interface NewRun {
  id: string;
  orgId: string;
  workflowId: string;
  workflowVersion: number;
  appId: string | null;
  input: unknown;
  idempotencyKey: string | null;
  startedByKind: string;
  startedById: string;
  startedByUserId: string | null;
  startedByApiKeyId: string | null;
  startedByDisplay: string | null;
  requestId: string | null;
  traceparent: string | null;
  priority: number | null;
  concurrencyKey: string | null;
  concurrency: ConcurrencyHold | null;
  /** Set: the run starts SCHEDULED and is queued at this time. */
  startAt?: Date | null | undefined;
}

export interface NewTask {
  id: string;
  step: StepDefinition;
  /** Effective (step, run, workflow, 3). */
  priority: number;
  concurrencyKey: string | null;
  concurrency: ConcurrencyHold | null;
}

export async function findRun(db: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await db.query('SELECT * FROM runs WHERE id = $1', [id]);
  return rows[0] ? camelRow<RunRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findRunsByIds(db: Queryable, ids: readonly string[]): Promise<RunRow[]> {
  const { rows } = await db.query('SELECT * FROM runs WHERE id = ANY($1::uuid[])', [ids]);
  return camelRows<RunRow>(rows as Array<Record<string, unknown>>);
}

/** The run, locked: every change to a run and its tasks takes this lock first (one order, no deadlocks). */
export async function lockRun(db: Queryable, id: string): Promise<RunRow | undefined> {
  const { rows } = await db.query('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] ? camelRow<RunRow>(rows[0] as Record<string, unknown>) : undefined;
}

export interface RunStatusChange {
  status: RunStatus;
  /** Set started_at if it is not set yet. */
  started?: boolean;
  /** Set finished_at to now (true) or clear it (false). */
  finished?: boolean;
  output?: unknown;
  error?: ErrorInfo | null;
  cancelReason?: string | null;
}

/** Changes the status of runs (locked by the caller) that take the same change, in one statement; the updated rows by id. */
export async function updateRunsStatus(db: Queryable, ids: readonly string[], change: RunStatusChange): Promise<Map<string, RunRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ run: Record<string, unknown> }>(
    prepared(
      'updateRunsStatus',
      `UPDATE runs SET
       status = $2,
       started_at = CASE WHEN $3 THEN coalesce(started_at, now()) ELSE started_at END,
       finished_at = CASE WHEN $4::boolean IS NULL THEN finished_at WHEN $4 THEN now() ELSE NULL END,
       output = CASE WHEN $5 THEN $6::jsonb ELSE output END,
       error = CASE WHEN $7 THEN $8::jsonb ELSE error END,
       cancel_reason = CASE WHEN $9 THEN $10 ELSE cancel_reason END,
       updated_at = now()
     WHERE id = ANY($1::uuid[]) RETURNING to_jsonb(runs) AS run`,
      [
        [...ids],
        change.status,
        change.started === true,
        change.finished ?? null,
        change.output !== undefined,
        change.output === undefined ? null : JSON.stringify(change.output),
        change.error !== undefined,
        change.error === undefined || change.error === null ? null : JSON.stringify(change.error),
        change.cancelReason !== undefined,
        change.cancelReason ?? null,
      ],
    ),
  );
  return new Map(rows.map((r) => rowFromJson<RunRow>(r.run)).map((run) => [run.id, run]));
}

export interface RunFilter {
  statuses?: RunStatus[] | undefined;
  workflowId?: string | undefined;
  appId?: string | undefined;
  startedByUserId?: string | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  /** A run id (or the idempotency key that looks like one), or an exact idempotency key. */
  search?: { runId: string | undefined; idempotencyKey: string } | undefined;
}

const runWhere = (filter: RunFilter, params: unknown[]): string => {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.statuses !== undefined && filter.statuses.length > 0) add('status = ANY(?::text[])', filter.statuses);
  if (filter.workflowId !== undefined) add('workflow_id = ?', filter.workflowId);
  if (filter.appId !== undefined) add('app_id = ?', filter.appId);
  if (filter.startedByUserId !== undefined) add('started_by_user_id = ?', filter.startedByUserId);
  if (filter.createdAfter !== undefined) add('created_at >= ?', filter.createdAfter);
  if (filter.createdBefore !== undefined) add('created_at < ?', filter.createdBefore);
  if (filter.search !== undefined) {
    // Both arms use an index: the primary key, and runs_idempotency_key (org_id, idempotency_key).
    params.push(filter.search.idempotencyKey);
    const key = `idempotency_key = $${params.length}`;
    if (filter.search.runId === undefined) clauses.push(key);
    else {
      params.push(filter.search.runId);
      clauses.push(`(id = $${params.length} OR ${key})`);
    }
  }
  return clauses.length > 0 ? clauses.join(' AND ') : 'true';
};

/** Newest first (ids are UUIDv7), after the cursor's id. */
export async function listRuns(db: Queryable, filter: RunFilter, afterId: string | undefined, limit: number): Promise<RunRow[]> {
  const params: unknown[] = [];
  let where = runWhere(filter, params);
  if (afterId !== undefined) {
    params.push(afterId);
    where += ` AND id < $${params.length}`;
  }
  params.push(limit);
  const { rows } = await db.query(`SELECT * FROM runs WHERE ${where} ORDER BY id DESC LIMIT $${params.length}`, params);
  return camelRows<RunRow>(rows as Array<Record<string, unknown>>);
}

export async function countRuns(db: Queryable, filter: RunFilter): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE ${runWhere(filter, params)}`, params);
  return rows[0]?.n ?? 0;
}

export interface RunStats {
  runs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  active: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

/** Counts and duration percentiles of the runs of an app created since `since`. */
export async function appRunStats(db: Queryable, appId: string, since: Date): Promise<RunStats> {
  const { rows } = await db.query<RunStats>(
    `SELECT count(*)::int AS runs,
            count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
            count(*) FILTER (WHERE status IN ('QUEUED', 'RUNNING'))::int AS active,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at) * 1000)
              FILTER (WHERE status = 'SUCCEEDED') AS "p50DurationMs",
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at) * 1000)
              FILTER (WHERE status = 'SUCCEEDED') AS "p95DurationMs"
       FROM runs WHERE app_id = $1 AND created_at >= $2`,
    [appId, since],
  );
  const r = rows[0];
  return {
    runs: r?.runs ?? 0,
    succeeded: r?.succeeded ?? 0,
    failed: r?.failed ?? 0,
    cancelled: r?.cancelled ?? 0,
    active: r?.active ?? 0,
    p50DurationMs: r?.p50DurationMs === null || r?.p50DurationMs === undefined ? null : Math.round(Number(r.p50DurationMs)),
    p95DurationMs: r?.p95DurationMs === null || r?.p95DurationMs === undefined ? null : Math.round(Number(r.p95DurationMs)),
  };
}
