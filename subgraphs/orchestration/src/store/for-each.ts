import type { Queryable } from '@orchestra/lib';
import type { WaitReason } from '../domain/wait-reasons';
import { prepared, rowFromJson, type TaskRow } from './rows';

// The statements of forEach fan-out (engine/for-each.ts). They run under the run's lock, like every
// change of a run's tasks; each is one round trip whatever the number of items.

/**
 * A forEach step's task starts: its attempt (which no worker runs) ends SUCCEEDED and leaves the
 * queue outbox, and the task is RUNNING until its items end. Resolves false when the attempt was
 * no longer QUEUED (a duplicate delivery: nothing changed).
 */
export async function startForEachTask(db: Queryable, taskId: string, attemptId: string, items: number): Promise<boolean> {
  const { rows } = await db.query<{ started: boolean }>(
    prepared(
      'startForEachTask',
      `WITH attempt AS (
         UPDATE task_attempts SET status = 'SUCCEEDED', started_at = now(), finished_at = now(), duration_ms = 0
          WHERE id = $2 AND task_id = $1 AND status = 'QUEUED'
         RETURNING id
       ), dequeued AS (
         DELETE FROM dispatch_outbox WHERE attempt_id IN (SELECT id FROM attempt)
       ), task AS (
         UPDATE tasks SET status = 'RUNNING', wait_reason = NULL, progress = 0, progress_message = $3, input = NULL,
                          started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = $1 AND status = 'QUEUED' AND current_attempt_id IN (SELECT id FROM attempt)
         RETURNING id
       )
       SELECT EXISTS (SELECT 1 FROM task) AS started`,
      [taskId, attemptId, `0 of ${items} items done`],
    ),
  );
  return rows[0]?.started === true;
}

/**
 * The item tasks of a forEach step's task, in one statement: one per element of `items` (ids given
 * in the same order), PENDING with `waiting` as their wait reason, copying the step's settings.
 * Items that exist already (a second expansion) are left as they are. Resolves to how many were added.
 */
export async function insertItemTasks(db: Queryable, parent: Pick<TaskRow, 'id'>, ids: readonly string[], items: readonly unknown[], waiting: WaitReason): Promise<number> {
  if (items.length === 0) return 0;
  const { rows } = await db.query<{ added: number }>(
    prepared(
      'insertItemTasks',
      `WITH i AS (
         SELECT (x.n - 1)::int AS item_index, x.item FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(item, n)
       ), ids AS (
         SELECT (y.n - 1)::int AS item_index, y.id FROM unnest($3::uuid[]) WITH ORDINALITY AS y(id, n)
       ), added AS (
         INSERT INTO tasks (id, org_id, run_id, step_id, position, capability, status, depends_on, input_template, pool, labels, timeout_ms, retry, max_attempts,
                            priority, concurrency_key, concurrency, rate_limits, resources, queue_timeout_ms, parent_task_id, item_index, item, wait_reason)
         SELECT ids.id, p.org_id, p.run_id, p.step_id, p.position, p.capability, 'PENDING', '{}', p.input_template, p.pool, p.labels, p.timeout_ms, p.retry, p.max_attempts,
                p.priority, p.concurrency_key, p.concurrency, p.rate_limits, p.resources, p.queue_timeout_ms, p.id, i.item_index, i.item, $4::jsonb
           FROM i JOIN ids USING (item_index) CROSS JOIN (SELECT * FROM tasks WHERE id = $1) p
         ON CONFLICT (parent_task_id, item_index) WHERE parent_task_id IS NOT NULL DO NOTHING
         RETURNING 1
       )
       SELECT count(*)::int AS added FROM added`,
      [parent.id, JSON.stringify(items), ids, JSON.stringify(waiting)],
    ),
  );
  return rows[0]?.added ?? 0;
}

/** Where a forEach step's items are: counts by status, for its task. */
export interface ItemProgress {
  /** The step's task (RUNNING while its items run). */
  parent: TaskRow;
  total: number;
  pending: number;
  /** QUEUED or RUNNING: holding one of the step's maxParallel places. */
  active: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** The progress of these forEach tasks' items (one statement; each parent one scan of its items' index). */
export async function itemProgress(db: Queryable, parentIds: readonly string[]): Promise<ItemProgress[]> {
  if (parentIds.length === 0) return [];
  const { rows } = await db.query<{ parent: Record<string, unknown>; total: number; pending: number; active: number; succeeded: number; failed: number; cancelled: number }>(
    prepared(
      'itemProgress',
      `SELECT to_jsonb(p) AS parent, c.*
         FROM tasks p CROSS JOIN LATERAL (
           SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE i.status = 'PENDING')::int AS pending,
                  count(*) FILTER (WHERE i.status IN ('QUEUED', 'RUNNING'))::int AS active,
                  count(*) FILTER (WHERE i.status = 'SUCCEEDED')::int AS succeeded,
                  count(*) FILTER (WHERE i.status = 'FAILED')::int AS failed,
                  count(*) FILTER (WHERE i.status = 'CANCELLED')::int AS cancelled
             FROM tasks i WHERE i.parent_task_id = p.id
         ) c
        WHERE p.id = ANY($1::uuid[])
        ORDER BY p.id`,
      [[...new Set(parentIds)]],
    ),
  );
  return rows.map((r) => ({ parent: rowFromJson<TaskRow>(r.parent), total: r.total, pending: r.pending, active: r.active, succeeded: r.succeeded, failed: r.failed, cancelled: r.cancelled }));
}

/** The next PENDING items of a forEach task, in item order, at most `limit`. */
export async function nextPendingItems(db: Queryable, parentId: string, limit: number): Promise<TaskRow[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<{ task: Record<string, unknown> }>(
    prepared('nextPendingItems', `SELECT to_jsonb(t) AS task FROM tasks t WHERE t.parent_task_id = $1 AND t.status = 'PENDING' ORDER BY t.item_index LIMIT $2`, [parentId, limit]),
  );
  return rows.map((r) => rowFromJson<TaskRow>(r.task));
}

/** Records how far a forEach task's items are (its progress and message). */
export async function recordItemProgress(db: Queryable, parentId: string, done: number, total: number): Promise<void> {
  await db.query(prepared('recordItemProgress', `UPDATE tasks SET progress = $2, progress_message = $3, updated_at = now() WHERE id = $1 AND status = 'RUNNING'`, [parentId, total === 0 ? 1 : done / total, `${done} of ${total} items done`]));
}

/**
 * A forEach task whose items have all ended succeeds, its output the list of its items' outputs in
 * item order (null for an item that did not succeed), unless that list is larger than `maxBytes`.
 * Resolves to the list's size and whether the task succeeded (false: too large, or not RUNNING).
 */
export async function succeedForEachTask(db: Queryable, parentId: string, maxBytes: number): Promise<{ bytes: number; succeeded: boolean }> {
  const { rows } = await db.query<{ bytes: number; succeeded: boolean }>(
    prepared(
      'succeedForEachTask',
      `WITH results AS (
         SELECT coalesce(jsonb_agg(CASE WHEN i.status = 'SUCCEEDED' THEN i.output END ORDER BY i.item_index), '[]'::jsonb) AS output
           FROM tasks i WHERE i.parent_task_id = $1
       ), sized AS (
         SELECT output, octet_length(output::text) AS bytes FROM results
       ), done AS (
         UPDATE tasks t SET status = 'SUCCEEDED', output = sized.output, error = NULL, progress = 1, wait_reason = NULL, finished_at = now(), updated_at = now()
           FROM sized WHERE t.id = $1 AND t.status = 'RUNNING' AND sized.bytes <= $2
         RETURNING t.id
       )
       SELECT (SELECT bytes FROM sized)::int AS bytes, EXISTS (SELECT 1 FROM done) AS succeeded`,
      [parentId, maxBytes],
    ),
  );
  const row = rows[0] as { bytes: number; succeeded: boolean };
  return { bytes: row.bytes, succeeded: row.succeeded };
}

/** A forEach task's items, in item order, after `afterIndex`, optionally of one status (the run page's pages of items). */
export async function listItemTasks(db: Queryable, parentId: string, afterIndex: number, limit: number, status: string | null): Promise<TaskRow[]> {
  const { rows } = await db.query<{ task: Record<string, unknown> }>(
    `SELECT to_jsonb(t) AS task FROM tasks t
      WHERE t.parent_task_id = $1 AND t.item_index > $2 AND ($4::text IS NULL OR t.status = $4)
      ORDER BY t.item_index LIMIT $3`,
    [parentId, afterIndex, limit, status],
  );
  return rows.map((r) => rowFromJson<TaskRow>(r.task));
}

/** How many items a forEach task has, optionally of one status. */
export async function countItemTasks(db: Queryable, parentId: string, status: string | null): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE parent_task_id = $1 AND ($2::text IS NULL OR status = $2)`, [parentId, status]);
  return rows[0]?.n ?? 0;
}

/** A forEach task's items counted by status (what Task.itemCounts shows). */
export interface ItemCounts {
  total: number;
  pending: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** Item counts of forEach tasks that have expanded (tasks without items are left out). */
export async function itemCountsOf(db: Queryable, parentIds: readonly string[]): Promise<Map<string, ItemCounts>> {
  const { rows } = await db.query<ItemCounts & { parent_task_id: string }>(
    `SELECT parent_task_id, count(*)::int AS total,
            count(*) FILTER (WHERE status = 'PENDING')::int AS pending, count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
            count(*) FILTER (WHERE status = 'RUNNING')::int AS running, count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS succeeded,
            count(*) FILTER (WHERE status = 'FAILED')::int AS failed, count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
       FROM tasks WHERE parent_task_id = ANY($1::uuid[]) GROUP BY parent_task_id`,
    [[...new Set(parentIds)]],
  );
  return new Map(rows.map(({ parent_task_id, ...counts }) => [parent_task_id, counts]));
}
