import type { Queryable } from '@orchestra/lib';
import type { SealedSecret } from '../secrets/keyring';
import { camelRow, camelRows } from './rows';

/** A secret as the API shows it: never its value, nor its sealed form. */
export interface SecretInfo {
  id: string;
  orgId: string;
  name: string;
  version: number;
  keyId: string;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
}

/** A secret with its sealed value (for dispatch and re-wrapping only). */
export interface SealedSecretRow extends SecretInfo {
  sealed: SealedSecret;
}

const INFO_COLUMNS = 'id, org_id, name, version, key_id, created_by, updated_by, created_at, updated_at, last_used_at';

const sealedRowOf = (row: Record<string, unknown>): SealedSecretRow => {
  const { wrappedKey, ciphertext, ...info } = camelRow<SecretInfo & { wrappedKey: Buffer; ciphertext: Buffer }>(row);
  return { ...info, sealed: { keyId: info.keyId, wrappedKey, ciphertext } };
};

export async function insertSecret(
  db: Queryable,
  s: { id: string; orgId: string; name: string; sealed: SealedSecret; createdBy: string },
): Promise<SecretInfo> {
  const { rows } = await db.query(
    `INSERT INTO secrets (id, org_id, name, key_id, wrapped_key, ciphertext, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${INFO_COLUMNS}`,
    [s.id, s.orgId, s.name, s.sealed.keyId, s.sealed.wrappedKey, s.sealed.ciphertext, s.createdBy],
  );
  return camelRow<SecretInfo>(rows[0] as Record<string, unknown>);
}

/** Replaces a secret's value (a new version); undefined when there is no such secret. */
export async function replaceSecretValue(db: Queryable, id: string, sealed: SealedSecret, updatedBy: string): Promise<SecretInfo | undefined> {
  const { rows } = await db.query(
    `UPDATE secrets SET key_id = $2, wrapped_key = $3, ciphertext = $4, version = version + 1, updated_by = $5, updated_at = now()
     WHERE id = $1 RETURNING ${INFO_COLUMNS}`,
    [id, sealed.keyId, sealed.wrappedKey, sealed.ciphertext, updatedBy],
  );
  return rows[0] ? camelRow<SecretInfo>(rows[0] as Record<string, unknown>) : undefined;
}

/** The secret of that name, its row locked until the transaction ends. */
export async function lockSecretByName(db: Queryable, name: string): Promise<SecretInfo | undefined> {
  const { rows } = await db.query(`SELECT ${INFO_COLUMNS} FROM secrets WHERE name = $1 FOR UPDATE`, [name]);
  return rows[0] ? camelRow<SecretInfo>(rows[0] as Record<string, unknown>) : undefined;
}

export async function deleteSecret(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM secrets WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export async function listSecrets(db: Queryable): Promise<SecretInfo[]> {
  const { rows } = await db.query(`SELECT ${INFO_COLUMNS} FROM secrets ORDER BY name`);
  return camelRows<SecretInfo>(rows as Array<Record<string, unknown>>);
}

export async function countSecrets(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM secrets');
  return rows[0]?.n ?? 0;
}

/** Which of these names exist (under row-level security: in the transaction's org). */
export async function existingSecretNames(db: Queryable, names: readonly string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const { rows } = await db.query<{ name: string }>('SELECT name FROM secrets WHERE name = ANY($1::text[])', [names]);
  return new Set(rows.map((r) => r.name));
}

/**
 * An org's secrets of these names with their sealed values, for dispatch. Dispatch runs as the
 * system (no row-level security): the org is part of the query, never left to the caller.
 */
export async function sealedSecretsOfOrg(db: Queryable, orgId: string, names: readonly string[]): Promise<SealedSecretRow[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query(`SELECT ${INFO_COLUMNS}, wrapped_key, ciphertext FROM secrets WHERE org_id = $1 AND name = ANY($2::text[])`, [orgId, names]);
  return (rows as Array<Record<string, unknown>>).map(sealedRowOf);
}

/** Notes that a dispatch used them (at most once a minute per secret: dispatch is a hot path). */
export async function touchSecretsUsed(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`UPDATE secrets SET last_used_at = now() WHERE id = ANY($1::uuid[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [ids]);
}

/**
 * Up to `limit` secrets (every org) whose data key is wrapped by one of the `known` keys other than
 * the active one, locked, skipping rows other replicas hold.
 */
export async function lockSecretsToRewrap(db: Queryable, activeKeyId: string, known: readonly string[], limit: number): Promise<SealedSecretRow[]> {
  const { rows } = await db.query(
    `SELECT ${INFO_COLUMNS}, wrapped_key, ciphertext FROM secrets WHERE key_id <> $1 AND key_id = ANY($2::text[]) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [activeKeyId, known, limit],
  );
  return (rows as Array<Record<string, unknown>>).map(sealedRowOf);
}

/** Key ids that wrap stored secrets but are not among `known` (with how many secrets each). */
export async function countSecretsOfUnknownKeys(db: Queryable, known: readonly string[]): Promise<Array<{ keyId: string; secrets: number }>> {
  const { rows } = await db.query<{ key_id: string; n: number }>('SELECT key_id, count(*)::int AS n FROM secrets WHERE NOT (key_id = ANY($1::text[])) GROUP BY key_id', [known]);
  return rows.map((r) => ({ keyId: r.key_id, secrets: r.n }));
}

/** Stores a re-wrapped data key (the value's ciphertext and version are unchanged). */
export async function storeRewrappedKey(db: Queryable, id: string, sealed: SealedSecret): Promise<void> {
  await db.query('UPDATE secrets SET key_id = $2, wrapped_key = $3 WHERE id = $1', [id, sealed.keyId, sealed.wrappedKey]);
}
