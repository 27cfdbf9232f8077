import type { Queryable } from '@orchestra/lib';
import { camelRow, camelRows, prepared } from './rows';

/** What operators set for an organization; a null field: the platform's default. */
export interface OrgQuotaRow {
  orgId: string;
  runningTasksPerPool: number | null;
  runsStartedPerMinute: number | null;
  queuedTasks: number | null;
  waitingTasks: number | null;
  weight: number | null;
  updatedBy: string;
  updatedAt: Date;
}

export interface PoolGrantRow {
  orgId: string;
  pool: string;
  grantedBy: string;
  grantedAt: Date;
}

export async function findOrgQuota(db: Queryable, orgId: string): Promise<OrgQuotaRow | undefined> {
  const { rows } = await db.query('SELECT * FROM org_quotas WHERE org_id = $1', [orgId]);
  return rows[0] ? camelRow<OrgQuotaRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findOrgQuotas(db: Queryable, orgIds: readonly string[]): Promise<Map<string, OrgQuotaRow>> {
  if (orgIds.length === 0) return new Map();
  const { rows } = await db.query('SELECT * FROM org_quotas WHERE org_id = ANY($1::uuid[])', [orgIds]);
  return new Map(camelRows<OrgQuotaRow>(rows as Array<Record<string, unknown>>).map((q) => [q.orgId, q]));
}

/** Sets the fields given (undefined: unchanged; null: back to the default). */
export async function upsertOrgQuota(
  db: Queryable,
  orgId: string,
  change: Partial<Record<'runningTasksPerPool' | 'runsStartedPerMinute' | 'queuedTasks' | 'waitingTasks' | 'weight', number | null>>,
  updatedBy: string,
): Promise<OrgQuotaRow> {
  const has = (k: keyof typeof change) => change[k] !== undefined;
  const { rows } = await db.query(
    `INSERT INTO org_quotas (org_id, running_tasks_per_pool, runs_started_per_minute, queued_tasks, weight, updated_by, waiting_tasks)
     VALUES ($1, $3, $5, $7, $9, $10, $12)
     ON CONFLICT (org_id) DO UPDATE SET
       running_tasks_per_pool = CASE WHEN $2 THEN EXCLUDED.running_tasks_per_pool ELSE org_quotas.running_tasks_per_pool END,
       runs_started_per_minute = CASE WHEN $4 THEN EXCLUDED.runs_started_per_minute ELSE org_quotas.runs_started_per_minute END,
       queued_tasks = CASE WHEN $6 THEN EXCLUDED.queued_tasks ELSE org_quotas.queued_tasks END,
       weight = CASE WHEN $8 THEN EXCLUDED.weight ELSE org_quotas.weight END,
       waiting_tasks = CASE WHEN $11 THEN EXCLUDED.waiting_tasks ELSE org_quotas.waiting_tasks END,
       updated_by = EXCLUDED.updated_by, updated_at = now()
     RETURNING *`,
    [
      orgId,
      has('runningTasksPerPool'),
      change.runningTasksPerPool ?? null,
      has('runsStartedPerMinute'),
      change.runsStartedPerMinute ?? null,
      has('queuedTasks'),
      change.queuedTasks ?? null,
      has('weight'),
      change.weight ?? null,
      updatedBy,
      has('waitingTasks'),
      change.waitingTasks ?? null,
    ],
  );
  return camelRow<OrgQuotaRow>(rows[0] as Record<string, unknown>);
}

export async function listPoolGrants(db: Queryable, orgId: string): Promise<PoolGrantRow[]> {
  const { rows } = await db.query('SELECT * FROM pool_grants WHERE org_id = $1 ORDER BY pool', [orgId]);
  return camelRows<PoolGrantRow>(rows as Array<Record<string, unknown>>);
}

/** Grants a pool; false when it was granted already. */
export async function grantPool(db: Queryable, orgId: string, pool: string, grantedBy: string): Promise<boolean> {
  const { rowCount } = await db.query('INSERT INTO pool_grants (org_id, pool, granted_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [orgId, pool, grantedBy]);
  return rowCount === 1;
}

export async function revokePool(db: Queryable, orgId: string, pool: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM pool_grants WHERE org_id = $1 AND pool = $2', [orgId, pool]);
  return rowCount === 1;
}

/** What an organization uses now: runs started in the last minute, tasks queued, tasks of wait steps waiting, tasks running per pool. */
export interface OrgUsage {
  runsStartedLastMinute: number;
  /** Attempts waiting for a worker (the queue outbox): wait steps' tasks are not among them. */
  queuedTasks: number;
  /** Tasks of wait steps waiting (approval, event, sleepUntil). */
  waitingTasks: number;
  runningByPool: Array<{ pool: string; running: number }>;
}

/**
 * The smallest UUIDv7 of a millisecond: run ids are UUIDv7, so "runs since t" is a range of the
 * (org_id, id) index rather than a scan of every run of the organization.
 */
export function uuidV7Floor(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/** Runs the organization started since `since` (a range of its run ids). */
export async function countRunsSince(db: Queryable, orgId: string, since: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    prepared('countRunsSince', 'SELECT count(*)::int AS n FROM runs WHERE org_id = $1 AND id >= $2::uuid AND created_at >= $3', [orgId, uuidV7Floor(since), since]),
  );
  return rows[0]?.n ?? 0;
}

export async function orgUsage(db: Queryable, orgId: string): Promise<OrgUsage> {
  const since = new Date(Date.now() - 60_000);
  const { rows } = await db.query<{ runs: number; queued: number; waiting: number; running: Array<{ pool: string; running: number }> }>(
    `SELECT (SELECT count(*) FROM runs WHERE org_id = $1 AND id >= $2::uuid AND created_at >= $3)::int AS runs,
            (SELECT count(*) FROM dispatch_outbox WHERE org_id = $1)::int AS queued,
            (SELECT count(*) FROM task_waits WHERE org_id = $1 AND status = 'WAITING')::int AS waiting,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('pool', pool, 'running', n) ORDER BY pool), '[]'::jsonb)
               FROM (SELECT t.pool, count(*)::int AS n FROM task_attempts a JOIN tasks t ON t.id = a.task_id
                      WHERE a.org_id = $1 AND a.status = 'RUNNING' GROUP BY t.pool) p) AS running`,
    [orgId, uuidV7Floor(since), since],
  );
  const r = rows[0];
  return { runsStartedLastMinute: r?.runs ?? 0, queuedTasks: r?.queued ?? 0, waitingTasks: r?.waiting ?? 0, runningByPool: r?.running ?? [] };
}

/**
 * Claims the notice of `quota` for the organization: true (and the time noted) when it was never
 * announced or last announced more than `windowMs` ago, false while the window runs. Concurrent
 * claims of one quota are serialized by its row, so one of them wins.
 */
export async function claimQuotaNotice(db: Queryable, orgId: string, quota: string, windowMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO quota_notices (org_id, quota) VALUES ($1, $2)
     ON CONFLICT (org_id, quota) DO UPDATE SET notified_at = now()
       WHERE quota_notices.notified_at <= now() - make_interval(secs => $3::float8 / 1000)
     RETURNING 1`,
    [orgId, quota, windowMs],
  );
  return rowCount === 1;
}
