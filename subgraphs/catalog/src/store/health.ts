import type { Queryable } from '@orchestra/lib';
import type { NoticeState } from '../health/notices';

export type HealthStatus = 'unknown' | 'up' | 'down';

export interface HealthRow {
  app_id: string;
  org_id: string;
  status: HealthStatus;
  status_since: Date;
  consecutive_failures: number;
  checks_total: string;
  checks_failed: string;
  last_checked_at: Date | null;
  last_latency_ms: number | null;
  last_http_status: number | null;
  last_error: string | null;
  monitoring_since: Date;
  next_check_at: Date;
}

export interface HealthChangeRow {
  id: string;
  app_id: string;
  status: HealthStatus;
  previous_status: HealthStatus;
  changed_at: Date;
  http_status: number | null;
  error: string | null;
}

const HEALTH_COLUMNS = `app_id, org_id, status, status_since, consecutive_failures, checks_total, checks_failed, last_checked_at,
  last_latency_ms, last_http_status, last_error, monitoring_since, next_check_at`;
const CHANGE_COLUMNS = 'id, app_id, status, previous_status, changed_at, http_status, error';

export async function findHealth(db: Queryable, appId: string): Promise<HealthRow | undefined> {
  const { rows } = await db.query<HealthRow>(`SELECT ${HEALTH_COLUMNS} FROM app_health WHERE app_id = $1`, [appId]);
  return rows[0];
}

/**
 * Starts (or restarts, after the URL changed) monitoring an app: status unknown, counters zero,
 * probed at once unless `paused` (archived apps are not probed).
 */
export async function resetHealth(db: Queryable, row: { appId: string; orgId: string; paused: boolean }): Promise<HealthRow> {
  const { rows } = await db.query<HealthRow>(
    `INSERT INTO app_health (app_id, org_id, next_check_at) VALUES ($1, $2, CASE WHEN $3 THEN 'infinity'::timestamptz ELSE now() END)
     ON CONFLICT (app_id) DO UPDATE SET status = 'unknown', status_since = now(), consecutive_failures = 0, checks_total = 0,
       checks_failed = 0, last_checked_at = NULL, last_latency_ms = NULL, last_http_status = NULL, last_error = NULL,
       monitoring_since = now(), next_check_at = EXCLUDED.next_check_at
     RETURNING ${HEALTH_COLUMNS}`,
    [row.appId, row.orgId, row.paused],
  );
  return rows[0]!;
}

/** Stops monitoring an app and forgets its history (its health-check URL was removed). */
export async function deleteHealth(db: Queryable, appId: string): Promise<void> {
  await db.query('DELETE FROM app_health_changes WHERE app_id = $1', [appId]);
  await db.query('DELETE FROM app_health WHERE app_id = $1', [appId]);
}

/** Archived apps keep their health row but are not probed ('infinity'); restoring probes at once. */
export async function setHealthProbing(db: Queryable, appId: string, probing: boolean): Promise<void> {
  await db.query(
    `UPDATE app_health SET next_check_at = CASE WHEN $2 THEN now() ELSE 'infinity'::timestamptz END WHERE app_id = $1`,
    [appId, probing],
  );
}

export interface DueProbe {
  app_id: string;
  org_id: string;
  url: string;
}

/**
 * Milliseconds until the next probe of an app with a health URL is due, by the database's clock (paused
 * apps wait at infinity and do not count); undefined when none is.
 */
export async function probeDueInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    `SELECT extract(epoch FROM min(h.next_check_at) - now())::float8 * 1000 AS ms
       FROM app_health h JOIN apps a ON a.id = h.app_id AND a.health_check_url IS NOT NULL
      WHERE h.next_check_at < 'infinity'`,
  );
  return rows[0]?.ms ?? undefined;
}

/**
 * Claims up to `limit` apps whose probe is due, across all orgs (a system transaction), leasing each
 * for `leaseMs`: long enough for the probe to finish and be recorded, which then schedules the next
 * one. Rows another replica is claiming are skipped, so replicas share the work and never probe the
 * same app at once; a replica that dies mid-probe only delays that app until its lease runs out.
 */
export async function claimDueProbes(db: Queryable, limit: number, leaseMs: number): Promise<DueProbe[]> {
  const { rows } = await db.query<DueProbe>(
    `WITH due AS (
       SELECT app_id FROM app_health WHERE next_check_at <= now() ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE app_health h SET next_check_at = now() + make_interval(secs => $2::float8 / 1000)
     FROM due, apps a
     WHERE h.app_id = due.app_id AND a.id = h.app_id AND a.health_check_url IS NOT NULL
     RETURNING h.app_id, h.org_id, a.health_check_url AS url`,
    [limit, leaseMs],
  );
  return rows;
}

/** What recording a probe result needs: the app's current status, URL and name, and what was last announced about it. */
export interface HealthForResult {
  orgId: string;
  status: HealthStatus;
  consecutiveFailures: number;
  url: string | null;
  appName: string;
  notice: NoticeState;
}

/** Reads what recording a probe result needs, locked until the transaction ends. */
export async function lockHealthForResult(db: Queryable, appId: string): Promise<HealthForResult | undefined> {
  const { rows } = await db.query<HealthForResult & { notifiedStatus: 'up' | 'down' | null; notifiedAt: Date | null; changesSinceNotice: number }>(
    `SELECT h.org_id AS "orgId", h.status, h.consecutive_failures AS "consecutiveFailures", a.health_check_url AS url, a.name AS "appName",
            h.notified_status AS "notifiedStatus", h.notified_at AS "notifiedAt", h.changes_since_notice AS "changesSinceNotice"
     FROM app_health h JOIN apps a ON a.id = h.app_id WHERE h.app_id = $1 FOR UPDATE OF h`,
    [appId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { notifiedStatus, notifiedAt, changesSinceNotice, ...rest } = row;
  return { ...rest, notice: { notifiedStatus, notifiedAt, changesSinceNotice } };
}

export interface ProbeOutcome {
  /** The next probe is due this long after now, plus up to `jitter` of it at random (spreads probes out). */
  intervalMs: number;
  jitter: number;
  status: HealthStatus;
  statusChanged: boolean;
  consecutiveFailures: number;
  failed: boolean;
  latencyMs: number;
  httpStatus: number | null;
  error: string | null;
  /** What is now known to have been announced (health/notices.ts). */
  notice: NoticeState;
}

export async function saveProbeOutcome(db: Queryable, appId: string, outcome: ProbeOutcome): Promise<void> {
  await db.query(
    `UPDATE app_health SET status = $2, status_since = CASE WHEN $3 THEN now() ELSE status_since END, consecutive_failures = $4,
       checks_total = checks_total + 1, checks_failed = checks_failed + CASE WHEN $5 THEN 1 ELSE 0 END,
       last_checked_at = now(), last_latency_ms = $6, last_http_status = $7, last_error = $8,
       -- An app archived while its probe ran stays unscheduled.
       next_check_at = CASE WHEN next_check_at = 'infinity' THEN next_check_at
                            ELSE now() + make_interval(secs => $9::float8 / 1000 * (1 + random() * $10::float8)) END,
       notified_status = $11, notified_at = $12, changes_since_notice = $13
     WHERE app_id = $1`,
    [
      appId,
      outcome.status,
      outcome.statusChanged,
      outcome.consecutiveFailures,
      outcome.failed,
      outcome.latencyMs,
      outcome.httpStatus,
      outcome.error,
      outcome.intervalMs,
      outcome.jitter,
      outcome.notice.notifiedStatus,
      outcome.notice.notifiedAt,
      outcome.notice.changesSinceNotice,
    ],
  );
}

export async function insertHealthChange(
  db: Queryable,
  row: { id: string; orgId: string; appId: string; status: HealthStatus; previousStatus: HealthStatus; httpStatus: number | null; error: string | null },
): Promise<HealthChangeRow> {
  const { rows } = await db.query<HealthChangeRow>(
    `INSERT INTO app_health_changes (id, org_id, app_id, status, previous_status, http_status, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${CHANGE_COLUMNS}`,
    [row.id, row.orgId, row.appId, row.status, row.previousStatus, row.httpStatus, row.error],
  );
  return rows[0]!;
}

/** Newest first; `beforeId` (UUIDv7, time-ordered) continues a previous page. Reads limit + 1 rows. */
export async function listHealthChanges(db: Queryable, appId: string, beforeId: string | undefined, limit: number): Promise<HealthChangeRow[]> {
  const { rows } = await db.query<HealthChangeRow>(
    `SELECT ${CHANGE_COLUMNS} FROM app_health_changes WHERE app_id = $1 AND ($2::uuid IS NULL OR id < $2)
     ORDER BY id DESC LIMIT $3`,
    [appId, beforeId ?? null, limit + 1],
  );
  return rows;
}

/**
 * Seconds spent in each status during the last `windowSeconds`: the status in force when the
 * window opened (the latest change before it) and every change inside it, each lasting until the
 * next change or now. Time before monitoring began is in no status at all.
 */
export async function secondsByStatus(db: Queryable, appId: string, windowSeconds: number): Promise<Array<{ status: HealthStatus; seconds: number }>> {
  const { rows } = await db.query<{ status: HealthStatus; seconds: number }>(
    `WITH bounds AS (SELECT now() - make_interval(secs => $2::float8) AS opened),
     relevant AS (
       (SELECT c.status, c.changed_at, c.id FROM app_health_changes c, bounds
        WHERE c.app_id = $1 AND c.changed_at <= bounds.opened ORDER BY c.changed_at DESC, c.id DESC LIMIT 1)
       UNION ALL
       (SELECT c.status, c.changed_at, c.id FROM app_health_changes c, bounds WHERE c.app_id = $1 AND c.changed_at > bounds.opened)
     ),
     timeline AS (
       SELECT status, greatest(changed_at, (SELECT opened FROM bounds)) AS started,
              coalesce(lead(changed_at) OVER (ORDER BY changed_at, id), now()) AS ended
       FROM relevant
     )
     SELECT status, coalesce(sum(extract(epoch FROM (ended - started))), 0)::float8 AS seconds FROM timeline GROUP BY status`,
    [appId, windowSeconds],
  );
  return rows;
}

/**
 * Deletes status changes older than `before`, except the newest such change per app: it tells the
 * status at the start of any window that reaches back that far.
 */
export async function pruneHealthChanges(db: Queryable, before: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM app_health_changes c WHERE c.changed_at < $1 AND EXISTS (
       SELECT 1 FROM app_health_changes n WHERE n.app_id = c.app_id AND n.changed_at < $1 AND (n.changed_at, n.id) > (c.changed_at, c.id))`,
    [before],
  );
  return rowCount ?? 0;
}
