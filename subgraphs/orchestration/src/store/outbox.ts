import type { Queryable } from '@orchestra/lib';
import { camelRows, prepared, type OutboxRow } from './rows';

export async function deleteOutbox(db: Queryable, attemptIds: readonly string[]): Promise<void> {
  if (attemptIds.length === 0) return;
  await db.query(prepared('deleteOutbox', 'DELETE FROM dispatch_outbox WHERE attempt_id = ANY($1::uuid[])', [attemptIds]));
}

export async function markEnqueued(db: Queryable, attemptIds: readonly string[]): Promise<void> {
  if (attemptIds.length === 0) return;
  await db.query(prepared('markEnqueued', 'UPDATE dispatch_outbox SET enqueued_at = now() WHERE attempt_id = ANY($1::uuid[]) AND enqueued_at IS NULL', [attemptIds]));
}

/** Entries never handed to the queue (the process died between commit and enqueue), oldest first. */
export async function unenqueuedOutbox(db: Queryable, createdBefore: Date, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query('SELECT * FROM dispatch_outbox WHERE enqueued_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2', [createdBefore, limit]);
  return camelRows<OutboxRow>(rows as Array<Record<string, unknown>>);
}

/** Entries the queue accepted, oldest first after `afterAttemptId` (the reconciler checks Redis still has them). */
export async function enqueuedOutbox(db: Queryable, enqueuedBefore: Date, afterAttemptId: string | undefined, limit: number): Promise<OutboxRow[]> {
  const { rows } = await db.query(
    `SELECT * FROM dispatch_outbox
      WHERE enqueued_at IS NOT NULL AND enqueued_at < $1 AND ($2::uuid IS NULL OR attempt_id > $2)
      ORDER BY attempt_id LIMIT $3`,
    [enqueuedBefore, afterAttemptId ?? null, limit],
  );
  return camelRows<OutboxRow>(rows as Array<Record<string, unknown>>);
}

export async function outboxPools(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ pool: string }>('SELECT DISTINCT pool FROM dispatch_outbox');
  return rows.map((r) => r.pool);
}
