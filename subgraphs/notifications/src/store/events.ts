import type { Queryable } from '@orchestra/lib';

/** An event as the relays delivered it (validated against lib's registry by the gRPC adapter). */
export interface ReceivedEvent {
  id: string;
  orgId: string;
  type: string;
  occurredAt: Date;
  service: string;
  data: Record<string, unknown>;
}

export interface PendingEvent extends ReceivedEvent {
  attempts: number;
}

/** Stores events not seen before (the id is the producer's); resolves to the ids that were new. */
export async function insertEvents(db: Queryable, events: readonly ReceivedEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO notification_events (id, org_id, type, occurred_at, service, data)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[], $6::jsonb[])
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      events.map((e) => e.id),
      events.map((e) => e.orgId),
      events.map((e) => e.type),
      events.map((e) => e.occurredAt),
      events.map((e) => e.service),
      events.map((e) => JSON.stringify(e.data)),
    ],
  );
  return rows.map((r) => r.id);
}

/** Claims due, unprocessed events, oldest first; other replicas skip them until this transaction ends. */
/** Milliseconds until the next unprocessed event is due (notification_events_pending index); undefined when none waits. */
export async function pendingEventDueInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(`SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 * 1000 AS ms FROM notification_events WHERE processed_at IS NULL`);
  return rows[0]?.ms ?? undefined;
}

export async function claimPendingEvents(db: Queryable, limit: number): Promise<PendingEvent[]> {
  const { rows } = await db.query<PendingEvent>(
    `SELECT id, org_id AS "orgId", type, occurred_at AS "occurredAt", service, data, attempts
       FROM notification_events
      WHERE processed_at IS NULL AND next_attempt_at <= now()
      ORDER BY received_at, id
      LIMIT $1
      FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}

export async function markEventProcessed(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE notification_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1', [id]);
}

export async function markEventFailed(db: Queryable, id: string, error: string, delayMs: number): Promise<void> {
  await db.query(
    `UPDATE notification_events SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3::int * interval '1 millisecond' WHERE id = $1`,
    [id, error.slice(0, 1000), delayMs],
  );
}
