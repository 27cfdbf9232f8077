import type { Queryable } from '@orchestra/lib';
import type { WaitKind } from '../domain/wait-steps';
import type { WaitReason } from '../domain/wait-reasons';
import type { EventCondition } from '../events/event-filter';
import { camelRow, camelRows, prepared } from './rows';

/** How a wait stands: WAITING, or how it ended. */
export const WAIT_STATUSES = ['WAITING', 'APPROVED', 'REJECTED', 'RECEIVED', 'ELAPSED', 'TIMED_OUT', 'CANCELLED'] as const;
export type WaitStatus = (typeof WAIT_STATUSES)[number];

/** A wait step's wait for one attempt of its task (migration 023). */
export interface TaskWaitRow {
  attemptId: string;
  orgId: string;
  runId: string;
  taskId: string;
  stepId: string;
  kind: WaitKind;
  status: WaitStatus;
  message: string | null;
  roles: string[];
  eventName: string | null;
  eventFilter: EventCondition[];
  correlationPath: string[] | null;
  correlationValue: unknown;
  deadline: Date;
  onTimeout: string | null;
  decidedBy: string | null;
  decidedByUserId: string | null;
  comment: string | null;
  output: unknown;
  resolvedAt: Date | null;
  createdAt: Date;
}

export type NewTaskWait = Pick<TaskWaitRow, 'attemptId' | 'orgId' | 'runId' | 'taskId' | 'stepId' | 'kind' | 'message' | 'roles' | 'eventName' | 'eventFilter' | 'correlationPath' | 'correlationValue' | 'deadline' | 'onTimeout'>;

/** Records a wait and sets its task's wait reason, in one statement (the task still on that attempt). */
export async function insertTaskWait(db: Queryable, wait: NewTaskWait, reason: WaitReason): Promise<void> {
  await db.query(
    prepared(
      'insertTaskWait',
      `WITH w AS (
         INSERT INTO task_waits (attempt_id, org_id, run_id, task_id, step_id, kind, message, roles, event_name, event_filter, correlation_path, correlation_value, deadline, on_timeout)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING task_id, attempt_id
       )
       UPDATE tasks t SET wait_reason = $15, updated_at = now() FROM w WHERE t.id = w.task_id AND t.current_attempt_id = w.attempt_id`,
      [
        wait.attemptId,
        wait.orgId,
        wait.runId,
        wait.taskId,
        wait.stepId,
        wait.kind,
        wait.message,
        wait.roles,
        wait.eventName,
        JSON.stringify(wait.eventFilter),
        wait.correlationPath,
        wait.correlationValue === undefined || wait.correlationValue === null ? null : JSON.stringify(wait.correlationValue),
        wait.deadline,
        wait.onTimeout,
        JSON.stringify(reason),
      ],
    ),
  );
}

export async function findTaskWait(db: Queryable, attemptId: string): Promise<TaskWaitRow | undefined> {
  const { rows } = await db.query('SELECT * FROM task_waits WHERE attempt_id = $1', [attemptId]);
  return rows[0] ? camelRow<TaskWaitRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** The latest wait of each task (its current or last attempt's), by task id. */
export async function latestWaitsOfTasks(db: Queryable, taskIds: readonly string[]): Promise<Map<string, TaskWaitRow>> {
  if (taskIds.length === 0) return new Map();
  const { rows } = await db.query('SELECT DISTINCT ON (task_id) * FROM task_waits WHERE task_id = ANY($1::uuid[]) ORDER BY task_id, attempt_id DESC', [taskIds]);
  return new Map(camelRows<TaskWaitRow>(rows as Array<Record<string, unknown>>).map((w) => [w.taskId, w]));
}

export interface WaitResolution {
  status: Exclude<WaitStatus, 'WAITING' | 'CANCELLED'>;
  output: unknown;
  decidedBy?: string | null;
  decidedByUserId?: string | null;
  comment?: string | null;
}

/**
 * Moves a wait out of WAITING, exactly once: only while it is WAITING and its attempt is still
 * QUEUED (a cancelled or superseded attempt's wait is not resolved), and with `dueOnly` only when its
 * deadline has come. Resolves to the wait as resolved, or undefined when it was not WAITING.
 */
export async function claimTaskWait(db: Queryable, attemptId: string, resolution: WaitResolution, dueOnly = false): Promise<TaskWaitRow | undefined> {
  const { rows } = await db.query(
    prepared(
      dueOnly ? 'claimDueTaskWait' : 'claimTaskWait',
      `UPDATE task_waits w SET status = $2, output = $3, decided_by = $4, decided_by_user_id = $5, comment = $6, resolved_at = now()
         FROM task_attempts a
        WHERE w.attempt_id = $1 AND w.status = 'WAITING' AND a.id = w.attempt_id AND a.status = 'QUEUED'${dueOnly ? ' AND w.deadline <= now()' : ''}
        RETURNING w.*`,
      [attemptId, resolution.status, JSON.stringify(resolution.output ?? null), resolution.decidedBy ?? null, resolution.decidedByUserId ?? null, resolution.comment ?? null],
    ),
  );
  return rows[0] ? camelRow<TaskWaitRow>(rows[0] as Record<string, unknown>) : undefined;
}

/** Waits whose deadline has come (of every organization: a system read, no locks), earliest first. */
export async function dueTaskWaits(db: Queryable, limit: number): Promise<Array<Pick<TaskWaitRow, 'attemptId' | 'orgId' | 'runId'>>> {
  const { rows } = await db.query(`SELECT attempt_id, org_id, run_id FROM task_waits WHERE status = 'WAITING' AND deadline <= now() ORDER BY deadline LIMIT $1`, [limit]);
  return camelRows(rows as Array<Record<string, unknown>>);
}

/** Milliseconds until the earliest deadline of a wait still waiting, by the database's clock (the task_waits_due index); undefined when none waits. */
export async function waitDeadlineInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    prepared('waitDeadlineInMs', `SELECT extract(epoch FROM min(deadline) - now())::float8 * 1000 AS ms FROM task_waits WHERE status = 'WAITING'`, []),
  );
  return rows[0]?.ms ?? undefined;
}

/**
 * The organization's event waits an event of `name` with `payload` may resume: WAITING, of that name,
 * and correlated to the payload (its value at the wait's path equals the wait's value) when the wait
 * has a correlation. Their payload filters are checked by the caller. Oldest first, at most `limit`.
 */
export async function eventWaitCandidates(db: Queryable, orgId: string, name: string, payload: unknown, limit: number): Promise<TaskWaitRow[]> {
  const { rows } = await db.query(
    prepared(
      'eventWaitCandidates',
      `SELECT * FROM task_waits
        WHERE org_id = $1 AND status = 'WAITING' AND kind = 'EVENT' AND event_name = $2
          AND (correlation_path IS NULL OR $3::jsonb #> correlation_path = correlation_value)
        ORDER BY attempt_id LIMIT $4`,
      [orgId, name, JSON.stringify(payload ?? null), limit],
    ),
  );
  return camelRows<TaskWaitRow>(rows as Array<Record<string, unknown>>);
}

/** The organization's approvals waiting for a member of `role` (all of them for an owner or an API key: `role` null), oldest first, after a cursor. */
export async function listPendingApprovals(db: Queryable, role: string | null, afterAttemptId: string | undefined, limit: number): Promise<TaskWaitRow[]> {
  const { rows } = await db.query(
    `SELECT w.* FROM task_waits w JOIN task_attempts a ON a.id = w.attempt_id AND a.status = 'QUEUED'
      WHERE w.status = 'WAITING' AND w.kind = 'APPROVAL' AND ($1::text IS NULL OR $1 = ANY(w.roles)) AND ($2::uuid IS NULL OR w.attempt_id > $2)
      ORDER BY w.attempt_id LIMIT $3`,
    [role, afterAttemptId ?? null, limit],
  );
  return camelRows<TaskWaitRow>(rows as Array<Record<string, unknown>>);
}

export async function countPendingApprovals(db: Queryable, role: string | null): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_waits w JOIN task_attempts a ON a.id = w.attempt_id AND a.status = 'QUEUED'
      WHERE w.status = 'WAITING' AND w.kind = 'APPROVAL' AND ($1::text IS NULL OR $1 = ANY(w.roles))`,
    [role],
  );
  return rows[0]?.n ?? 0;
}

/** A waiting task's attempt starts (QUEUED → RUNNING, no worker) so that it can succeed like any attempt; resolves to whether it did. */
export async function startWaitAttempt(db: Queryable, attemptId: string, taskId: string): Promise<boolean> {
  const { rows } = await db.query(
    prepared(
      'startWaitAttempt',
      `WITH a AS (
         UPDATE task_attempts SET status = 'RUNNING', started_at = now() WHERE id = $1 AND status = 'QUEUED' RETURNING id
       )
       UPDATE tasks t SET status = 'RUNNING', wait_reason = NULL, started_at = coalesce(t.started_at, now()), updated_at = now()
         FROM a WHERE t.id = $2 AND t.current_attempt_id = a.id AND t.status = 'QUEUED'
       RETURNING t.id`,
      [attemptId, taskId],
    ),
  );
  return rows.length === 1;
}
