import type { Queryable } from '@orchestra/lib';
import { camelRow, camelRows, type DeadLetterRow, type ErrorInfo } from './rows';

/** An entry is open while it is neither replayed nor discarded. */
const OPEN = 'replayed_at IS NULL AND discarded_at IS NULL';

export async function insertDeadLetter(
  db: Queryable,
  d: { id: string; orgId: string; runId: string; taskId: string; attemptId: string | null; stepId: string; attempts: number; error: ErrorInfo },
): Promise<void> {
  // One open entry per task: a task that fails again after a replay (or a discard and a retry) gets a new one.
  await db.query(
    `INSERT INTO dead_letters (id, org_id, run_id, task_id, attempt_id, step_id, attempts, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_id) WHERE ${OPEN} DO NOTHING`,
    [d.id, d.orgId, d.runId, d.taskId, d.attemptId, d.stepId, d.attempts, JSON.stringify(d.error)],
  );
}

export async function findDeadLetter(db: Queryable, id: string): Promise<DeadLetterRow | undefined> {
  const { rows } = await db.query('SELECT * FROM dead_letters WHERE id = $1', [id]);
  return rows[0] ? camelRow<DeadLetterRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findDeadLettersByIds(db: Queryable, ids: readonly string[]): Promise<DeadLetterRow[]> {
  const { rows } = await db.query('SELECT * FROM dead_letters WHERE id = ANY($1::uuid[])', [ids]);
  return camelRows<DeadLetterRow>(rows as Array<Record<string, unknown>>);
}

export async function markRunDeadLettersReplayed(db: Queryable, runId: string, by: string): Promise<number> {
  const { rowCount } = await db.query(`UPDATE dead_letters SET replayed_at = now(), replayed_by = $2 WHERE run_id = $1 AND ${OPEN}`, [runId, by]);
  return rowCount ?? 0;
}

/** Discards the open entries among `ids`; answers the ids it discarded. */
export async function discardDeadLetters(db: Queryable, ids: readonly string[], by: string): Promise<DeadLetterRow[]> {
  const { rows } = await db.query(`UPDATE dead_letters SET discarded_at = now(), discarded_by = $2 WHERE id = ANY($1::uuid[]) AND ${OPEN} RETURNING *`, [ids, by]);
  return camelRows<DeadLetterRow>(rows as Array<Record<string, unknown>>);
}

export interface DeadLetterFilter {
  runId?: string | undefined;
  /** Replayed and discarded entries too. */
  includeReplayed?: boolean | undefined;
  errorCode?: string | undefined;
  stepId?: string | undefined;
  workflowId?: string | undefined;
}

const where = (filter: DeadLetterFilter, params: unknown[]): string => {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.includeReplayed !== true) clauses.push(OPEN);
  if (filter.runId !== undefined) add('run_id = ?', filter.runId);
  if (filter.errorCode !== undefined) add(`error->>'code' = ?`, filter.errorCode);
  if (filter.stepId !== undefined) add('step_id = ?', filter.stepId);
  if (filter.workflowId !== undefined) add('run_id IN (SELECT id FROM runs WHERE workflow_id = ?)', filter.workflowId);
  return clauses.length > 0 ? clauses.join(' AND ') : 'true';
};

export async function listDeadLetters(db: Queryable, filter: DeadLetterFilter, afterId: string | undefined, limit: number): Promise<DeadLetterRow[]> {
  const params: unknown[] = [];
  let w = where(filter, params);
  if (afterId !== undefined) {
    params.push(afterId);
    w += ` AND id < $${params.length}`;
  }
  params.push(limit);
  const { rows } = await db.query(`SELECT * FROM dead_letters WHERE ${w} ORDER BY id DESC LIMIT $${params.length}`, params);
  return camelRows<DeadLetterRow>(rows as Array<Record<string, unknown>>);
}

export async function countDeadLetters(db: Queryable, filter: DeadLetterFilter): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE ${where(filter, params)}`, params);
  return rows[0]?.n ?? 0;
}

export interface DeadLetterGroup {
  errorCode: string;
  stepId: string;
  workflowId: string;
  count: number;
  lastAt: Date;
  /** The newest entry's message. */
  message: string;
}

/** Open entries grouped by error code, workflow and step, largest group first, at most `limit` groups. */
export async function groupDeadLetters(db: Queryable, limit: number): Promise<DeadLetterGroup[]> {
  const { rows } = await db.query<{ error_code: string; step_id: string; workflow_id: string; n: number; last_at: Date; message: string | null }>(
    `SELECT d.error->>'code' AS error_code, d.step_id, r.workflow_id, count(*)::int AS n, max(d.created_at) AS last_at,
            (array_agg(d.error->>'message' ORDER BY d.id DESC))[1] AS message
       FROM dead_letters d JOIN runs r ON r.id = d.run_id
      WHERE d.${OPEN.replace(' AND ', ' AND d.')}
      GROUP BY 1, 2, 3
      ORDER BY n DESC, last_at DESC
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ errorCode: r.error_code ?? 'UNKNOWN', stepId: r.step_id, workflowId: r.workflow_id, count: r.n, lastAt: r.last_at, message: r.message ?? '' }));
}
