import type { Queryable } from '@orchestra/lib';

export interface ApiKeyRow {
  id: string;
  orgId: string;
  name: string;
  scopes: string[];
  secretHash: string;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUseAuditedAt: Date | null;
  /** created_at in microseconds since the epoch, exact: the page cursor. */
  createdAtMicros: string;
}

const COLUMNS = `k.id, k.org_id AS "orgId", k.name, k.scopes, k.secret_hash AS "secretHash", k.created_by AS "createdBy",
  k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", k.last_used_at AS "lastUsedAt",
  k.last_use_audited_at AS "lastUseAuditedAt", (extract(epoch FROM k.created_at) * 1000000)::bigint::text AS "createdAtMicros"`;

export async function insertApiKey(
  db: Queryable,
  key: { id: string; orgId: string; name: string; scopes: string[]; secretHash: string; createdBy: string | undefined; expiresAt: Date | undefined },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys AS k (id, org_id, name, scopes, secret_hash, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [key.id, key.orgId, key.name, key.scopes, key.secretHash, key.createdBy ?? null, key.expiresAt ?? null],
  );
  return rows[0]!;
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys k WHERE k.id = $1`, [id]);
  return rows[0];
}

/** Revokes a key; resolves to the row (already revoked ones unchanged), or undefined when not found. */
export async function revokeApiKey(db: Queryable, id: string, revokedBy: string | undefined): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys AS k SET revoked_at = coalesce(k.revoked_at, now()), revoked_by = coalesce(k.revoked_by, $2)
      WHERE k.id = $1 RETURNING ${COLUMNS}`,
    [id, revokedBy ?? null],
  );
  return rows[0];
}

/** Revokes every active key the user created in the organization; resolves to the revoked rows. */
export async function revokeApiKeysCreatedBy(db: Queryable, orgId: string, createdBy: string, revokedBy: string | undefined): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys AS k SET revoked_at = now(), revoked_by = $3
      WHERE k.org_id = $1 AND k.created_by = $2 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      RETURNING ${COLUMNS}`,
    [orgId, createdBy, revokedBy ?? null],
  );
  return rows;
}

/** Active (neither revoked nor expired) keys each user created in the organization, by user id. */
export async function countActiveApiKeysCreatedBy(db: Queryable, orgId: string, userIds: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ userId: string; n: number }>(
    `SELECT k.created_by AS "userId", count(*)::int AS n FROM api_keys k
      WHERE k.org_id = $1 AND k.created_by = ANY($2::uuid[]) AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
      GROUP BY k.created_by`,
    [orgId, userIds],
  );
  return new Map(rows.map((r) => [r.userId, r.n]));
}

/**
 * Records a use of the key, throttled in the statement itself so that concurrent requests and
 * replicas write at most once per interval: last_used_at every `touchSeconds`, and the audit mark
 * every `auditSeconds`. Resolves to whether this call took the audit turn, or undefined when
 * nothing was due.
 */
export async function recordApiKeyUse(db: Queryable, id: string, ip: string | undefined, touchSeconds: number, auditSeconds: number): Promise<{ audit: boolean } | undefined> {
  const { rows } = await db.query<{ audit: boolean }>(
    `UPDATE api_keys AS k
        SET last_used_at = now(), last_used_ip = coalesce($2, k.last_used_ip),
            last_use_audited_at = CASE WHEN k.last_use_audited_at IS NULL OR k.last_use_audited_at <= now() - $4 * interval '1 second'
                                       THEN now() ELSE k.last_use_audited_at END
      WHERE k.id = $1
        AND (k.last_used_at IS NULL OR k.last_used_at <= now() - $3 * interval '1 second'
             OR k.last_use_audited_at IS NULL OR k.last_use_audited_at <= now() - $4 * interval '1 second')
      RETURNING k.last_use_audited_at = now() AS audit`,
    [id, ip ?? null, touchSeconds, auditSeconds],
  );
  return rows[0];
}

export interface ApiKeyPageQuery {
  orgId: string;
  includeRevoked: boolean;
  before?: { createdAtMicros: string; id: string } | undefined;
  limit: number;
}

export async function listApiKeys(db: Queryable, q: ApiKeyPageQuery): Promise<ApiKeyRow[]> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys k
      WHERE k.org_id = $1 AND ($2 OR k.revoked_at IS NULL)
        AND ($3::bigint IS NULL OR (k.created_at, k.id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4::text))
      ORDER BY k.created_at DESC, k.id DESC
      LIMIT $5`,
    [q.orgId, q.includeRevoked, q.before?.createdAtMicros ?? null, q.before?.id ?? null, q.limit],
  );
  return rows;
}

export async function countApiKeys(db: Queryable, orgId: string, includeRevoked: boolean): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys k WHERE k.org_id = $1 AND ($2 OR k.revoked_at IS NULL)', [orgId, includeRevoked]);
  return rows[0]!.n;
}
