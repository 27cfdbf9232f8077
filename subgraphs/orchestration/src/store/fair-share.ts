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

/** Keeps the fair ranks given to attempts queued now with their outbox rows (only ranks above 0: 0 is the default). */
export async function recordFairRanks(db: Queryable, ranks: ReadonlyArray<{ attemptId: string; rank: number }>): Promise<void> {
  const ranked = ranks.filter((r) => r.rank > 0);
  if (ranked.length === 0) return;
  await db.query(
    prepared(
      'recordFairRanks',
      `UPDATE dispatch_outbox o SET fair_rank = r.rank
         FROM jsonb_to_recordset($1::jsonb) AS r(attempt_id uuid, rank integer)
        WHERE o.attempt_id = r.attempt_id`,
      [JSON.stringify(ranked.map((r) => ({ attempt_id: r.attemptId, rank: r.rank })))],
    ),
  );
}

/** How a queue place is counted (domain/flow-control.ts queueOrder), for the same order in SQL. */
export interface QueueOrderParams {
  epochMs: number;
  agingMs: number;
  maxPriority: number;
}

/**
 * Says FAIR_SHARE on the waiting tasks that wait because slots go to other organizations in turn,
 * and takes it off those for which that is no longer so; answers how many tasks changed. A waiting
 * attempt waits for its fair share when its organization's backlog pushed it back (fair rank > 0)
 * and another organization has waiting work in the same pool that goes before it (a smaller queue
 * place: the minute it was queued, plus its priority's offset, plus its own fair rank). Only a task
 * with no reason, NO_FREE_SLOT (a claim found the capable workers busy: this says why they are busy
 * for it; markWaitingForWorker keeps it) or FAIR_SHARE is changed: any other reason was set where the
 * task was looked at (no worker can run it, flow control held it, PRIORITY: its own organization's
 * work goes first, the nearer cause) and says more. One statement over
 * the queue outbox (a system read: it compares organizations; `firsts` is a few rows per pool, kept
 * once), at most `limit` changes. Only pools where several organizations wait are read row by row: a
 * backlog of one organization alone costs one grouped pass over the outbox, and tasks still labelled
 * in a pool that stopped being shared are found through the partial index tasks_fair_share.
 */
export async function refreshFairShareWaits(db: Queryable, order: QueueOrderParams, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    prepared(
      'refreshFairShareWaits',
      `WITH shared AS MATERIALIZED (
         -- Pools where several organizations wait: the only ones where a task waits for its fair share.
         SELECT pool FROM dispatch_outbox GROUP BY pool HAVING count(DISTINCT org_id) > 1
       ), w AS MATERIALIZED (
         -- Each waiting attempt's task read by its key (a LATERAL that is not flattened): without it, a
         -- plan could scan the tasks once for every waiting attempt (O(backlog²): 28 s for 3,000).
         SELECT o.task_id, o.org_id, o.pool, o.fair_rank, t.status, t.no_reason, t.kind,
                floor((extract(epoch FROM o.created_at) * 1000 - $1) / $2)::bigint + ($3 - o.priority) + o.fair_rank AS place
           FROM dispatch_outbox o JOIN shared s ON s.pool = o.pool
           LEFT JOIN LATERAL (SELECT t.status, t.wait_reason IS NULL AS no_reason, t.wait_reason ->> 'kind' AS kind FROM tasks t WHERE t.id = o.task_id LIMIT 1) t ON true
       ), firsts AS MATERIALIZED (
         SELECT pool, org_id, min(place) AS first_place FROM w GROUP BY pool, org_id
       ), decided AS (
         SELECT w.task_id, w.pool, w.fair_rank, w.status, w.no_reason, w.kind,
                CASE WHEN w.fair_rank = 0 THEN 0
                     ELSE (SELECT count(*) FROM firsts f WHERE f.pool = w.pool AND f.org_id <> w.org_id AND f.first_place < w.place) END AS orgs_ahead
           FROM w
         UNION ALL
         -- Tasks that say FAIR_SHARE in a pool no other organization waits in any more (partial index tasks_fair_share).
         SELECT t.id, t.pool, 0, t.status, false, 'FAIR_SHARE', 0 FROM tasks t
          WHERE t.status = 'QUEUED' AND t.wait_reason ->> 'kind' = 'FAIR_SHARE' AND NOT EXISTS (SELECT 1 FROM shared s WHERE s.pool = t.pool)
       ), changes AS (
         SELECT d.task_id, d.pool, d.fair_rank, d.orgs_ahead
           FROM decided d
          WHERE d.status = 'QUEUED'
            AND ((d.orgs_ahead > 0 AND (d.no_reason OR d.kind = 'NO_FREE_SLOT'))
              OR (d.orgs_ahead = 0 AND d.kind = 'FAIR_SHARE'))
          LIMIT $4
       )
       UPDATE tasks t SET wait_reason = CASE WHEN c.orgs_ahead = 0 THEN NULL ELSE jsonb_build_object(
           'kind', 'FAIR_SHARE',
           'message', format('slots of pool "%s" go in turn to other organizations'' waiting work (%s of them ahead of it): its organization already has work waiting in the pool (fair share between organizations)', c.pool, c.orgs_ahead),
           'since', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'details', jsonb_build_object('pool', c.pool, 'fairRank', c.fair_rank, 'organizationsAhead', c.orgs_ahead)) END
         FROM changes c WHERE t.id = c.task_id`,
      [order.epochMs, order.agingMs, order.maxPriority, limit],
    ),
  );
  return rowCount ?? 0;
}
