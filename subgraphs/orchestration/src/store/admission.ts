import type { Queryable } from '@orchestra/lib';
import { prepared, rowFromJson, type RunRow } from './rows';

// The statements of the claim's flow-control admission (engine/dispatch/admission.ts). They run in
// the claim transaction, after its runs' locks; what they count is serialized by lockAdmissionKeys.

/**
 * Takes the transaction-scoped advisory locks of these admission keys (concurrency keys, rate
 * limits), in sorted order so two claims never wait on each other in a circle. A claim takes them
 * after its runs' locks, and nothing takes a run's lock while holding one, so they never deadlock
 * with the run locks either. Held until commit: the next claim of a key counts what this one started.
 */
export async function lockAdmissionKeys(db: Queryable, keys: readonly string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await db.query(prepared('lockAdmissionKeys', `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7001))) FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) GROUP BY ()`, [sorted]));
}

/** A run or task that holds a place under a concurrency key, or waits for one ahead of another. */
export interface KeyHolder {
  /** The run's id (run keys) or the task's (step keys). */
  id: string;
  runId: string;
  status: 'QUEUED' | 'RUNNING';
  /** It came before the one asking (a RUNNING one may have come after it). */
  older: boolean;
}

/**
 * What is ahead of a run (or task) under its concurrency key: the runs (tasks) of the key that run,
 * and those waiting that came before it (created earlier; ties by id), oldest first, at most `max`.
 */
export async function keyHoldersAhead(db: Queryable, scope: 'run' | 'task', orgId: string, key: string, id: string, max: number): Promise<KeyHolder[]> {
  const table = scope === 'run' ? 'runs' : 'tasks';
  const runId = scope === 'run' ? 'x.id' : 'x.run_id';
  const { rows } = await db.query<{ id: string; run_id: string; status: 'QUEUED' | 'RUNNING'; older: boolean }>(
    prepared(
      `keyHoldersAhead.${scope}`,
      `WITH me AS (SELECT m.created_at, m.id FROM ${table} m WHERE m.id = $3)
       SELECT x.id, ${runId} AS run_id, x.status, (x.created_at, x.id) < (me.created_at, me.id) AS older
         FROM ${table} x, me
        WHERE x.org_id = $1 AND x.concurrency_key = $2 AND x.status IN ('QUEUED', 'RUNNING') AND x.id <> $3
          AND (x.status = 'RUNNING' OR (x.created_at, x.id) < (me.created_at, me.id))
        ORDER BY x.created_at, x.id
        LIMIT $4`,
      [orgId, key, id, max],
    ),
  );
  return rows.map((r) => ({ id: r.id, runId: r.run_id, status: r.status, older: r.older }));
}

/** Runs locked for this transaction unless another holds them (SKIP LOCKED): runs a claim cancels to make room. */
export async function lockRunsIfFree(db: Queryable, runIds: readonly string[]): Promise<RunRow[]> {
  if (runIds.length === 0) return [];
  const { rows } = await db.query<{ run: Record<string, unknown> }>(
    prepared('lockRunsIfFree', `SELECT to_jsonb(r) AS run FROM runs r WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE SKIP LOCKED`, [[...new Set(runIds)]]),
  );
  return rows.map((r) => rowFromJson<RunRow>(r.run));
}

/** A named rate limit as a claim sees it after taking its lock: what its window used so far (clock time). */
export interface RateLimitWindow {
  id: string;
  orgId: string;
  name: string;
  limit: number;
  period: 'SECOND' | 'MINUTE' | 'HOUR';
  used: number;
  /** When the oldest use in the window leaves it (units free up then), if any. */
  freesAt: Date | null;
  /** The database's clock when it was read. */
  now: Date;
  /** The same, exact (microseconds): the time the uses this claim gives out are recorded at. */
  nowExact: string;
}

export const rateLimitLockKey = (orgId: string, name: string): string => `rate-limit:${orgId}:${name}`;

/** The organizations' limits of these names, each with the units its window used (read at the clock, after the limits' locks). */
export async function rateLimitWindows(db: Queryable, wanted: ReadonlyArray<{ orgId: string; name: string }>): Promise<Map<string, RateLimitWindow>> {
  if (wanted.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; org_id: string; name: string; limit: number; period: RateLimitWindow['period']; used: number; frees_at: Date | null; now: Date; now_exact: string }>(
    prepared(
      'rateLimitWindows',
      `WITH w AS (SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb) AS w(org_id uuid, name text)),
            l AS (SELECT l.*, make_interval(secs => CASE l.period WHEN 'SECOND' THEN 1 WHEN 'MINUTE' THEN 60 ELSE 3600 END) AS span, clock_timestamp() AS now
                    FROM w JOIN rate_limits l ON l.org_id = w.org_id AND l.name = w.name)
       SELECT l.id, l.org_id, l.name, l.units_per_period AS "limit", l.period, coalesce(u.used, 0)::int AS used, u.oldest + l.span AS frees_at, l.now, l.now::text AS now_exact
         FROM l LEFT JOIN LATERAL (
           SELECT sum(x.units) AS used, min(x.at) AS oldest FROM rate_limit_usage x WHERE x.rate_limit_id = l.id AND x.at > l.now - l.span
         ) u ON true`,
      [JSON.stringify(wanted.map((w) => ({ org_id: w.orgId, name: w.name })))],
    ),
  );
  return new Map(rows.map((r) => [rateLimitLockKey(r.org_id, r.name), { id: r.id, orgId: r.org_id, name: r.name, limit: r.limit, period: r.period, used: r.used, freesAt: r.frees_at, now: r.now, nowExact: r.now_exact }]));
}

/** Units of a rate limit an attempt consumed when it started. */
export interface RateLimitUsage {
  rateLimitId: string;
  orgId: string;
  attemptId: string;
  units: number;
  /** The clock its window was read at (RateLimitWindow.nowExact): the window the next claim reads then ends exactly there. */
  at: string;
}

/**
 * Records what started attempts consumed, at the time their windows were read (the next claim,
 * which waited for this one's locks, reads later, so its window covers them exactly), and forgets
 * uses of those limits older than an hour.
 */
export async function recordRateLimitUsage(db: Queryable, usage: readonly RateLimitUsage[]): Promise<void> {
  if (usage.length === 0) return;
  await db.query(
    prepared(
      'recordRateLimitUsage',
      `WITH u AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(rate_limit_id uuid, org_id uuid, attempt_id uuid, units int, at timestamptz)),
            pruned AS (DELETE FROM rate_limit_usage x WHERE x.rate_limit_id IN (SELECT rate_limit_id FROM u) AND x.at < clock_timestamp() - interval '1 hour')
       INSERT INTO rate_limit_usage (rate_limit_id, org_id, attempt_id, units, at)
       SELECT rate_limit_id, org_id, attempt_id, units, at FROM u
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(usage.map((u) => ({ rate_limit_id: u.rateLimitId, org_id: u.orgId, attempt_id: u.attemptId, units: u.units, at: u.at })))],
    ),
  );
}

/** Tasks of each organization running in each pool now, for these (organization, pool) pairs, keyed `org:pool`. */
export async function runningTasksByOrgPool(db: Queryable, pairs: ReadonlyArray<{ orgId: string; pool: string }>): Promise<Map<string, number>> {
  if (pairs.length === 0) return new Map();
  const { rows } = await db.query<{ org_id: string; pool: string; n: number }>(
    prepared(
      'runningTasksByOrgPool',
      `SELECT p.org_id, p.pool, (SELECT count(*) FROM tasks t WHERE t.org_id = p.org_id AND t.pool = p.pool AND t.status = 'RUNNING')::int AS n
         FROM (SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb) AS p(org_id uuid, pool text)) p`,
      [JSON.stringify(pairs.map((p) => ({ org_id: p.orgId, pool: p.pool })))],
    ),
  );
  return new Map(rows.map((r) => [`${r.org_id}:${r.pool}`, r.n]));
}
