import type { Queryable } from '@orchestra/lib';
import type { AttemptStatus } from '../domain/states';
import type { WaitReason } from '../domain/wait-reasons';
import { camelRows, prepared, rowFromJson, type AttemptRow, type ErrorInfo } from './rows';

export interface NewAttempt {
  id: string;
  orgId: string;
  runId: string;
  taskId: string;
  /** The task's attempt number (its attempts so far + 1). */
  attempt: number;
  pool: string;
  availableAt: Date;
  /** Why its task waits from now on (a retry delay), or null. */
  waitReason: WaitReason | null;
}

/**
 * Gives tasks their next attempt in one statement (tasks of any runs): the attempt rows (QUEUED),
 * their queue outbox rows (not a wait step's), and each task QUEUED on its new attempt.
 */
export async function queueAttempts(db: Queryable, attempts: readonly NewAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  const { rows } = await db.query<{ attempts: number; tasks: number }>(
    prepared(
      'queueAttempts',
      `WITH e AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(id uuid, org_id uuid, run_id uuid, task_id uuid, attempt integer, pool text, available_at timestamptz, wait_reason jsonb)
       ), attempts AS (
         INSERT INTO task_attempts (id, org_id, run_id, task_id, attempt, status, available_at)
         SELECT id, org_id, run_id, task_id, attempt, 'QUEUED', available_at FROM e
         RETURNING id
       ), outbox AS (
         INSERT INTO dispatch_outbox (attempt_id, org_id, run_id, task_id, pool, available_at, priority)
         SELECT e.id, e.org_id, e.run_id, e.task_id, e.pool, e.available_at, t.priority FROM e JOIN tasks t ON t.id = e.task_id
          -- A wait step's attempt never goes to a worker queue (src/waits/): it waits in task_waits.
          WHERE t.wait IS NULL
       ), queued AS (
         UPDATE tasks t SET status = 'QUEUED', current_attempt_id = e.id, attempts = t.attempts + 1, wait_reason = e.wait_reason,
                            queued_at = coalesce(t.queued_at, now()), updated_at = now()
           FROM e WHERE t.id = e.task_id AND t.run_id = e.run_id
         RETURNING t.id
       )
       SELECT (SELECT count(*) FROM attempts)::int AS attempts, (SELECT count(*) FROM queued)::int AS tasks`,
      [
        JSON.stringify(
          attempts.map((a) => ({
            id: a.id,
            org_id: a.orgId,
            run_id: a.runId,
            task_id: a.taskId,
            attempt: a.attempt,
            pool: a.pool,
            available_at: a.availableAt.toISOString(),
            wait_reason: a.waitReason,
          })),
        ),
      ],
    ),
  );
  const counts = rows[0];
  if (counts?.attempts !== attempts.length || counts.tasks !== attempts.length) {
    throw new Error(`queued ${counts?.attempts ?? 0} attempts for ${counts?.tasks ?? 0} tasks, expected ${attempts.length}`);
  }
}

export async function listAttemptsOfTasks(db: Queryable, taskIds: readonly string[]): Promise<AttemptRow[]> {
  const { rows } = await db.query('SELECT * FROM task_attempts WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, attempt', [taskIds]);
  return camelRows<AttemptRow>(rows as Array<Record<string, unknown>>);
}

/**
 * Ends an attempt that is in `from`. The guard on the status is what makes a transition happen
 * once: a second delivery of the same result finds the attempt already ended and changes nothing.
 * A RUNNING attempt gives its worker slot back in the same statement.
 */
export async function endAttempt(
  db: Queryable,
  id: string,
  from: readonly AttemptStatus[],
  to: Extract<AttemptStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'LOST'>,
  error: ErrorInfo | null,
  durationMs?: number,
): Promise<AttemptRow | undefined> {
  return (await endAttempts(db, [id], from, to, error, durationMs))[0];
}

/** endAttempt for several attempts at once; resolves to those that were in `from` (now ended). */
export async function endAttempts(
  db: Queryable,
  ids: readonly string[],
  from: readonly AttemptStatus[],
  to: Extract<AttemptStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'LOST'>,
  error: ErrorInfo | null,
  durationMs?: number,
): Promise<AttemptRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ attempt: Record<string, unknown> }>(
    prepared(
      'endAttempts',
      `WITH ended AS (
         UPDATE task_attempts SET status = $3, error = $4, finished_at = now(),
                duration_ms = coalesce($5, CASE WHEN started_at IS NULL THEN NULL ELSE (extract(epoch FROM now() - started_at) * 1000)::int END)
          WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[])
         RETURNING *
       ), freed AS (
         UPDATE worker_slots SET attempt_id = NULL WHERE attempt_id IN (SELECT id FROM ended)
       ), waits AS (
         -- A wait step's attempt that ends otherwise (its run cancelled or failed) stops waiting.
         UPDATE task_waits SET status = 'CANCELLED', resolved_at = now() WHERE attempt_id IN (SELECT id FROM ended) AND status = 'WAITING'
       )
       SELECT to_jsonb(ended) AS attempt FROM ended`,
      [ids, from, to, error === null ? null : JSON.stringify(error), durationMs ?? null],
    ),
  );
  return rows.map((r) => rowFromJson<AttemptRow>(r.attempt));
}

export interface Success {
  attemptId: string;
  taskId: string;
  output: unknown;
  durationMs?: number | undefined;
}

/**
 * The CTEs that succeed attempts given as $1 (attempt_id, task_id, output, duration_ms), shared by
 * succeedAttempts and succeedAttemptsAndAdvance: `ended` the attempts that were RUNNING, their slots
 * freed, `succeeded` their tasks (still on that attempt and RUNNING), returning `taskColumns`.
 */
export const SUCCEED_ATTEMPTS = (taskColumns: string): string => `r AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(attempt_id uuid, task_id uuid, output text, duration_ms integer)
       ), ended AS (
         UPDATE task_attempts a SET status = 'SUCCEEDED', error = NULL, finished_at = now(),
                duration_ms = coalesce(r.duration_ms, (extract(epoch FROM now() - a.started_at) * 1000)::int)
           FROM r WHERE a.id = r.attempt_id AND a.status = 'RUNNING'
         RETURNING a.*
       ), freed AS (
         UPDATE worker_slots SET attempt_id = NULL WHERE attempt_id IN (SELECT id FROM ended)
       ), succeeded AS (
         UPDATE tasks t SET status = 'SUCCEEDED', output = r.output::jsonb, error = NULL, progress = 1, finished_at = now(), updated_at = now()
           FROM r WHERE t.id = r.task_id AND t.current_attempt_id = r.attempt_id AND t.status = 'RUNNING' AND r.attempt_id IN (SELECT id FROM ended)
         RETURNING ${taskColumns}
       )`;

/**
 * RUNNING attempts succeeded, in one statement: each attempt ends SUCCEEDED and gives its worker
 * slot back, and its task (if that attempt is still the task's current one, RUNNING) ends
 * SUCCEEDED with the output. An attempt that was no longer RUNNING (a duplicate result) is left
 * out of the answer and changed nothing.
 */
export async function succeedAttempts(db: Queryable, successes: readonly Success[]): Promise<Map<string, { attempt: AttemptRow; taskSucceeded: boolean }>> {
  if (successes.length === 0) return new Map();
  const { rows } = await db.query<{ attempt: Record<string, unknown>; task_succeeded: boolean }>(
    prepared(
      'succeedAttempts',
      `WITH ${SUCCEED_ATTEMPTS('t.current_attempt_id AS attempt_id')}
       SELECT to_jsonb(ended) AS attempt, ended.id IN (SELECT attempt_id FROM succeeded) AS task_succeeded FROM ended`,
      [
        JSON.stringify(
          successes.map((s) => ({ attempt_id: s.attemptId, task_id: s.taskId, output: JSON.stringify(s.output ?? null), duration_ms: s.durationMs ?? null })),
        ),
      ],
    ),
  );
  return new Map(
    rows.map((r) => {
      const attempt = rowFromJson<AttemptRow>(r.attempt);
      return [attempt.id, { attempt, taskSucceeded: r.task_succeeded }];
    }),
  );
}

/** Attempts of these tasks that are still QUEUED or RUNNING. */
export async function liveAttemptsOfTasks(db: Queryable, taskIds: readonly string[]): Promise<AttemptRow[]> {
  const { rows } = await db.query(`SELECT * FROM task_attempts WHERE task_id = ANY($1::uuid[]) AND status IN ('QUEUED', 'RUNNING')`, [taskIds]);
  return camelRows<AttemptRow>(rows as Array<Record<string, unknown>>);
}

/**
 * RUNNING attempts on workers that lost their lease, or that deregistered more than `graceMs` ago
 * (a worker leaving cleanly finishes or hands back its work first).
 */
export async function runningAttemptsOnDeadWorkers(db: Queryable, graceMs: number, limit: number): Promise<AttemptRow[]> {
  const { rows } = await db.query(
    `SELECT a.* FROM task_attempts a JOIN workers w ON w.id = a.worker_id
      WHERE a.status = 'RUNNING'
        AND (w.status = 'LOST' OR (w.status = 'OFFLINE' AND w.left_at < now() - make_interval(secs => $1::double precision / 1000)))
      ORDER BY a.started_at LIMIT $2`,
    [graceMs, limit],
  );
  return camelRows<AttemptRow>(rows as Array<Record<string, unknown>>);
}

/** RUNNING attempts whose dispatcher has not been seen since `before` (or never registered). */
export async function orphanedAttempts(db: Queryable, before: Date, limit: number): Promise<AttemptRow[]> {
  const { rows } = await db.query(
    `SELECT a.* FROM task_attempts a
       LEFT JOIN dispatchers d ON d.id = a.dispatcher_id
      WHERE a.status = 'RUNNING' AND (d.id IS NULL OR d.last_seen_at < $1)
      ORDER BY a.started_at LIMIT $2`,
    [before, limit],
  );
  return camelRows<AttemptRow>(rows as Array<Record<string, unknown>>);
}

/** Which of `ids` are RUNNING on this worker (a heartbeat lists what it runs; the rest it should stop). */
export async function attemptsRunningOn(db: Queryable, workerId: string, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM task_attempts WHERE id = ANY($1::uuid[]) AND status = 'RUNNING' AND worker_id = $2`,
    [ids, workerId],
  );
  return rows.map((r) => r.id);
}

/** An attempt with what a run-wide list needs to place it: its task's step and item index. */
export interface RunAttemptRow extends AttemptRow {
  stepId: string;
  /** A forEach item's place in its step's list; null for a step's own task. */
  itemIndex: number | null;
}

/**
 * A run's attempts (its forEach items' too) in the order they were made (ids are UUIDv7), after
 * attempt `after`, at most `limit` (task_attempts_run_order: a range of one index per page).
 */
export async function listAttemptsOfRun(db: Queryable, runId: string, after: string | undefined, limit: number): Promise<RunAttemptRow[]> {
  const { rows } = await db.query(
    prepared(
      'listAttemptsOfRun',
      `SELECT a.*, t.step_id, t.item_index FROM task_attempts a JOIN tasks t ON t.id = a.task_id
        WHERE a.run_id = $1 AND ($2::uuid IS NULL OR a.id > $2::uuid)
        ORDER BY a.id LIMIT $3`,
      [runId, after ?? null, limit],
    ),
  );
  return camelRows<RunAttemptRow>(rows as Array<Record<string, unknown>>);
}

export async function countAttemptsOfRun(db: Queryable, runId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(prepared('countAttemptsOfRun', 'SELECT count(*)::int AS n FROM task_attempts WHERE run_id = $1', [runId]));
  return rows[0]?.n ?? 0;
}
