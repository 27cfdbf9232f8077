import type { Queryable } from '@orchestra/lib';

export interface PasswordResetRow {
  id: string;
  userId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
}

const COLUMNS = 'id, user_id AS "userId", token_hash AS "tokenHash", expires_at AS "expiresAt", used_at AS "usedAt"';

/** A new reset token for the user; every older open one stops working (only the latest mail counts). */
export async function insertPasswordReset(db: Queryable, r: { id: string; userId: string; tokenHash: string; expiresAt: Date; ip: string | undefined }): Promise<void> {
  await db.query('UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [r.userId]);
  await db.query('INSERT INTO password_resets (id, user_id, token_hash, expires_at, ip) VALUES ($1, $2, $3, $4, $5)', [r.id, r.userId, r.tokenHash, r.expiresAt, r.ip ?? null]);
}

export async function findPasswordReset(db: Queryable, id: string, lock = false): Promise<PasswordResetRow | undefined> {
  const { rows } = await db.query<PasswordResetRow>(`SELECT ${COLUMNS} FROM password_resets WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

/** Spends the token and every other open one of the user. */
export async function markPasswordResetsUsed(db: Queryable, userId: string): Promise<void> {
  await db.query('UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [userId]);
}

/** Deletes tokens a day past their expiry. */
export async function deleteOldPasswordResets(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'");
  return rowCount ?? 0;
}
