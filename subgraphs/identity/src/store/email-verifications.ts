import type { Queryable } from '@orchestra/lib';

export type EmailVerificationPurpose = 'sign_up' | 'change';

export interface EmailVerificationRow {
  id: string;
  userId: string;
  email: string;
  purpose: EmailVerificationPurpose;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
}

const COLUMNS = 'id, user_id AS "userId", email, purpose, token_hash AS "tokenHash", expires_at AS "expiresAt", used_at AS "usedAt"';

/** A new verification link for the user; every older open one stops working (only the latest mail counts). */
export async function insertEmailVerification(
  db: Queryable,
  r: { id: string; userId: string; email: string; purpose: EmailVerificationPurpose; tokenHash: string; expiresAt: Date },
): Promise<void> {
  await markEmailVerificationsUsed(db, r.userId);
  await db.query('INSERT INTO email_verifications (id, user_id, email, purpose, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    r.id,
    r.userId,
    r.email,
    r.purpose,
    r.tokenHash,
    r.expiresAt,
  ]);
}

export async function findEmailVerification(db: Queryable, id: string, lock = false): Promise<EmailVerificationRow | undefined> {
  const { rows } = await db.query<EmailVerificationRow>(`SELECT ${COLUMNS} FROM email_verifications WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

/** The user's open (unused, unexpired) e-mail change, if any: the address it would move to. */
export async function findPendingEmailChange(db: Queryable, userId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ email: string }>(
    "SELECT email FROM email_verifications WHERE user_id = $1 AND purpose = 'change' AND used_at IS NULL AND expires_at > now() ORDER BY created_at DESC LIMIT 1",
    [userId],
  );
  return rows[0]?.email;
}

/** Spends every open link of the user. */
export async function markEmailVerificationsUsed(db: Queryable, userId: string): Promise<void> {
  await db.query('UPDATE email_verifications SET used_at = now() WHERE user_id = $1 AND used_at IS NULL', [userId]);
}

/** Deletes links a day past their expiry. */
export async function deleteOldEmailVerifications(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM email_verifications WHERE expires_at < now() - interval '1 day'");
  return rowCount ?? 0;
}
