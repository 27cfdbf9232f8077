import type { Queryable } from '@orchestra/lib';

export interface WebhookEndpoint {
  id: string;
  orgId: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  secretRotatedAt: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, org_id AS "orgId", url, description, events, enabled, secret, previous_secret AS "previousSecret",
  previous_secret_expires_at AS "previousSecretExpiresAt", secret_rotated_at AS "secretRotatedAt", disabled_at AS "disabledAt",
  disabled_reason AS "disabledReason", created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function insertEndpoint(db: Queryable, e: { id: string; orgId: string; url: string; description: string; events: string[]; secret: string }): Promise<WebhookEndpoint> {
  const { rows } = await db.query<WebhookEndpoint>(
    `INSERT INTO webhook_endpoints (id, org_id, url, description, events, secret) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [e.id, e.orgId, e.url, e.description, e.events, e.secret],
  );
  return rows[0]!;
}

export async function listEndpoints(db: Queryable): Promise<WebhookEndpoint[]> {
  const { rows } = await db.query<WebhookEndpoint>(`SELECT ${COLUMNS} FROM webhook_endpoints ORDER BY created_at, id LIMIT 500`);
  return rows;
}

export async function findEndpoint(db: Queryable, id: string, forUpdate = false): Promise<WebhookEndpoint | undefined> {
  const { rows } = await db.query<WebhookEndpoint>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function countEndpoints(db: Queryable, orgId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE org_id = $1', [orgId]);
  return rows[0]?.n ?? 0;
}

/** The enabled endpoints of an organization that want events of `type`. */
export async function endpointsFor(db: Queryable, orgId: string, type: string): Promise<WebhookEndpoint[]> {
  const { rows } = await db.query<WebhookEndpoint>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND enabled AND $2 = ANY(events)`, [orgId, type]);
  return rows;
}

export async function updateEndpoint(
  db: Queryable,
  id: string,
  change: { url?: string | undefined; description?: string | undefined; events?: string[] | undefined; enabled?: boolean | undefined },
): Promise<WebhookEndpoint | undefined> {
  const { rows } = await db.query<WebhookEndpoint>(
    `UPDATE webhook_endpoints SET
        url = coalesce($2, url), description = coalesce($3, description), events = coalesce($4, events),
        enabled = coalesce($5, enabled),
        -- Enabling again clears why it was disabled.
        disabled_at = CASE WHEN $5 IS TRUE THEN NULL ELSE disabled_at END,
        disabled_reason = CASE WHEN $5 IS TRUE THEN NULL ELSE disabled_reason END,
        updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, change.url ?? null, change.description ?? null, change.events ?? null, change.enabled ?? null],
  );
  return rows[0];
}

export async function rotateSecret(db: Queryable, id: string, secret: string, overlapMs: number): Promise<WebhookEndpoint | undefined> {
  const { rows } = await db.query<WebhookEndpoint>(
    `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = now() + $3::int * interval '1 millisecond',
        secret = $2, secret_rotated_at = now(), updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, secret, overlapMs],
  );
  return rows[0];
}

export async function deleteEndpoint(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Disables an endpoint that kept failing; resolves to it when this call disabled it (not already disabled). */
export async function disableEndpoint(db: Queryable, id: string, reason: string): Promise<WebhookEndpoint | undefined> {
  const { rows } = await db.query<WebhookEndpoint>(
    `UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), disabled_reason = $2, updated_at = now()
      WHERE id = $1 AND enabled RETURNING ${COLUMNS}`,
    [id, reason.slice(0, 1000)],
  );
  return rows[0];
}
