import type { Queryable } from '@orchestra/lib';
import type { StepDefinition } from '../domain/workflow-definition';
import type { TaskStatus } from '../domain/states';
import { camelRow, camelRows, type ErrorInfo, type TaskRow } from './rows';

export interface NewTask {
  id: string;
  step: StepDefinition;
}

/** All tasks of a new run, PENDING. */
export async function insertTasks(db: Queryable, orgId: string, runId: string, tasks: readonly NewTask[]): Promise<TaskRow[]> {
  const { rows } = await db.query(
    `INSERT INTO tasks (id, org_id, run_id, step_id, position, capability, status, depends_on, input_template, pool, labels, timeout_ms, retry, max_attempts)
     SELECT t.id, $1, $2, t.step_id, t.position, t.capability, 'PENDING', t.depends_on, t.input_template, t.pool, t.labels, t.timeout_ms, t.retry, t.max_attempts
       FROM jsonb_to_recordset($3::jsonb) AS t(id uuid, step_id text, position integer, capability text, depends_on text[], input_template jsonb,
                                               pool text, labels jsonb, timeout_ms integer, retry jsonb, max_attempts integer)
     RETURNING *`,
    [
      orgId,
      runId,
      JSON.stringify(
        tasks.map(({ id, step }, position) => ({
          id,
          step_id: step.id,
          position,
          capability: step.capability,
          depends_on: step.dependsOn,
          input_template: step.input,
          pool: step.pool,
          labels: step.labels,
          timeout_ms: step.timeoutMs,
          retry: step.retry,
          max_attempts: step.retry.maxAttempts,
        })),
      ),
    ],
  );
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

export async function findTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE id = $1', [id]);
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findTasksByIds(db: Queryable, ids: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE id = ANY($1::uuid[])', [ids]);
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** The tasks of runs, in creation order (the workflow's step order). */
export async function listTasksOfRuns(db: Queryable, runIds: readonly string[]): Promise<TaskRow[]> {
  const { rows } = await db.query('SELECT * FROM tasks WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, position', [runIds]);
  return camelRows<TaskRow>(rows as Array<Record<string, unknown>>);
}

/** A task gets a new attempt and waits for dispatch. */
export async function queueTask(db: Queryable, id: string, attemptId: string): Promise<TaskRow> {
  const { rows } = await db.query(
    `UPDATE tasks SET status = 'QUEUED', current_attempt_id = $2, attempts = attempts + 1,
                      queued_at = coalesce(queued_at, now()), updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, attemptId],
  );
  return camelRow<TaskRow>(rows[0] as Record<string, unknown>);
}

/** The claimed attempt's task is RUNNING with its resolved input (started_at kept from an earlier attempt). */
export async function startTask(db: Queryable, id: string, attemptId: string, input: unknown): Promise<TaskRow | undefined> {
  const { rows } = await db.query(
    `UPDATE tasks SET status = 'RUNNING', input = $3, started_at = coalesce(started_at, now()), updated_at = now()
      WHERE id = $1 AND current_attempt_id = $2 AND status = 'QUEUED' RETURNING *`,
    [id, attemptId, JSON.stringify(input)],
  );
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function succeedTask(db: Queryable, id: string, attemptId: string, output: unknown): Promise<TaskRow | undefined> {
  const { rows } = await db.query(
    `UPDATE tasks SET status = 'SUCCEEDED', output = $3, error = NULL, progress = 1, finished_at = now(), updated_at = now()
      WHERE id = $1 AND current_attempt_id = $2 AND status = 'RUNNING' RETURNING *`,
    [id, attemptId, JSON.stringify(output ?? null)],
  );
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** Ends a task (FAILED or CANCELLED) from any state that is not final. */
export async function finishTask(db: Queryable, id: string, status: Extract<TaskStatus, 'FAILED' | 'CANCELLED'>, error: ErrorInfo | null): Promise<TaskRow | undefined> {
  const { rows } = await db.query(
    `UPDATE tasks SET status = $2, error = coalesce($3::jsonb, error), finished_at = now(), updated_at = now()
      WHERE id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') RETURNING *`,
    [id, status, error === null ? null : JSON.stringify(error)],
  );
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** The task's last error, kept while it waits for its retry. */
export async function recordTaskError(db: Queryable, id: string, error: ErrorInfo, lost: boolean): Promise<void> {
  await db.query('UPDATE tasks SET error = $2, lost_attempts = lost_attempts + $3, updated_at = now() WHERE id = $1', [id, JSON.stringify(error), lost ? 1 : 0]);
}

/** retryRun / replay: a failed or cancelled task starts over with a fresh retry budget (history kept). */
export async function resetTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const { rows } = await db.query(
    `UPDATE tasks SET status = 'PENDING', error = NULL, output = NULL, input = NULL, progress = NULL, progress_message = NULL,
                      attempts_at_reset = attempts, lost_attempts = 0, current_attempt_id = NULL,
                      queued_at = NULL, started_at = NULL, finished_at = NULL, updated_at = now()
      WHERE id = $1 AND status IN ('FAILED', 'CANCELLED') RETURNING *`,
    [id],
  );
  return rows[0] ? camelRow<TaskRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function updateTaskProgress(db: Queryable, id: string, progress: number, message: string | null): Promise<void> {
  await db.query('UPDATE tasks SET progress = $2, progress_message = $3, updated_at = now() WHERE id = $1', [id, progress, message]);
}
