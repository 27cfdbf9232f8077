import type { Queryable } from '@orchestra/lib';
import { camelRow, camelRows, type WorkerResources, type WorkerRow, type WorkerStatus } from './rows';

export interface WorkerRegistration {
  id: string;
  endpoint: string;
  pool: string;
  capabilities: string[];
  slotsTotal: number;
  slotsFree: number;
  labels: Record<string, string>;
  resources: WorkerResources | null;
  version: string | null;
  /** Base URLs of the LLM servers on its machine (llmBaseUrlKey form); none when left out. */
  llmEndpoints?: readonly string[] | undefined;
}

/** Registers (or re-registers) a worker as ONLINE with a lease ending `leaseMs` from now. */
export async function upsertWorker(db: Queryable, w: WorkerRegistration, leaseMs: number): Promise<WorkerRow> {
  const { rows } = await db.query(
    `INSERT INTO workers (id, endpoint, pool, capabilities, slots_total, slots_free, labels, resources, version, llm_endpoints, status,
                          registered_at, last_heartbeat_at, lease_expires_at, left_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, 'ONLINE', now(), now(), now() + make_interval(secs => $10::double precision / 1000), NULL)
     ON CONFLICT (id) DO UPDATE SET
       endpoint = EXCLUDED.endpoint, pool = EXCLUDED.pool, capabilities = EXCLUDED.capabilities,
       slots_total = EXCLUDED.slots_total, slots_free = EXCLUDED.slots_free, labels = EXCLUDED.labels,
       resources = EXCLUDED.resources, version = EXCLUDED.version, llm_endpoints = EXCLUDED.llm_endpoints, status = 'ONLINE',
       registered_at = now(), last_heartbeat_at = now(), lease_expires_at = EXCLUDED.lease_expires_at, left_at = NULL
     RETURNING *`,
    [w.id, w.endpoint, w.pool, w.capabilities, w.slotsTotal, w.slotsFree, JSON.stringify(w.labels), w.resources === null ? null : JSON.stringify(w.resources), w.version, leaseMs, [...(w.llmEndpoints ?? [])]],
  );
  return camelRow<WorkerRow>(rows[0] as Record<string, unknown>);
}

/** Extends the lease of an ONLINE worker; undefined when the registry does not know it (any more). */
export async function heartbeatWorker(db: Queryable, id: string, slotsFree: number, resources: WorkerResources | null, leaseMs: number): Promise<WorkerRow | undefined> {
  const { rows } = await db.query(
    `UPDATE workers SET last_heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $4::double precision / 1000),
                        slots_free = $2, resources = coalesce($3::jsonb, resources)
      WHERE id = $1 AND status = 'ONLINE' RETURNING *`,
    [id, slotsFree, resources === null ? null : JSON.stringify(resources), leaseMs],
  );
  return rows[0] ? camelRow<WorkerRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function setWorkerStatus(db: Queryable, id: string, status: Exclude<WorkerStatus, 'ONLINE'>): Promise<WorkerRow | undefined> {
  const { rows } = await db.query(`UPDATE workers SET status = $2, left_at = now() WHERE id = $1 AND status = 'ONLINE' RETURNING *`, [id, status]);
  return rows[0] ? camelRow<WorkerRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** ONLINE workers whose lease ran out become LOST; resolves to their ids. */
export async function expireWorkerLeases(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`UPDATE workers SET status = 'LOST', left_at = now() WHERE status = 'ONLINE' AND lease_expires_at < now() RETURNING id`);
  return rows.map((r) => r.id);
}

export async function findWorkers(db: Queryable, ids: readonly string[]): Promise<WorkerRow[]> {
  const { rows } = await db.query('SELECT * FROM workers WHERE id = ANY($1::text[])', [ids]);
  return camelRows<WorkerRow>(rows as Array<Record<string, unknown>>);
}

export interface WorkerFilter {
  pool?: string | undefined;
  statuses?: WorkerStatus[] | undefined;
  capability?: string | undefined;
}

/** The fleet, with what PostgreSQL has running on each. */
export async function listWorkers(db: Queryable, filter: WorkerFilter): Promise<WorkerRow[]> {
  const params: unknown[] = [];
  const clauses: string[] = [];
  if (filter.pool !== undefined) {
    params.push(filter.pool);
    clauses.push(`w.pool = $${params.length}`);
  }
  if (filter.statuses !== undefined && filter.statuses.length > 0) {
    params.push(filter.statuses);
    clauses.push(`w.status = ANY($${params.length}::text[])`);
  }
  if (filter.capability !== undefined) {
    params.push(filter.capability);
    clauses.push(`$${params.length} = ANY(w.capabilities)`);
  }
  const { rows } = await db.query(
    `SELECT w.*, (SELECT count(*)::int FROM task_attempts a WHERE a.worker_id = w.id AND a.status = 'RUNNING') AS running
       FROM workers w WHERE ${clauses.length > 0 ? clauses.join(' AND ') : 'true'}
      ORDER BY w.status, w.pool, w.id`,
    params,
  );
  return camelRows<WorkerRow>(rows as Array<Record<string, unknown>>);
}

/**
 * Gives a worker one slot row per slot it offers (store/dispatch.ts claims them). Slots beyond a
 * smaller new total go when free; a busy one stays until its attempt ends and is never claimed again.
 */
export async function syncWorkerSlots(db: Queryable, workerId: string, slotsTotal: number): Promise<void> {
  await db.query(
    `WITH added AS (
       INSERT INTO worker_slots (worker_id, slot) SELECT $1, g FROM generate_series(0, $2::int - 1) AS g
       ON CONFLICT (worker_id, slot) DO NOTHING
     )
     DELETE FROM worker_slots WHERE worker_id = $1 AND slot >= $2::int AND attempt_id IS NULL`,
    [workerId, slotsTotal],
  );
}

/** Capabilities advertised by workers that are ONLINE now. */
export async function advertisedCapabilities(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ capability: string }>(`SELECT DISTINCT unnest(capabilities) AS capability FROM workers WHERE status = 'ONLINE'`);
  return rows.map((r) => r.capability);
}

/** Slots of the ONLINE workers of each pool (or of one pool). */
export async function poolSlots(db: Queryable, pool?: string): Promise<Map<string, number>> {
  const { rows } = await db.query<{ pool: string; slots: number }>(
    `SELECT pool, sum(slots_total)::int AS slots FROM workers WHERE status = 'ONLINE' AND ($1::text IS NULL OR pool = $1) GROUP BY pool`,
    [pool ?? null],
  );
  return new Map(rows.map((r) => [r.pool, r.slots]));
}

/** Forgets workers that left more than `olderThanMs` ago. */
export async function pruneWorkers(db: Queryable, olderThanMs: number): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM workers WHERE status <> 'ONLINE' AND left_at < now() - make_interval(secs => $1::double precision / 1000)`, [olderThanMs]);
  return rowCount ?? 0;
}
