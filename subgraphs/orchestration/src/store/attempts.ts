import type { Queryable } from '@orchestra/lib';
import type { AttemptStatus } from '../domain/states';
import { camelRow, camelRows, type AttemptRow, type ErrorInfo } from './rows';

export async function insertAttempt(
  db: Queryable,
  a: { id: string; orgId: string; runId: string; taskId: string; attempt: number; availableAt: Date },
): Promise<AttemptRow> {
  const { rows } = await db.query(
    `INSERT INTO task_attempts (id, org_id, run_id, task_id, attempt, status, available_at)
     VALUES ($1, $2, $3, $4, $5, 'QUEUED', $6) RETURNING *`,
    [a.id, a.orgId, a.runId, a.taskId, a.attempt, a.availableAt],
  );
  return camelRow<AttemptRow>(rows[0] as Record<string, unknown>);
}

export async function findAttempt(db: Queryable, id: string): Promise<AttemptRow | undefined> {
  const { rows } = await db.query('SELECT * FROM task_attempts WHERE id = $1', [id]);
  return rows[0] ? camelRow<AttemptRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function listAttemptsOfTasks(db: Queryable, taskIds: readonly string[]): Promise<AttemptRow[]> {
  const { rows } = await db.query('SELECT * FROM task_attempts WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, attempt', [taskIds]);
  return camelRows<AttemptRow>(rows as Array<Record<string, unknown>>);
}

/** QUEUED → RUNNING on a worker; undefined when the attempt is no longer QUEUED (a duplicate delivery). */
export async function claimAttempt(db: Queryable, id: string, workerId: string, dispatcherId: string): Promise<AttemptRow | undefined> {
  const { rows } = await db.query(
    `UPDATE task_attempts SET status = 'RUNNING', worker_id = $2, dispatcher_id = $3, started_at = now()
      WHERE id = $1 AND status = 'QUEUED' RETURNING *`,
    [id, workerId, dispatcherId],
  );
  return rows[0] ? camelRow<AttemptRow>(rows[0] as Record<string, unknown>) : undefined;
}

/**
 * Ends an attempt that is in `from`. The guard on the status is what makes a transition happen
 * once: a second delivery of the same result finds the attempt already ended and changes nothing.
 */
export async function endAttempt(
  db: Queryable,
  id: string,
  from: readonly AttemptStatus[],
  to: Extract<AttemptStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'LOST'>,
  error: ErrorInfo | null,
  durationMs?: number,
): Promise<AttemptRow | undefined> {
  const { rows } = await db.query(
    `UPDATE task_attempts SET status = $3, error = $4, finished_at = now(),
            duration_ms = coalesce($5, CASE WHEN started_at IS NULL THEN NULL ELSE (extract(epoch FROM now() - started_at) * 1000)::int END)
      WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`,
    [id, from, to, error === null ? null : JSON.stringify(error), durationMs ?? null],
  );
  return rows[0] ? camelRow<AttemptRow>(rows[0] as Record<string, unknown>) : undefined;
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
