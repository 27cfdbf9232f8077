import type { Queryable } from '@orchestra/lib';

export interface SigningKeyRow {
  kid: string;
  algorithm: 'EdDSA' | 'ES256';
  public_jwk: Record<string, unknown>;
  private_key_pem: string;
  created_at: Date;
  activates_at: Date;
  retires_at: Date | null;
}

export async function insertSigningKey(
  db: Queryable,
  key: { kid: string; algorithm: string; publicJwk: Record<string, unknown>; privateKeyPem: string; activatesAt: Date },
): Promise<SigningKeyRow> {
  const { rows } = await db.query<SigningKeyRow>(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key_pem, activates_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [key.kid, key.algorithm, JSON.stringify(key.publicJwk), key.privateKeyPem, key.activatesAt],
  );
  return rows[0]!;
}

/** The keys that sign now or will, and retired ones whose tokens may still be alive. */
export async function listPublishedSigningKeys(db: Queryable, retentionSeconds: number): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(
    `SELECT * FROM signing_keys
      WHERE retires_at IS NULL OR retires_at > now() - $1 * interval '1 second'
      ORDER BY activates_at DESC`,
    [retentionSeconds],
  );
  return rows;
}

/** The newest key (the signer, or the one about to become it). */
export async function findNewestSigningKey(db: Queryable): Promise<SigningKeyRow | undefined> {
  const { rows } = await db.query<SigningKeyRow>('SELECT * FROM signing_keys WHERE retires_at IS NULL ORDER BY activates_at DESC LIMIT 1');
  return rows[0];
}

/** Every key still without an end stops signing when `successorKid` activates. */
export async function retireSigningKeysAt(db: Queryable, successorKid: string, at: Date): Promise<number> {
  const { rowCount } = await db.query('UPDATE signing_keys SET retires_at = $2 WHERE retires_at IS NULL AND kid <> $1', [successorKid, at]);
  return rowCount ?? 0;
}

/** Keys retired so long ago that no token they signed can still be valid. */
export async function deleteExpiredSigningKeys(db: Queryable, retentionSeconds: number): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM signing_keys WHERE retires_at < now() - $1 * interval '1 second'", [retentionSeconds]);
  return rowCount ?? 0;
}

/** Serializes key creation and rotation across replicas, for the rest of the transaction. */
export async function lockSigningKeys(db: Queryable): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':signing-keys'))");
}
