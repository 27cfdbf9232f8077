import type { Queryable } from '@orchestra/lib';
import type { TaskStatus } from '../domain/states';
import type { WaitReason } from '../domain/wait-reasons';
import { camelRow, camelRows, prepared, rowFromJson, type ErrorInfo, type RunRow, type TaskRow } from './rows';

export async function findTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE id = $1', [id]);
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findTasksByIds(db: Queryable, ids: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** The steps' own tasks of runs (not forEach items), in the workflow's step order: what a run page lists. */
export async function listStepTasksOfRuns(db: Queryable, runIds: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE run_id = ANY($1::uuid[]) AND parent_task_id IS NULL ORDER BY run_id, position', [runIds]);
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** The tasks of runs, forEach items included, in creation order (the workflow's step order; items after their step's task, in item order). */
export async function listTasksOfRuns(db: Queryable, runIds: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, position, item_index NULLS FIRST', [runIds]);
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** What a run has left once some of its steps succeeded (read under the run's lock, after the change). */
export interface RunProgress {
  /** PENDING tasks that depend on those steps and whose dependencies have now all succeeded, in step order. */
  ready: TaskRow[];
  /** Tasks of the run that have not succeeded. */
  openTasks: number;
  /** When none is open: the run's output, the outputs of the steps nothing depends on. */
  output: Record<string, unknown> | null;
  /** The run, when this statement moved it RUNNING → SUCCEEDED (none open). */
  finishedRun?: RunRow;
}

/**
 * After steps of runs succeeded, reads only what that changes (not every task of each run, which
 * a large run would pay for on every result): the steps' dependents that became ready, how many
 * tasks are still open, and when none is, the run's output, with the run moved RUNNING → SUCCEEDED
 * in the same statement.
 */
export async function advanceRuns(db: Queryable, succeeded: ReadonlyMap<string, readonly string[]>): Promise<Map<string, RunProgress>> {
  if (succeeded.size === 0) return new Map();
  const { rows } = await db.query<{ run_id: string; ready: Array<Record<string, unknown>>; open_tasks: number; output: Record<string, unknown> | null; finished_run: Record<string, unknown> | null }>(
    prepared(
      'advanceRuns',
      `WITH s AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS s(run_id uuid, step_ids text[])
       ), ready AS (
         SELECT t.* FROM s JOIN tasks t ON t.run_id = s.run_id
          WHERE t.status = 'PENDING' AND t.depends_on && s.step_ids
            AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.run_id = t.run_id AND d.step_id = ANY(t.depends_on) AND d.status <> 'SUCCEEDED' AND d.parent_task_id IS NULL)
       ), open AS (
         SELECT s.run_id, (SELECT count(*) FROM tasks o WHERE o.run_id = s.run_id AND o.status <> 'SUCCEEDED' AND o.parent_task_id IS NULL)::int AS n FROM s
       ), run_output AS (
         SELECT open.run_id, open.n,
                CASE WHEN open.n = 0 THEN
                  (SELECT coalesce(jsonb_object_agg(l.step_id, l.output), '{}'::jsonb) FROM tasks l
                    WHERE l.run_id = open.run_id AND l.parent_task_id IS NULL
                      AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.run_id = open.run_id AND l.step_id = ANY(d.depends_on) AND d.parent_task_id IS NULL))
                END AS value
           FROM open
       ), finished AS (
         UPDATE runs r SET status = 'SUCCEEDED', output = o.value, error = NULL, finished_at = now(), updated_at = now()
           FROM run_output o WHERE r.id = o.run_id AND o.n = 0 AND r.status = 'RUNNING'
         RETURNING r.id, to_jsonb(r) AS run
       )
       SELECT o.run_id, o.n AS open_tasks, o.value AS output,
              (SELECT coalesce(jsonb_agg(to_jsonb(ready) ORDER BY ready.position), '[]'::jsonb) FROM ready WHERE ready.run_id = o.run_id) AS ready,
              (SELECT run FROM finished f WHERE f.id = o.run_id) AS finished_run
         FROM run_output o`,
      [JSON.stringify([...succeeded].map(([runId, stepIds]) => ({ run_id: runId, step_ids: stepIds })))],
    ),
  );
  return new Map(
    rows.map((row) => [
      row.run_id,
      {
        ready: row.ready.map((t) => rowFromJson<TaskRow>(t)),
        openTasks: row.open_tasks,
        output: row.output,
        ...(row.finished_run ? { finishedRun: rowFromJson<RunRow>(row.finished_run) } : {}),
      },
    ]),
  );
}

/** Ends a task (FAILED or CANCELLED) from any state that is not final. */
export async function finishTask(db: Queryable, id: string, status: Extract<TaskStatus, 'FAILED' | 'CANCELLED'>, error: ErrorInfo | null): Promise<TaskRow | undefined> {
  return (await finishTasks(db, [id], status, error))[0];
}

/** finishTask for several tasks at once; resolves to those that were not final (now ended). */
export async function finishTasks(db: Queryable, ids: readonly string[], status: Extract<TaskStatus, 'FAILED' | 'CANCELLED'>, error: ErrorInfo | null): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `UPDATE tasks SET status = $2, error = coalesce($3::jsonb, error), finished_at = now(), updated_at = now()
      WHERE id = ANY($1::uuid[]) AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') RETURNING *`,
    [ids, status, error === null ? null : JSON.stringify(error)],
  );
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** The task's last error, kept while it waits for its retry. */
export async function recordTaskError(db: Queryable, id: string, error: ErrorInfo, lost: boolean): Promise<void> {
  await db.query('UPDATE tasks SET error = $2, lost_attempts = lost_attempts + $3, updated_at = now() WHERE id = $1', [id, JSON.stringify(error), lost ? 1 : 0]);
}

/** retryRun / replay: a failed or cancelled task starts over with a fresh retry budget (history kept). */
export async function resetTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  return (await resetTasks(db, [id]))[0];
}

/** resetTask for several tasks in one statement (a run's failed forEach step may have 10,000 items); resolves to those reset. */
export async function resetTasks(db: Queryable, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `UPDATE tasks SET status = 'PENDING', error = NULL, output = NULL, input = NULL, progress = NULL, progress_message = NULL, wait_reason = NULL,
                      attempts_at_reset = attempts, lost_attempts = 0, current_attempt_id = NULL,
                      queued_at = NULL, started_at = NULL, finished_at = NULL, updated_at = now()
      WHERE id = ANY($1::uuid[]) AND status IN ('FAILED', 'CANCELLED') RETURNING *`,
    [ids],
  );
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

export async function updateTaskProgress(db: Queryable, id: string, progress: number, message: string | null): Promise<void> {
  await db.query('UPDATE tasks SET progress = $2, progress_message = $3, updated_at = now() WHERE id = $1', [id, progress, message]);
}

/** A task's new wait reason (null: it no longer waits for anything in particular). */
export interface WaitReasonChange {
  taskId: string;
  reason: WaitReason | null;
}

/**
 * Sets why tasks wait, in one statement, on the tasks that have not started (PENDING or QUEUED; a
 * task that started meanwhile keeps none). A reason of the same kind keeps its `since`. With
 * `skipLocked`, tasks whose rows another transaction holds are left as they are (for callers that
 * must not wait on a run's transaction: a reason is for people, the next look sets it).
 * Resolves to the ids of the tasks changed.
 */
export async function setWaitReasons(db: Queryable, changes: readonly WaitReasonChange[], options: { skipLocked?: boolean } = {}): Promise<string[]> {
  if (changes.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    prepared(
      options.skipLocked === true ? 'setWaitReasonsSkipLocked' : 'setWaitReasons',
      `WITH c AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(task_id uuid, reason jsonb)
       ), target AS (
         SELECT t.id, c.reason FROM tasks t JOIN c ON c.task_id = t.id
          WHERE t.status IN ('PENDING', 'QUEUED') AND (t.wait_reason - 'since') IS DISTINCT FROM (c.reason - 'since')
          ${options.skipLocked === true ? 'FOR UPDATE OF t SKIP LOCKED' : ''}
       )
       UPDATE tasks t SET wait_reason = CASE
           WHEN target.reason IS NULL THEN NULL
           WHEN t.wait_reason ->> 'kind' = target.reason ->> 'kind' THEN jsonb_set(target.reason, '{since}', t.wait_reason -> 'since')
           ELSE target.reason END
         FROM target WHERE t.id = target.id
       RETURNING t.id`,
      [JSON.stringify(changes.map((c) => ({ task_id: c.taskId, reason: c.reason })))],
    ),
  );
  return rows.map((r) => r.id);
}

/**
 * A queued task found no worker slot: its wait reason becomes NO_WORKER when no live worker of its
 * pool has its capability and labels, NO_FREE_SLOT when such workers exist but are all busy (one
 * statement; `since` kept while the kind stays the same). A task the reconciler found waiting behind
 * its organization's higher-priority work (PRIORITY) or other organizations' turn (FAIR_SHARE) keeps
 * that reason while capable workers exist: it says why they are busy for it, and a claim that looks
 * again must not flip it back and forth (each change of kind is a run event).
 */
export async function markWaitingForWorker(db: Queryable, taskId: string): Promise<void> {
  await db.query(
    prepared(
      'markWaitingForWorker',
      `WITH t AS (
         SELECT t.id, t.pool, t.capability, t.labels, t.wait_reason,
                EXISTS (SELECT 1 FROM workers w WHERE w.status = 'ONLINE' AND w.lease_expires_at > now() AND w.pool = t.pool
                           AND t.capability = ANY(w.capabilities) AND w.labels @> t.labels) AS capable,
                CASE WHEN t.labels = '{}'::jsonb THEN '' ELSE ' with labels ' || t.labels::text END AS wanted
           FROM tasks t WHERE t.id = $1 AND t.status = 'QUEUED'
       ), r AS (
         SELECT t.id, t.wait_reason, CASE WHEN t.capable AND t.wait_reason ->> 'kind' IN ('PRIORITY', 'FAIR_SHARE')
                  THEN t.wait_reason - 'since'
                  WHEN t.capable
                  THEN jsonb_build_object('kind', 'NO_FREE_SLOT', 'message', format('every worker of pool "%s" that runs %s%s is busy', t.pool, t.capability, t.wanted),
                                          'details', jsonb_build_object('pool', t.pool, 'capability', t.capability))
                  ELSE jsonb_build_object('kind', 'NO_WORKER', 'message', format('no live worker of pool "%s" runs %s%s', t.pool, t.capability, t.wanted),
                                          'details', jsonb_build_object('pool', t.pool, 'capability', t.capability))
                END AS reason
           FROM t
       )
       UPDATE tasks SET wait_reason = r.reason || jsonb_build_object('since',
           CASE WHEN r.wait_reason ->> 'kind' = r.reason ->> 'kind' THEN r.wait_reason ->> 'since' ELSE to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END)
         FROM r WHERE tasks.id = r.id AND (tasks.wait_reason - 'since') IS DISTINCT FROM r.reason`,
      [taskId],
    ),
  );
}
