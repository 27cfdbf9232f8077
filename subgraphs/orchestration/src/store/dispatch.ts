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

/** What a claim asks of a worker (attempts with the same needs are started by one statement). */
export interface SlotNeeds {
  pool: string;
  capability: string;
  labels: Record<string, string>;
  /** Workers and endpoints to pass over now (suspected dead, circuit open). */
  avoidWorkerIds: readonly string[];
  avoidEndpoints: readonly string[];
}

export interface AttemptToStart {
  runId: string;
  attemptId: string;
  taskId: string;
  /** The task's input with its templates resolved. */
  input: unknown;
}

export interface AttemptsStarted {
  /** The worker each started attempt runs on. */
  workers: Map<string, WorkerRow>;
  /** Attempts that were still waiting (those not started found no free slot). */
  waiting: Set<string>;
  /** Runs that were QUEUED and are RUNNING now. */
  startedRuns: RunRow[];
}

/**
 * Starts attempts with the same needs on free slots, in one statement: takes a free slot of a live
 * worker that can run them (pool, capability, every label) for as many of them as it finds, and
 * moves each attempt QUEUED → RUNNING on its slot's worker, its task QUEUED → RUNNING with its
 * resolved input, the attempt out of the queue outbox, and the run QUEUED → RUNNING if it was.
 * Free slots locked by concurrent claims are skipped (SKIP LOCKED), so claims never queue behind
 * each other; a worker never has more RUNNING attempts than slot rows. Free slots are taken at
 * random, which spreads the load in proportion to each worker's free slots. Only attempts still
 * waiting (QUEUED, their task's current one) take a slot.
 */
export async function startAttemptsOnFreeSlots(db: Queryable, needs: SlotNeeds, attempts: readonly AttemptToStart[], dispatcherId: string): Promise<AttemptsStarted> {
  const { rows } = await db.query<{ started: Array<{ attemptId: string; worker: Record<string, unknown> }>; waiting: string[]; started_runs: Array<Record<string, unknown>>; counts: number[] }>(
    prepared(
      'startAttemptsOnFreeSlots',
      `WITH req AS (
         SELECT r.*, row_number() OVER () AS n
           FROM jsonb_to_recordset($1::jsonb) AS r(run_id uuid, attempt_id uuid, task_id uuid, input text)
           JOIN task_attempts a ON a.id = r.attempt_id AND a.status = 'QUEUED'
           JOIN tasks t ON t.id = r.task_id AND t.current_attempt_id = r.attempt_id AND t.status = 'QUEUED'
       ), free AS (
         SELECT f.worker_id, f.slot, row_number() OVER () AS n
           FROM (SELECT s.worker_id, s.slot
                   FROM worker_slots s JOIN workers w ON w.id = s.worker_id
                  WHERE s.attempt_id IS NULL AND s.slot < w.slots_total
                    AND w.status = 'ONLINE' AND w.lease_expires_at > now() AND w.pool = $2 AND $3 = ANY(w.capabilities)
                    AND w.labels @> $4::jsonb AND NOT (w.id = ANY($5::text[])) AND NOT (w.endpoint = ANY($6::text[]))
                  ORDER BY random()
                  LIMIT (SELECT count(*) FROM req)
                    FOR UPDATE OF s SKIP LOCKED) AS f
       ), pairs AS (
         SELECT req.run_id, req.attempt_id, req.task_id, req.input, free.worker_id, free.slot FROM req JOIN free USING (n)
       ), taken AS (
         UPDATE worker_slots s SET attempt_id = p.attempt_id FROM pairs p WHERE s.worker_id = p.worker_id AND s.slot = p.slot
         RETURNING s.attempt_id
       ), attempt AS (
         UPDATE task_attempts a SET status = 'RUNNING', worker_id = p.worker_id, dispatcher_id = $7, started_at = now()
           FROM pairs p WHERE a.id = p.attempt_id AND a.status = 'QUEUED'
         RETURNING a.id
       ), task AS (
         UPDATE tasks t SET status = 'RUNNING', input = p.input::jsonb, started_at = coalesce(t.started_at, now()), updated_at = now()
           FROM pairs p WHERE t.id = p.task_id AND t.current_attempt_id = p.attempt_id AND t.status = 'QUEUED'
         RETURNING t.id
       ), dequeued AS (
         DELETE FROM dispatch_outbox o USING pairs p WHERE o.attempt_id = p.attempt_id
       ), started_runs AS (
         UPDATE runs r SET status = 'RUNNING', started_at = coalesce(r.started_at, now()), updated_at = now()
          WHERE r.id IN (SELECT run_id FROM pairs) AND r.status = 'QUEUED'
         RETURNING to_jsonb(r) AS run
       )
       SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('attemptId', p.attempt_id, 'worker', to_jsonb(w))), '[]'::jsonb)
                 FROM pairs p JOIN workers w ON w.id = p.worker_id) AS started,
              ARRAY(SELECT attempt_id::text FROM req) AS waiting,
              (SELECT coalesce(jsonb_agg(run), '[]'::jsonb) FROM started_runs) AS started_runs,
              ARRAY[(SELECT count(*) FROM pairs), (SELECT count(*) FROM taken), (SELECT count(*) FROM attempt), (SELECT count(*) FROM task)]::int[] AS counts`,
      [
        JSON.stringify(attempts.map((a) => ({ run_id: a.runId, attempt_id: a.attemptId, task_id: a.taskId, input: JSON.stringify(a.input ?? null) }))),
        needs.pool,
        needs.capability,
        JSON.stringify(needs.labels),
        needs.avoidWorkerIds,
        needs.avoidEndpoints,
        dispatcherId,
      ],
    ),
  );
  const row = rows[0] as { started: Array<{ attemptId: string; worker: Record<string, unknown> }>; waiting: string[]; started_runs: Array<Record<string, unknown>>; counts: number[] };
  const [paired, taken, attemptsStarted, tasksStarted] = row.counts;
  if (taken !== paired || attemptsStarted !== paired || tasksStarted !== paired) {
    // Only waiting attempts are paired with a slot, under their runs' locks: this cannot happen, and throwing rolls the slots back.
    throw new Error(`started ${attemptsStarted} attempts and ${tasksStarted} tasks on ${taken} slots for ${paired} claims`);
  }
  return {
    workers: new Map(row.started.map((s) => [s.attemptId, rowFromJson<WorkerRow>(s.worker)])),
    waiting: new Set(row.waiting),
    startedRuns: row.started_runs.map((r) => rowFromJson<RunRow>(r)),
  };
}
