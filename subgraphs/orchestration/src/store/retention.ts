import type { Queryable } from '@orchestra/lib';
import { queueRefolds } from './run-metrics-rollup';

/**
 * Retention (issue 9 item 13): finished runs lose their events after their organization's
 * `run_events_retention_days` (default `eventsDays`) and are deleted with everything under them
 * (tasks, attempts, events, artifacts: ON DELETE CASCADE, the artifacts' objects deleted from the store
 * first) after `runs_retention_days` (default `runsDays`).
 * Each call handles at most `limit` runs, oldest first; the sweep calls again until less comes back.
 */

const FINISHED = `r.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AND r.finished_at IS NOT NULL`;

/** Deletes the events of up to `limit` finished runs past their events' retention; answers how many runs. */
export async function pruneRunEvents(db: Queryable, eventsDays: number, limit: number): Promise<number> {
  const { rows } = await db.query<{ runs: number }>(
    `WITH old AS (
       SELECT r.id FROM runs r LEFT JOIN org_quotas q ON q.org_id = r.org_id
        WHERE ${FINISHED}
          AND r.finished_at < now() - make_interval(days => COALESCE(q.run_events_retention_days, $1))
          AND EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = r.id)
        ORDER BY r.finished_at LIMIT $2),
     gone AS (DELETE FROM run_events e USING old WHERE e.run_id = old.id RETURNING 1)
     SELECT (SELECT count(*) FROM old)::int AS runs, (SELECT count(*) FROM gone)::int AS events`,
    [eventsDays, limit],
  );
  return rows[0]?.runs ?? 0;
}

/**
 * Up to `limit` finished runs past their retention, oldest first, locked (another replica's sweep
 * skips them), with the storage keys of their artifacts: the objects leave the artifact store before
 * the rows do (deleteRuns), in the same transaction.
 */
export async function lockExpiredRuns(db: Queryable, runsDays: number, limit: number): Promise<{ runIds: string[]; artifactKeys: string[] }> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT r.id FROM runs r LEFT JOIN org_quotas q ON q.org_id = r.org_id
      WHERE ${FINISHED} AND r.finished_at < now() - make_interval(days => COALESCE(q.runs_retention_days, $1))
      ORDER BY r.finished_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED`,
    [runsDays, limit],
  );
  const runIds = rows.map((r) => r.id);
  if (runIds.length === 0) return { runIds, artifactKeys: [] };
  const keys = await db.query<{ storage_key: string }>('SELECT storage_key FROM artifacts WHERE run_id = ANY($1::uuid[])', [runIds]);
  return { runIds, artifactKeys: keys.rows.map((r) => r.storage_key) };
}

/**
 * Deletes these runs and all that is theirs (tasks, attempts, events, artifact rows: ON DELETE CASCADE),
 * and queues their hours of the run metrics rollup for a refold (in the same transaction: the rollup's
 * rows of an hour go with its last runs).
 */
export async function deleteRuns(db: Queryable, runIds: readonly string[]): Promise<number> {
  if (runIds.length === 0) return 0;
  const { rows } = await db.query<{ org_id: string; created_at: Date }>('DELETE FROM runs WHERE id = ANY($1::uuid[]) RETURNING org_id, created_at', [runIds]);
  await queueRefolds(
    db,
    rows.map((r) => ({ orgId: r.org_id, createdAt: r.created_at })),
  );
  return rows.length;
}
