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
