import type { Queryable } from '@orchestra/lib';

/** The delivery log of inbound webhooks: every request that named an existing trigger. */

export type WebhookOutcome = 'ACCEPTED' | 'REFUSED';

export interface WebhookDeliveryRow {
  id: string;
  orgId: string;
  triggerId: string;
  receivedAt: Date;
  outcome: WebhookOutcome;
  /** Why it was refused (BAD_SIGNATURE, STALE_TIMESTAMP, BODY_TOO_LARGE, ...); null when accepted. */
  reason: string | null;
  message: string | null;
  eventId: string | null;
  bodyBytes: number;
  sourceIp: string | null;
  requestId: string | null;
}

/** Deliveries kept per trigger (older ones are deleted as new ones arrive). */
export const MAX_DELIVERIES_KEPT = 1_000;

interface Raw {
  id: string;
  org_id: string;
  trigger_id: string;
  received_at: Date;
  outcome: WebhookOutcome;
  reason: string | null;
  message: string | null;
  event_id: string | null;
  body_bytes: number;
  source_ip: string | null;
  request_id: string | null;
}

const toDelivery = (r: Raw): WebhookDeliveryRow => ({
  id: r.id,
  orgId: r.org_id,
  triggerId: r.trigger_id,
  receivedAt: r.received_at,
  outcome: r.outcome,
  reason: r.reason,
  message: r.message,
  eventId: r.event_id,
  bodyBytes: r.body_bytes,
  sourceIp: r.source_ip,
  requestId: r.request_id,
});

export async function insertDelivery(db: Queryable, d: Omit<WebhookDeliveryRow, 'receivedAt'>): Promise<WebhookDeliveryRow> {
  const { rows } = await db.query<Raw>(
    `INSERT INTO webhook_deliveries (id, org_id, trigger_id, outcome, reason, message, event_id, body_bytes, source_ip, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [d.id, d.orgId, d.triggerId, d.outcome, d.reason, d.message === null ? null : d.message.slice(0, 500), d.eventId, d.bodyBytes, d.sourceIp?.slice(0, 100) ?? null, d.requestId?.slice(0, 100) ?? null],
  );
  // The log keeps the newest MAX_DELIVERIES_KEPT of the trigger.
  await db.query(
    `DELETE FROM webhook_deliveries WHERE trigger_id = $1 AND received_at < (
       SELECT received_at FROM webhook_deliveries WHERE trigger_id = $1 ORDER BY received_at DESC OFFSET $2 LIMIT 1)`,
    [d.triggerId, MAX_DELIVERIES_KEPT - 1],
  );
  return toDelivery(rows[0] as Raw);
}

export async function listDeliveries(db: Queryable, triggerId: string, filter: { outcome?: WebhookOutcome | undefined }, limit: number): Promise<WebhookDeliveryRow[]> {
  const { rows } = await db.query<Raw>(
    'SELECT * FROM webhook_deliveries WHERE trigger_id = $1 AND ($2::text IS NULL OR outcome = $2) ORDER BY received_at DESC, id DESC LIMIT $3',
    [triggerId, filter.outcome ?? null, limit],
  );
  return rows.map(toDelivery);
}
