import type { Queryable } from '@orchestra/lib';
import { prepared, rowFromJson, type AttemptRow, type RunRow, type TaskRow, type WorkerRow } from './rows';

// The statements of the dispatch path (claim, result). Each reads or changes rows of several tables
// at once because every round trip here is paid per task, under the run's lock.

/**
 * Runs, locked (every change of a run and its tasks takes its run's lock first), in id order so
 * that transactions locking several runs never deadlock; runs that do not exist are left out.
 */
export async function lockRuns(db: Queryable, runIds: readonly string[]): Promise<Map<string, RunRow>> {
  const { rows } = await db.query<{ run: Record<string, unknown> }>(
    prepared('lockRuns', `SELECT to_jsonb(r) AS run FROM runs r WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE`, [[...new Set(runIds)]]),
  );
  return new Map(rows.map((r) => rowFromJson<RunRow>(r.run)).map((run) => [run.id, run]));
}

/**
 * Attempts with their tasks. Read after their runs' locks were taken (a statement of its own, so
 * it sees every change committed by the transactions that held those locks before).
 */
export async function attemptsWithTasks(db: Queryable, attemptIds: readonly string[]): Promise<Map<string, { attempt: AttemptRow; task: TaskRow }>> {
  const { rows } = await db.query<{ attempt: Record<string, unknown>; task: Record<string, unknown> }>(
    prepared('attemptsWithTasks', `SELECT to_jsonb(a) AS attempt, to_jsonb(t) AS task FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.id = ANY($1::uuid[])`, [
      [...new Set(attemptIds)],
    ]),
  );
  return new Map(rows.map((r) => ({ attempt: rowFromJson<AttemptRow>(r.attempt), task: rowFromJson<TaskRow>(r.task) })).map((row) => [row.attempt.id, row]));
}

/** Tasks by id (read after their runs' locks were taken, like attemptsWithTasks). */
export async function tasksByIds(db: Queryable, taskIds: readonly string[]): Promise<Map<string, TaskRow>> {
  const { rows } = await db.query<{ task: Record<string, unknown> }>(prepared('tasksByIds', `SELECT to_jsonb(t) AS task FROM tasks t WHERE t.id = ANY($1::uuid[])`, [[...new Set(taskIds)]]));
  return new Map(rows.map((r) => rowFromJson<TaskRow>(r.task)).map((task) => [task.id, task]));
}

/** Outputs of the steps of a run that succeeded, among `stepIds` (what a task's input templates read). */
export async function succeededStepOutputs(db: Queryable, runId: string, stepIds: readonly string[]): Promise<Record<string, { output: unknown }>> {
  if (stepIds.length === 0) return {};
  const { rows } = await db.query<{ step_id: string; output: unknown }>(
    prepared('succeededStepOutputs', `SELECT step_id, output FROM tasks WHERE run_id = $1 AND step_id = ANY($2::text[]) AND status = 'SUCCEEDED'`, [runId, stepIds]),
  );
  return Object.fromEntries(rows.map((r) => [r.step_id, { output: r.output }]));
}

export interface SlotClaim {
  runId: string;
  attemptId: string;
  taskId: string;
  dispatcherId: string;
  pool: string;
  capability: string;
  labels: Record<string, string>;
  /** Workers and endpoints to pass over now (suspected dead, circuit open). */
  avoidWorkerIds: readonly string[];
  avoidEndpoints: readonly string[];
  /** The task's input with its templates resolved. */
  input: unknown;
}

/**
 * Takes a free slot of a live worker that can run the task (pool, capability, every label) and, in
 * the same statement, moves the attempt QUEUED → RUNNING on it, the task QUEUED → RUNNING with its
 * resolved input, the attempt out of the queue outbox, and the run QUEUED → RUNNING if it was QUEUED. Free slots locked by concurrent claims
 * are skipped (SKIP LOCKED), so claims never queue behind each other; a worker never has more
 * RUNNING attempts than slot rows. Picking a free slot at random spreads the load in proportion to
 * each worker's free slots.
 *
 * Resolves to the worker (and the run, if it started now), or undefined when no worker has a free
 * slot (then nothing changed).
 * Throws when a slot was taken but the attempt or task had left QUEUED: under the run's lock that
 * cannot happen, and the throw rolls the slot back with the rest.
 */
export async function startAttemptOnFreeSlot(db: Queryable, c: SlotClaim): Promise<{ worker: WorkerRow; startedRun?: RunRow } | undefined> {
  const { rows } = await db.query<{ worker: Record<string, unknown> | null; started_run: Record<string, unknown> | null; attempts_started: number; tasks_started: number }>(
    prepared(
      'startAttemptOnFreeSlot',
      `WITH free AS (
         SELECT s.worker_id, s.slot
           FROM worker_slots s JOIN workers w ON w.id = s.worker_id
          WHERE s.attempt_id IS NULL AND s.slot < w.slots_total
            AND w.status = 'ONLINE' AND w.lease_expires_at > now() AND w.pool = $4 AND $5 = ANY(w.capabilities)
            AND w.labels @> $6::jsonb AND NOT (w.id = ANY($7::text[])) AND NOT (w.endpoint = ANY($8::text[]))
          ORDER BY random()
          LIMIT 1
            FOR UPDATE OF s SKIP LOCKED
       ), taken AS (
         UPDATE worker_slots s SET attempt_id = $1 FROM free
          WHERE s.worker_id = free.worker_id AND s.slot = free.slot
         RETURNING s.worker_id
       ), attempt AS (
         UPDATE task_attempts a SET status = 'RUNNING', worker_id = taken.worker_id, dispatcher_id = $3, started_at = now()
           FROM taken
          WHERE a.id = $1 AND a.status = 'QUEUED'
         RETURNING a.id
       ), task AS (
         UPDATE tasks SET status = 'RUNNING', input = $9, started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = $2 AND current_attempt_id = $1 AND status = 'QUEUED' AND EXISTS (SELECT 1 FROM attempt)
         RETURNING id
       ), dequeued AS (
         DELETE FROM dispatch_outbox WHERE attempt_id = $1 AND EXISTS (SELECT 1 FROM attempt)
       ), started_run AS (
         UPDATE runs SET status = 'RUNNING', started_at = coalesce(started_at, now()), updated_at = now()
          WHERE id = $10 AND status = 'QUEUED' AND EXISTS (SELECT 1 FROM attempt)
         RETURNING to_jsonb(runs) AS run
       )
       SELECT (SELECT to_jsonb(w) FROM workers w JOIN taken ON w.id = taken.worker_id) AS worker, (SELECT run FROM started_run) AS started_run,
              (SELECT count(*) FROM attempt)::int AS attempts_started, (SELECT count(*) FROM task)::int AS tasks_started`,
      [c.attemptId, c.taskId, c.dispatcherId, c.pool, c.capability, JSON.stringify(c.labels), c.avoidWorkerIds, c.avoidEndpoints, JSON.stringify(c.input ?? null), c.runId],
    ),
  );
  const { worker, started_run: startedRun, attempts_started: attemptsStarted, tasks_started: tasksStarted } = rows[0] as {
    worker: Record<string, unknown> | null;
    started_run: Record<string, unknown> | null;
    attempts_started: number;
    tasks_started: number;
  };
  if (worker === null) return undefined;
  if (attemptsStarted !== 1 || tasksStarted !== 1) {
    throw new Error(`attempt ${c.attemptId} (task ${c.taskId}) left QUEUED under its run's lock (attempts started ${attemptsStarted}, tasks ${tasksStarted})`);
  }
  return { worker: rowFromJson<WorkerRow>(worker), ...(startedRun ? { startedRun: rowFromJson<RunRow>(startedRun) } : {}) };
}
