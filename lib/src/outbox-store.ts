import type { Pool, PoolClient } from './db';

/** A row of an outbox table (audit_outbox, notification_outbox) as the relay sends it. */
export interface OutboxRow<E> {
  id: string;
  event: E;
  attempts: number;
}

/** What is waiting in an outbox: how many, the oldest one's age, and when the next retry is due. */
export interface OutboxBacklog {
  count: number;
  oldestSeconds: number | null;
  /** Milliseconds until the next undelivered event is due (≤ 0: now); null when none waits. */
  nextDueInMs: number | null;
}

const PRUNE_BATCH = 5000;

/**
 * The statements of an outbox relay against one outbox table (`table`: the quoted, schema-qualified
 * name). `rejectedCode` is the error code of an event the receiver refused: such rows wait for their
 * own retry and are never released early.
 */
export function createOutboxStore<E>(table: string, rejectedCode: string) {
  const notRejected = `last_error_code IS DISTINCT FROM '${rejectedCode.replace(/'/g, "''")}'`;
  return {
    /**
     * Locks up to `limit` undelivered rows (SKIP LOCKED: replicas never send the same row at once). A
     * probe ignores backoff (it asks whether the receiver is back) but not rows the receiver refused,
     * and takes the row that waited longest for its retry, so probes rotate over the backlog and one
     * event that makes the receiver fail cannot hold up the others.
     */
    async claim(tx: PoolClient, limit: number, probe: boolean): Promise<Array<OutboxRow<E>>> {
      const due = probe ? notRejected : 'next_attempt_at <= now()';
      const order = probe ? 'next_attempt_at, created_at, id' : 'created_at, id';
      const { rows } = await tx.query<OutboxRow<E>>(
        `SELECT id, event, attempts FROM ${table}
          WHERE delivered_at IS NULL AND ${due}
          ORDER BY ${order}
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return rows;
    },

    // The relay's transaction stays open across the call to the receiver (up to its deadline), so the
    // times a row gets after that call are the wall clock's (clock_timestamp()), not the transaction's
    // start (now()): a back-off counted from the start would be shortened by the call, or already over.

    async markDelivered(tx: PoolClient, ids: string[]): Promise<void> {
      await tx.query(`UPDATE ${table} SET delivered_at = clock_timestamp(), attempts = attempts + 1, last_error = NULL, last_error_code = NULL WHERE id = ANY($1::uuid[])`, [ids]);
    },

    /** Records a failed attempt of each row, each due again after its own delay. */
    async markFailed(tx: PoolClient, failures: Array<{ id: string; delayMs: number }>, error: { message: string; code: string }): Promise<void> {
      await tx.query(
        `UPDATE ${table} AS o
            SET attempts = o.attempts + 1, last_error = $2, last_error_code = $3,
                next_attempt_at = clock_timestamp() + d.delay_ms * interval '1 millisecond'
           FROM unnest($1::uuid[], $4::int[]) AS d(id, delay_ms)
          WHERE o.id = d.id`,
        [failures.map((f) => f.id), error.message.slice(0, 1000), error.code, failures.map((f) => f.delayMs)],
      );
    },

    /**
     * Rows that failed only because the receiver was unreachable become due now; resolves to how many.
     * now() (the transaction's start) is right here: a row due between that start and the wall clock is
     * due either way, and a stable value keeps the pending index usable.
     */
    async releaseWaiting(tx: PoolClient): Promise<number> {
      const { rowCount } = await tx.query(`UPDATE ${table} SET next_attempt_at = now() WHERE delivered_at IS NULL AND next_attempt_at > now() AND ${notRejected}`);
      return rowCount ?? 0;
    },

    async backlog(pool: Pool): Promise<OutboxBacklog> {
      const { rows } = await pool.query<{ count: number; oldest: number | null; next_in_ms: number | null }>(
        `SELECT count(*)::int AS count, extract(epoch FROM now() - min(created_at))::float8 AS oldest,
                extract(epoch FROM min(next_attempt_at) - now())::float8 * 1000 AS next_in_ms
           FROM ${table} WHERE delivered_at IS NULL`,
      );
      return { count: rows[0]?.count ?? 0, oldestSeconds: rows[0]?.oldest ?? null, nextDueInMs: rows[0]?.next_in_ms ?? null };
    },

    /** Deletes rows delivered more than `keepDeliveredMs` ago, in bounded batches that keep each delete short next to live inserts. */
    async pruneDelivered(pool: Pool, keepDeliveredMs: number): Promise<number> {
      let total = 0;
      for (;;) {
        const { rowCount } = await pool.query(
          `DELETE FROM ${table} WHERE id IN (
             SELECT id FROM ${table} WHERE delivered_at < now() - $1::float8 * interval '1 millisecond' LIMIT ${PRUNE_BATCH})`,
          [keepDeliveredMs],
        );
        total += rowCount ?? 0;
        if ((rowCount ?? 0) < PRUNE_BATCH) return total;
      }
    },
  };
}
