import type { Queryable } from '@orchestra/lib';
import type { SlotNeeds } from './dispatch';
import { prepared, rowFromJson, type AttemptGpu, type WorkerRow } from './rows';

// The statements of GPU placement (engine/dispatch/gpu-placement.ts).

/** Memory Orchestra has placed on one GPU of a worker (RUNNING attempts), in MiB. */
export interface GpuReservation {
  workerId: string;
  index: number;
  memoryMiB: number;
}

/**
 * Serializes GPU placement: claim transactions that place GPU steps take this lock (until they
 * commit) before they read what is reserved, so a reservation one commits is seen by the next and
 * two dispatchers never fill one GPU twice. Per schema, so separate installations on one database
 * do not wait for each other.
 */
export async function lockGpuPlacement(db: Queryable): Promise<void> {
  await db.query(prepared('lockGpuPlacement', `SELECT pg_advisory_xact_lock(hashtext('orchestra.gpu-placement:' || current_schema()))`, []));
}

/** GPU memory RUNNING attempts hold on these workers, per GPU (MiB). */
export async function gpuReservations(db: Queryable, workerIds: readonly string[]): Promise<GpuReservation[]> {
  if (workerIds.length === 0) return [];
  const { rows } = await db.query<{ worker_id: string; index: number; memory_mib: string }>(
    prepared(
      'gpuReservations',
      `SELECT a.worker_id, (g ->> 'index')::int AS index, sum((g ->> 'memoryMiB')::bigint) AS memory_mib
         FROM task_attempts a CROSS JOIN LATERAL jsonb_array_elements(a.gpus) g
        WHERE a.status = 'RUNNING' AND a.gpus IS NOT NULL AND a.worker_id = ANY($1::text[])
        GROUP BY 1, 2`,
      [[...new Set(workerIds)]],
    ),
  );
  return rows.map((r) => ({ workerId: r.worker_id, index: r.index, memoryMiB: Number(r.memory_mib) }));
}

/** Live workers that run attempts of these needs, busy or not (what a waiting GPU step's reason looks at). */
export async function capableWorkers(db: Queryable, needs: Pick<SlotNeeds, 'pool' | 'capability' | 'labels'>): Promise<WorkerRow[]> {
  const { rows } = await db.query<{ worker: Record<string, unknown> }>(
    prepared(
      'capableWorkers',
      `SELECT to_jsonb(w) AS worker FROM workers w
        WHERE w.status = 'ONLINE' AND w.lease_expires_at > now() AND w.pool = $1 AND $2 = ANY(w.capabilities) AND w.labels @> $3::jsonb
        LIMIT 1000`,
      [needs.pool, needs.capability, JSON.stringify(needs.labels)],
    ),
  );
  return rows.map((r) => rowFromJson<WorkerRow>(r.worker));
}

/** Records the GPUs attempts were placed on (their reservations until they end). */
export async function recordAttemptGpus(db: Queryable, placed: ReadonlyArray<{ attemptId: string; gpus: AttemptGpu[] }>): Promise<void> {
  if (placed.length === 0) return;
  await db.query(
    prepared(
      'recordAttemptGpus',
      `UPDATE task_attempts a SET gpus = p.gpus FROM jsonb_to_recordset($1::jsonb) AS p(attempt_id uuid, gpus jsonb) WHERE a.id = p.attempt_id`,
      [JSON.stringify(placed.map((p) => ({ attempt_id: p.attemptId, gpus: p.gpus })))],
    ),
  );
}
