import type { Queryable } from '@orchestra/lib';
import { camelRow, camelRows, type DeadLetterRow, type ErrorInfo } from './rows';

export async function insertDeadLetter(
  db: Queryable,
  d: { id: string; orgId: string; runId: string; taskId: string; attemptId: string | null; stepId: string; attempts: number; error: ErrorInfo },
): Promise<void> {
  // One open entry per task: a task that fails again after a replay gets a new one.
  await db.query(
    `INSERT INTO dead_letters (id, org_id, run_id, task_id, attempt_id, step_id, attempts, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_id) WHERE replayed_at IS NULL DO NOTHING`,
    [d.id, d.orgId, d.runId, d.taskId, d.attemptId, d.stepId, d.attempts, JSON.stringify(d.error)],
  );
}

export async function findDeadLetter(db: Queryable, id: string): Promise<DeadLetterRow | undefined> {
  const { rows } = await db.query('SELECT * FROM dead_letters WHERE id = $1', [id]);
  return rows[0] ? camelRow<DeadLetterRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function markRunDeadLettersReplayed(db: Queryable, runId: string, by: string): Promise<number> {
  const { rowCount } = await db.query('UPDATE dead_letters SET replayed_at = now(), replayed_by = $2 WHERE run_id = $1 AND replayed_at IS NULL', [runId, by]);
  return rowCount ?? 0;
}

export interface DeadLetterFilter {
  runId?: string | undefined;
  includeReplayed?: boolean | undefined;
}

const where = (filter: DeadLetterFilter, params: unknown[]): string => {
  const clauses: string[] = [];
  if (filter.includeReplayed !== true) clauses.push('replayed_at IS NULL');
  if (filter.runId !== undefined) {
    params.push(filter.runId);
    clauses.push(`run_id = $${params.length}`);
  }
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
