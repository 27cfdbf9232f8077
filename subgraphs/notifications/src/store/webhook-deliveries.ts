import type { Queryable } from '@orchestra/lib';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDelivery {
  id: string;
  orgId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  giveUpAt: Date;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastResponseExcerpt: string | null;
  lastError: string | null;
  deliveredAt: Date | null;
  redeliveryOf: string | null;
  createdAt: Date;
}

export interface WebhookAttempt {
  id: string;
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
  succeeded: boolean;
}

const COLUMNS = `id, org_id AS "orgId", endpoint_id AS "endpointId", event_id AS "eventId", event_type AS "eventType", body, status, attempts,
  next_attempt_at AS "nextAttemptAt", give_up_at AS "giveUpAt", last_status_code AS "lastStatusCode", last_latency_ms AS "lastLatencyMs",
  last_response_excerpt AS "lastResponseExcerpt", last_error AS "lastError", delivered_at AS "deliveredAt", redelivery_of AS "redeliveryOf", created_at AS "createdAt"`;

export interface NewDelivery {
  id: string;
  orgId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  body: string;
  giveUpAt: Date;
  redeliveryOf?: string | null;
}

/** Inserts deliveries (one automatic delivery per endpoint and event); resolves to how many were new. */
export async function insertDeliveries(db: Queryable, rows: readonly NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, body, give_up_at, redelivery_of)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[], $8::uuid[])
     ON CONFLICT (endpoint_id, event_id) WHERE redelivery_of IS NULL DO NOTHING`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.orgId),
      rows.map((r) => r.endpointId),
      rows.map((r) => r.eventId),
      rows.map((r) => r.eventType),
      rows.map((r) => r.body),
      rows.map((r) => r.giveUpAt),
      rows.map((r) => r.redeliveryOf ?? null),
    ],
  );
  return rowCount ?? 0;
}

/**
 * Claims due deliveries of enabled endpoints for `leaseMs`: their next_attempt_at moves past the
 * attempt, so other replicas skip them, and a sender that dies mid-attempt leaves them due again.
 */
/** Milliseconds until the next pending delivery to an enabled endpoint is due (webhook_deliveries_due); undefined when none waits. */
export async function deliveryDueInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    `SELECT extract(epoch FROM min(d.next_attempt_at) - now())::float8 * 1000 AS ms
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled WHERE d.status = 'pending'`,
  );
  return rows[0]?.ms ?? undefined;
}

export async function claimDueDeliveries(db: Queryable, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
  const { rows } = await db.query<WebhookDelivery>(
    `UPDATE webhook_deliveries d SET next_attempt_at = now() + $2::int * interval '1 millisecond'
      WHERE d.id IN (
        SELECT d2.id FROM webhook_deliveries d2 JOIN webhook_endpoints e ON e.id = d2.endpoint_id
         WHERE d2.status = 'pending' AND d2.next_attempt_at <= now() AND e.enabled
         ORDER BY d2.next_attempt_at
         LIMIT $1
         FOR UPDATE OF d2 SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
  return rows;
}

export interface AttemptResult {
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
  succeeded: boolean;
}

export async function insertAttempt(db: Queryable, a: AttemptResult & { id: string; orgId: string; deliveryId: string }): Promise<void> {
  await db.query(
    `INSERT INTO webhook_attempts (id, org_id, delivery_id, status_code, latency_ms, response_excerpt, error, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [a.id, a.orgId, a.deliveryId, a.statusCode, a.latencyMs, a.responseExcerpt, a.error, a.succeeded],
  );
}

/** Records an attempt's outcome on the delivery: succeeded, retried at `nextAttemptAt`, or failed for good. */
export async function recordOutcome(db: Queryable, id: string, r: AttemptResult, next: { status: DeliveryStatus; nextAttemptAt: Date | null }): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, next_attempt_at = coalesce($3, next_attempt_at),
        last_status_code = $4, last_latency_ms = $5, last_response_excerpt = $6, last_error = $7,
        delivered_at = CASE WHEN $2 = 'succeeded' THEN now() ELSE delivered_at END
      WHERE id = $1`,
    [id, next.status, next.nextAttemptAt, r.statusCode, r.latencyMs, r.responseExcerpt, r.error],
  );
}

export async function findDelivery(db: Queryable, id: string): Promise<WebhookDelivery | undefined> {
  const { rows } = await db.query<WebhookDelivery>(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE id = $1`, [id]);
  return rows[0];
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(db: Queryable, endpointId: string, q: { beforeId?: string | undefined; limit: number }): Promise<WebhookDelivery[]> {
  const { rows } = await db.query<WebhookDelivery>(
    `SELECT ${COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [endpointId, q.beforeId ?? null, q.limit],
  );
  return rows;
}

export async function listAttempts(db: Queryable, deliveryId: string): Promise<WebhookAttempt[]> {
  const { rows } = await db.query<WebhookAttempt>(
    `SELECT id, attempted_at AS "attemptedAt", status_code AS "statusCode", latency_ms AS "latencyMs", response_excerpt AS "responseExcerpt", error, succeeded
       FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempted_at, id LIMIT 200`,
    [deliveryId],
  );
  return rows;
}

/** Pending deliveries of an endpoint fail with it when it is disabled (they are kept in the log, redeliverable). */
export async function failPendingOf(db: Queryable, endpointId: string, reason: string): Promise<number> {
  const { rowCount } = await db.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = coalesce(last_error, $2) WHERE endpoint_id = $1 AND status = 'pending'`, [endpointId, reason.slice(0, 1000)]);
  return rowCount ?? 0;
}
