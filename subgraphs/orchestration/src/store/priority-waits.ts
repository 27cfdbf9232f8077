import type { Queryable } from '@orchestra/lib';
import type { QueueOrderParams } from './fair-share';
import { prepared } from './rows';

/**
 * Says PRIORITY on the waiting tasks that wait because their own organization's higher-priority work
 * goes first in their pool, and takes it off those for which that stopped being so; answers how many
 * tasks changed. A waiting attempt waits for priority when a live worker of its pool could run it (it
 * has the capability and labels: capacity in principle) and attempts of its organization in the same
 * pool with a higher priority have a smaller queue place (domain/flow-control.ts queueOrder: the minute
 * queued, plus the priority's offset, plus the fair rank), so they are taken first. Aging is in the
 * place: higher-priority work queued more than (its priority − this one's) minutes later goes behind it
 * and does not count. Other organizations' work is FAIR_SHARE's business (fair-share.ts), never counted
 * here, so the message names counts of the task's own organization only.
 *
 * Only a task with no reason, NO_FREE_SLOT (a claim found the capable workers busy: this says why),
 * FAIR_SHARE or PRIORITY is changed: any other reason (a rate limit, a key, a quota, no worker) was set
 * where the task was looked at and is the nearer cause. One statement over the queue outbox (a system
 * read); only (organization, pool) lanes holding several priorities are read row by row, with one
 * ordered window pass per lane; tasks still labelled in a lane that stopped being mixed are found
 * through the partial index tasks_priority_wait. At most `limit` changes.
 */
export async function refreshPriorityWaits(db: Queryable, order: QueueOrderParams, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    prepared(
      'refreshPriorityWaits',
      `WITH mixed AS MATERIALIZED (
         -- Lanes where work of several priorities waits: the only ones where a task waits behind higher priority.
         SELECT org_id, pool FROM dispatch_outbox GROUP BY org_id, pool HAVING count(DISTINCT priority) > 1
       ), w AS MATERIALIZED (
         SELECT o.task_id, o.org_id, o.pool, o.priority,
                floor((extract(epoch FROM o.created_at) * 1000 - $1) / $2)::bigint + ($3 - o.priority) + o.fair_rank AS place
           FROM dispatch_outbox o JOIN mixed m ON m.org_id = o.org_id AND m.pool = o.pool
       ), counted AS (
         -- Per task: its lane's attempts of each priority 2 … 5 with a smaller place (PRIORITY min 1, max 5).
         SELECT w.task_id, w.pool, w.priority,
                CASE WHEN w.priority < 5 THEN count(*) FILTER (WHERE w.priority = 5) OVER lane ELSE 0 END AS p5,
                CASE WHEN w.priority < 4 THEN count(*) FILTER (WHERE w.priority = 4) OVER lane ELSE 0 END AS p4,
                CASE WHEN w.priority < 3 THEN count(*) FILTER (WHERE w.priority = 3) OVER lane ELSE 0 END AS p3,
                CASE WHEN w.priority < 2 THEN count(*) FILTER (WHERE w.priority = 2) OVER lane ELSE 0 END AS p2
           FROM w
         WINDOW lane AS (PARTITION BY w.org_id, w.pool ORDER BY w.place RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
       ), decided AS (
         SELECT c.task_id, c.pool, c.priority, c.p5, c.p4, c.p3, c.p2, (c.p5 + c.p4 + c.p3 + c.p2)::int AS ahead FROM counted c
         UNION ALL
         -- Tasks that say PRIORITY in a lane no longer mixed (partial index tasks_priority_wait).
         SELECT t.id, t.pool, t.priority, 0, 0, 0, 0, 0 FROM tasks t
          WHERE t.status = 'QUEUED' AND t.wait_reason ->> 'kind' = 'PRIORITY'
            AND NOT EXISTS (SELECT 1 FROM mixed m WHERE m.org_id = t.org_id AND m.pool = t.pool)
       ), judged AS (
         SELECT d.*, t.wait_reason,
                d.ahead > 0 AND EXISTS (SELECT 1 FROM workers wk WHERE wk.status = 'ONLINE' AND wk.lease_expires_at > now() AND wk.pool = t.pool
                                           AND t.capability = ANY(wk.capabilities) AND wk.labels @> t.labels) AS held,
                (SELECT string_agg(format('%s %s of priority %s', v.n, CASE WHEN v.n = 1 THEN 'task' ELSE 'tasks' END, v.p), ', ' ORDER BY v.p DESC)
                   FROM (VALUES (5, d.p5), (4, d.p4), (3, d.p3), (2, d.p2)) AS v(p, n) WHERE v.n > 0) AS ahead_text,
                (SELECT jsonb_object_agg(v.p::text, v.n) FROM (VALUES (5, d.p5), (4, d.p4), (3, d.p3), (2, d.p2)) AS v(p, n) WHERE v.n > 0) AS by_priority
           FROM decided d JOIN tasks t ON t.id = d.task_id
          WHERE t.status = 'QUEUED'
       ), changes AS (
         SELECT j.*, format('%s %s first: its organization''s higher-priority work queued ahead of it in pool "%s" (it is priority %s)', j.ahead_text, CASE WHEN j.ahead = 1 THEN 'goes' ELSE 'go' END, j.pool, j.priority) AS message
           FROM judged j
          WHERE (j.held AND (j.wait_reason IS NULL OR j.wait_reason ->> 'kind' IN ('NO_FREE_SLOT', 'FAIR_SHARE')
                             OR (j.wait_reason ->> 'kind' = 'PRIORITY' AND j.wait_reason -> 'details' IS DISTINCT FROM
                                   jsonb_build_object('pool', j.pool, 'priority', j.priority, 'tasksAhead', j.ahead, 'byPriority', j.by_priority))))
             OR (NOT j.held AND j.wait_reason ->> 'kind' = 'PRIORITY')
          LIMIT $4
       )
       UPDATE tasks t SET wait_reason = CASE WHEN NOT c.held THEN NULL ELSE jsonb_build_object(
           'kind', 'PRIORITY',
           'message', c.message,
           'since', CASE WHEN t.wait_reason ->> 'kind' = 'PRIORITY' THEN t.wait_reason ->> 'since' ELSE to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
           'details', jsonb_build_object('pool', c.pool, 'priority', c.priority, 'tasksAhead', c.ahead, 'byPriority', c.by_priority)) END
         FROM changes c WHERE t.id = c.task_id`,
      [order.epochMs, order.agingMs, order.maxPriority, limit],
    ),
  );
  return rowCount ?? 0;
}
