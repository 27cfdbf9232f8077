import type { Queryable } from '@orchestra/lib';
import type { EventCondition } from '../events/event-filter';
import type { SealedSecret } from '../secrets/keyring';

/** A trigger: a workflow started by events of a name (and filter); rows → domain objects here. */
export interface TriggerRow {
  id: string;
  orgId: string;
  workflowId: string;
  eventName: string;
  filter: EventCondition[];
  /** Whether it has an inbound webhook (its secret is never part of this object). */
  hasWebhook: boolean;
  webhookSecretRotatedAt: Date | null;
  createdBy: string;
  createdAt: Date;
}

const COLUMNS = 'id, org_id, workflow_id, event_name, filter, webhook_ciphertext IS NOT NULL AS has_webhook, webhook_secret_rotated_at, created_by, created_at';

interface Raw {
  id: string;
  org_id: string;
  workflow_id: string;
  event_name: string;
  filter: EventCondition[];
  has_webhook: boolean;
  webhook_secret_rotated_at: Date | null;
  created_by: string;
  created_at: Date;
}

const toTrigger = (r: Raw): TriggerRow => ({
  id: r.id,
  orgId: r.org_id,
  workflowId: r.workflow_id,
  eventName: r.event_name,
  filter: r.filter,
  hasWebhook: r.has_webhook,
  webhookSecretRotatedAt: r.webhook_secret_rotated_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

export interface NewTrigger {
  id: string;
  orgId: string;
  workflowId: string;
  eventName: string;
  filter: EventCondition[];
  webhook: SealedSecret | null;
  createdBy: string;
}

export async function insertTrigger(db: Queryable, t: NewTrigger): Promise<TriggerRow> {
  const { rows } = await db.query<Raw>(
    `INSERT INTO triggers (id, org_id, workflow_id, event_name, filter, webhook_key_id, webhook_wrapped_key, webhook_ciphertext, webhook_secret_rotated_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8::bytea IS NULL THEN NULL ELSE now() END, $9) RETURNING ${COLUMNS}`,
    [t.id, t.orgId, t.workflowId, t.eventName, JSON.stringify(t.filter), t.webhook?.keyId ?? null, t.webhook?.wrappedKey ?? null, t.webhook?.ciphertext ?? null, t.createdBy],
  );
  return toTrigger(rows[0] as Raw);
}

/** Sets (or with null removes) a trigger's webhook secret. */
export async function setWebhookSecret(db: Queryable, id: string, sealed: SealedSecret | null): Promise<TriggerRow | undefined> {
  const { rows } = await db.query<Raw>(
    `UPDATE triggers SET webhook_key_id = $2, webhook_wrapped_key = $3, webhook_ciphertext = $4, webhook_secret_rotated_at = CASE WHEN $4::bytea IS NULL THEN NULL ELSE now() END
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, sealed?.keyId ?? null, sealed?.wrappedKey ?? null, sealed?.ciphertext ?? null],
  );
  return rows[0] ? toTrigger(rows[0]) : undefined;
}

export async function deleteTrigger(db: Queryable, id: string): Promise<TriggerRow | undefined> {
  const { rows } = await db.query<Raw>(`DELETE FROM triggers WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0] ? toTrigger(rows[0]) : undefined;
}

export async function findTrigger(db: Queryable, id: string, { lock = false } = {}): Promise<TriggerRow | undefined> {
  const { rows } = await db.query<Raw>(`SELECT ${COLUMNS} FROM triggers WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ? toTrigger(rows[0]) : undefined;
}

export async function listTriggers(db: Queryable, filter: { workflowId?: string | undefined; eventName?: string | undefined }, limit: number): Promise<TriggerRow[]> {
  const { rows } = await db.query<Raw>(
    `SELECT ${COLUMNS} FROM triggers WHERE ($1::uuid IS NULL OR workflow_id = $1) AND ($2::text IS NULL OR event_name = $2) ORDER BY id LIMIT $3`,
    [filter.workflowId ?? null, filter.eventName ?? null, limit],
  );
  return rows.map(toTrigger);
}

export async function countTriggers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM triggers');
  return rows[0]?.n ?? 0;
}

/** The sealed webhook secret of a trigger (for verifying a delivery), or undefined when it has none. */
export async function webhookSecretOf(db: Queryable, id: string): Promise<SealedSecret | undefined> {
  const { rows } = await db.query<{ webhook_key_id: string | null; webhook_wrapped_key: Buffer | null; webhook_ciphertext: Buffer | null }>(
    'SELECT webhook_key_id, webhook_wrapped_key, webhook_ciphertext FROM triggers WHERE id = $1',
    [id],
  );
  const r = rows[0];
  if (!r || r.webhook_key_id === null || r.webhook_wrapped_key === null || r.webhook_ciphertext === null) return undefined;
  return { keyId: r.webhook_key_id, wrappedKey: r.webhook_wrapped_key, ciphertext: r.webhook_ciphertext };
}

/**
 * The organization of a trigger, read across organizations (a system read): an inbound webhook
 * request names only the trigger id, and everything after this lookup runs under its org's RLS.
 */
export async function triggerOrg(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM triggers WHERE id = $1', [id]);
  return rows[0]?.org_id;
}

/** Triggers of an event name, in id order. */
export async function triggersOfEvent(db: Queryable, eventName: string, limit: number): Promise<TriggerRow[]> {
  const { rows } = await db.query<Raw>(`SELECT ${COLUMNS} FROM triggers WHERE event_name = $1 ORDER BY id LIMIT $2`, [eventName, limit]);
  return rows.map(toTrigger);
}

/** Webhook secrets wrapped by a known key other than the active one, locked (SKIP LOCKED), across organizations. */
export async function lockWebhookSecretsToRewrap(db: Queryable, activeKeyId: string, known: readonly string[], limit: number): Promise<Array<{ id: string; orgId: string; sealed: SealedSecret }>> {
  const { rows } = await db.query<{ id: string; org_id: string; webhook_key_id: string; webhook_wrapped_key: Buffer; webhook_ciphertext: Buffer }>(
    `SELECT id, org_id, webhook_key_id, webhook_wrapped_key, webhook_ciphertext FROM triggers
      WHERE webhook_key_id IS NOT NULL AND webhook_key_id <> $1 AND webhook_key_id = ANY($2::text[]) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [activeKeyId, known, limit],
  );
  return rows.map((r) => ({ id: r.id, orgId: r.org_id, sealed: { keyId: r.webhook_key_id, wrappedKey: r.webhook_wrapped_key, ciphertext: r.webhook_ciphertext } }));
}

export async function storeRewrappedWebhookKey(db: Queryable, id: string, sealed: SealedSecret): Promise<void> {
  await db.query('UPDATE triggers SET webhook_key_id = $2, webhook_wrapped_key = $3 WHERE id = $1', [id, sealed.keyId, sealed.wrappedKey]);
}
