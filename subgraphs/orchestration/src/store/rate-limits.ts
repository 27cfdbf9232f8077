import type { Queryable } from '@orchestra/lib';
import type { RateLimitPeriod } from '../domain/flow-control';
import { camelRow, camelRows } from './rows';

/** A named rate limit of an organization (rows → domain objects here). */
export interface RateLimitRow {
  id: string;
  orgId: string;
  name: string;
  /** Units a window allows. */
  limit: number;
  period: RateLimitPeriod;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, org_id, name, units_per_period AS "limit", period, created_by, created_at, updated_at';

export async function insertRateLimit(db: Queryable, r: { id: string; orgId: string; name: string; limit: number; period: RateLimitPeriod; createdBy: string }): Promise<RateLimitRow> {
  const { rows } = await db.query(
    `INSERT INTO rate_limits (id, org_id, name, units_per_period, period, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [r.id, r.orgId, r.name, r.limit, r.period, r.createdBy],
  );
  return camelRow<RateLimitRow>(rows[0] as Record<string, unknown>);
}

/** Changes a limit's units or period (locks its row until the transaction ends); undefined when there is none. */
export async function updateRateLimit(db: Queryable, id: string, change: { limit?: number; period?: RateLimitPeriod }): Promise<RateLimitRow | undefined> {
  const { rows } = await db.query(
    `UPDATE rate_limits SET units_per_period = coalesce($2, units_per_period), period = coalesce($3, period), updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, change.limit ?? null, change.period ?? null],
  );
  return rows[0] ? camelRow<RateLimitRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function deleteRateLimit(db: Queryable, id: string): Promise<RateLimitRow | undefined> {
  const { rows } = await db.query(`DELETE FROM rate_limits WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0] ? camelRow<RateLimitRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findRateLimit(db: Queryable, id: string): Promise<RateLimitRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM rate_limits WHERE id = $1`, [id]);
  return rows[0] ? camelRow<RateLimitRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** The organization's limits by name (of those named); under a tenant transaction, only its own. */
export async function findRateLimitsByName(db: Queryable, names: readonly string[]): Promise<Map<string, RateLimitRow>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM rate_limits WHERE name = ANY($1::text[])`, [names]);
  return new Map(camelRows<RateLimitRow>(rows as Array<Record<string, unknown>>).map((r) => [r.name, r]));
}

export async function listRateLimits(db: Queryable): Promise<RateLimitRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM rate_limits ORDER BY name`);
  return camelRows<RateLimitRow>(rows as Array<Record<string, unknown>>);
}

export async function countRateLimits(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM rate_limits');
  return rows[0]?.n ?? 0;
}

/** Units each limit has used in its current window (the last second, minute or hour up to now). */
export async function rateLimitUsage(db: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; used: number }>(
    `SELECT l.id, coalesce((SELECT sum(u.units) FROM rate_limit_usage u
                              WHERE u.rate_limit_id = l.id
                                AND u.at > now() - CASE l.period WHEN 'SECOND' THEN interval '1 second' WHEN 'MINUTE' THEN interval '1 minute' ELSE interval '1 hour' END), 0)::int AS used
       FROM rate_limits l WHERE l.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.used]));
}

/** The workflows whose latest version has a step that consumes this limit (what deleting it would break). */
export async function workflowsUsingRateLimit(db: Queryable, name: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT w.name FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version
      WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(v.steps) s, jsonb_array_elements(coalesce(s -> 'rateLimits', '[]'::jsonb)) r WHERE r ->> 'name' = $1)
      ORDER BY w.name LIMIT 20`,
    [name],
  );
  return rows.map((r) => r.name);
}

/** The step of a workflow's latest version that consumes the most units of a limit at once. */
export async function largestUnitsOf(db: Queryable, name: string): Promise<{ workflow: string; stepId: string; units: number } | undefined> {
  const { rows } = await db.query<{ workflow: string; step_id: string; units: number }>(
    `SELECT w.name AS workflow, s ->> 'id' AS step_id, (r ->> 'units')::int AS units
       FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.latest_version,
            jsonb_array_elements(v.steps) s, jsonb_array_elements(coalesce(s -> 'rateLimits', '[]'::jsonb)) r
      WHERE r ->> 'name' = $1
      ORDER BY (r ->> 'units')::int DESC, w.name LIMIT 1`,
    [name],
  );
  const row = rows[0];
  return row ? { workflow: row.workflow, stepId: row.step_id, units: row.units } : undefined;
}
