import type { Queryable } from '@orchestra/lib';

/** A sign-in sent to the identity provider and not back yet. */
export interface SsoSignInRow {
  id: string;
  connectionId: string;
  orgId: string;
  bindingHash: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  expiresAt: Date;
  usedAt: Date | null;
}

const COLUMNS = `id, connection_id AS "connectionId", org_id AS "orgId", binding_hash AS "bindingHash", code_verifier AS "codeVerifier",
  nonce, redirect_uri AS "redirectUri", expires_at AS "expiresAt", used_at AS "usedAt"`;

export async function insertSsoSignIn(
  db: Queryable,
  s: { id: string; connectionId: string; orgId: string; stateHash: string; bindingHash: string; codeVerifier: string; nonce: string; redirectUri: string; expiresAt: Date; ip: string | undefined },
): Promise<void> {
  await db.query(
    `INSERT INTO sso_sign_ins (id, connection_id, org_id, state_hash, binding_hash, code_verifier, nonce, redirect_uri, expires_at, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [s.id, s.connectionId, s.orgId, s.stateHash, s.bindingHash, s.codeVerifier, s.nonce, s.redirectUri, s.expiresAt, s.ip ?? null],
  );
}

/** Finds the sign-in of a state and locks it (a state is used once: two callbacks race for it). */
export async function findSsoSignInByStateForUpdate(db: Queryable, stateHash: string): Promise<SsoSignInRow | undefined> {
  const { rows } = await db.query<SsoSignInRow>(`SELECT ${COLUMNS} FROM sso_sign_ins WHERE state_hash = $1 FOR UPDATE`, [stateHash]);
  return rows[0];
}

export async function markSsoSignInUsed(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE sso_sign_ins SET used_at = now() WHERE id = $1', [id]);
}

/** Sign-ins that ended or expired over a day ago (maintenance). */
export async function deleteOldSsoSignIns(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM sso_sign_ins WHERE expires_at < now() - interval '1 day'");
  return rowCount ?? 0;
}
