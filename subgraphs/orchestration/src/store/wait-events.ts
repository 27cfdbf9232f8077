import type { Queryable } from '@orchestra/lib';
import type { WaitReason } from '../domain/wait-reasons';
import { prepared, rowFromJson, type RunRow } from './rows';

/**
 * What the wait-event recorder (waits/wait-events.ts) reads and writes: QUEUED tasks (not forEach
 * items still PENDING for a maxParallel place: their step's item counts show them) whose wait reason's kind differs from the kind their last TASK_WAITING event said for their current
 * attempt (tasks.wait_event_attempt / wait_event_kind, migration 030; the partial index
 * tasks_wait_event_due holds exactly these, so it is empty most of the time).
 */

/** The condition of tasks_wait_event_due, spelled the same so the planner uses the index. */
const DUE = `t.status = 'QUEUED'
    AND (t.wait_reason ->> 'kind') IS DISTINCT FROM (CASE WHEN t.wait_event_attempt IS NOT DISTINCT FROM t.current_attempt_id THEN t.wait_event_kind END)`;

/** Tasks whose wait reason changed kind since their last TASK_WAITING event, at most `limit`, by run. */
export async function dueWaitEvents(db: Queryable, limit: number): Promise<Array<{ taskId: string; runId: string }>> {
  const { rows } = await db.query<{ id: string; run_id: string }>(prepared('dueWaitEvents', `SELECT t.id, t.run_id FROM tasks t WHERE ${DUE} ORDER BY t.run_id LIMIT $1`, [limit]));
  return rows.map((r) => ({ taskId: r.id, runId: r.run_id }));
}

/**
 * Locks the runs among `runIds` that no other transaction holds (in id order, like every transition),
 * skipping the others: a busy run's tasks are looked at on the next pass, and this never waits on a claim.
 */
export async function lockIdleRuns(db: Queryable, runIds: readonly string[]): Promise<Map<string, RunRow>> {
  const { rows } = await db.query<{ run: Record<string, unknown> }>(
    prepared('lockIdleRuns', `SELECT to_jsonb(r) AS run FROM runs r WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE SKIP LOCKED`, [[...new Set(runIds)]]),
  );
  return new Map(rows.map((r) => rowFromJson<RunRow>(r.run)).map((run) => [run.id, run]));
}

/** A task whose wait reason changed kind, as it is now: what its TASK_WAITING event says. */
export interface WaitChange {
  taskId: string;
  runId: string;
  stepId: string;
  attemptId: string | null;
  attempt: number | null;
  reason: WaitReason | null;
}

/**
 * Of `taskIds` (their runs locked by this transaction), those still due, each marked as said (its
 * current attempt and reason's kind), in one statement; tasks another transaction holds are skipped.
 */
export async function takeWaitChanges(db: Queryable, taskIds: readonly string[]): Promise<WaitChange[]> {
  if (taskIds.length === 0) return [];
  const { rows } = await db.query<{ id: string; run_id: string; step_id: string; current_attempt_id: string | null; attempts: number; wait_reason: WaitReason | null }>(
    prepared(
      'takeWaitChanges',
      `WITH due AS (SELECT t.id FROM tasks t WHERE t.id = ANY($1::uuid[]) AND ${DUE} FOR UPDATE OF t SKIP LOCKED)
       UPDATE tasks t SET wait_event_attempt = t.current_attempt_id, wait_event_kind = t.wait_reason ->> 'kind'
         FROM due WHERE t.id = due.id
       RETURNING t.id, t.run_id, t.step_id, t.current_attempt_id, t.attempts, t.wait_reason`,
      [[...taskIds]],
    ),
  );
  return rows
    .map((r) => ({ taskId: r.id, runId: r.run_id, stepId: r.step_id, attemptId: r.current_attempt_id, attempt: r.current_attempt_id === null ? null : r.attempts, reason: r.wait_reason }))
    .sort((a, b) => (a.runId === b.runId ? a.taskId.localeCompare(b.taskId) : a.runId.localeCompare(b.runId)));
}
