import type { Queryable } from '@orchestra/lib';
import { prepared } from './rows';

/** An organization's lane in a pool's queue: its attempts of one priority. */
export interface FairLane {
  orgId: string;
  pool: string;
  priority: number;
}

export interface LaneBacklog {
  /** Attempts of the organization waiting in the pool at this priority or above (the queue outbox), counted up to a cap. */
  waiting: number;
  /** Its weight (org_quotas.weight; 1 = an equal share). */
  weight: number;
}

export const laneKey = (lane: FairLane): string => `${lane.orgId}:${lane.pool}:${lane.priority}`;

/** Counting stops here: a place further back than this is as far back as a queue order goes anyway. */
const MAX_COUNTED = 200_000;

/**
 * For each lane, what its organization already has waiting in the pool that goes before a new
 * attempt of that priority (same or higher priority), leaving out `excluding` (the attempts being
 * queued now), and the organization's weight. One statement; each count is a scan of the
 * (org_id, pool, priority) index.
 */
export async function laneBacklogs(db: Queryable, lanes: readonly FairLane[], excluding: readonly string[]): Promise<Map<string, LaneBacklog>> {
  if (lanes.length === 0) return new Map();
  const { rows } = await db.query<{ org_id: string; pool: string; priority: number; waiting: number; weight: number }>(
    prepared(
      'laneBacklogs',
      `WITH l AS (SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb) AS l(org_id uuid, pool text, priority smallint))
       SELECT l.org_id, l.pool, l.priority,
              (SELECT count(*) FROM (SELECT 1 FROM dispatch_outbox o
                                      WHERE o.org_id = l.org_id AND o.pool = l.pool AND o.priority >= l.priority AND NOT (o.attempt_id = ANY($2::uuid[]))
                                      LIMIT $3) c)::int AS waiting,
              coalesce((SELECT q.weight FROM org_quotas q WHERE q.org_id = l.org_id), 1)::int AS weight
         FROM l`,
      [JSON.stringify(lanes.map((l) => ({ org_id: l.orgId, pool: l.pool, priority: l.priority }))), [...excluding], MAX_COUNTED],
    ),
  );
  return new Map(rows.map((r) => [laneKey({ orgId: r.org_id, pool: r.pool, priority: r.priority }), { waiting: r.waiting, weight: r.weight }]));
}

/**
 * Places of waiting attempts that go back on the queue after Redis lost it (the reconciler): per
 * organization and pool, how many of its waiting attempts go before each (higher priority, or the
 * same priority and queued earlier), and the organization's weight. One statement: one ordered pass
 * over the waiting attempts of the organizations and pools concerned.
 */
export async function restoredBacklogs(db: Queryable, attemptIds: readonly string[]): Promise<Map<string, LaneBacklog>> {
  if (attemptIds.length === 0) return new Map();
  const { rows } = await db.query<{ attempt_id: string; ahead: number; weight: number }>(
    prepared(
      'restoredBacklogs',
      `WITH e AS (SELECT o.org_id, o.pool FROM dispatch_outbox o WHERE o.attempt_id = ANY($1::uuid[]) GROUP BY o.org_id, o.pool),
            ranked AS (
              SELECT o.attempt_id, o.org_id, (row_number() OVER (PARTITION BY o.org_id, o.pool ORDER BY o.priority DESC, o.created_at, o.attempt_id) - 1)::int AS ahead
                FROM dispatch_outbox o JOIN e ON e.org_id = o.org_id AND e.pool = o.pool
            )
       SELECT r.attempt_id, r.ahead, coalesce((SELECT q.weight FROM org_quotas q WHERE q.org_id = r.org_id), 1)::int AS weight
         FROM ranked r WHERE r.attempt_id = ANY($1::uuid[])`,
      [[...attemptIds]],
    ),
  );
  return new Map(rows.map((r) => [r.attempt_id, { waiting: r.ahead, weight: r.weight }]));
}
