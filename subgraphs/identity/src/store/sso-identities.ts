import type { Queryable } from '@orchestra/lib';

/** The user a provider account (connection + `sub`) is linked to. */
export async function findSsoIdentityUser(db: Queryable, connectionId: string, subject: string): Promise<string | undefined> {
  const { rows } = await db.query<{ userId: string }>('SELECT user_id AS "userId" FROM sso_identities WHERE connection_id = $1 AND subject = $2', [connectionId, subject]);
  return rows[0]?.userId;
}

export async function linkSsoIdentity(db: Queryable, l: { connectionId: string; subject: string; orgId: string; userId: string }): Promise<void> {
  await db.query(
    `INSERT INTO sso_identities (connection_id, subject, org_id, user_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (connection_id, subject) DO UPDATE SET last_sign_in_at = now()`,
    [l.connectionId, l.subject, l.orgId, l.userId],
  );
}

/** Whether the user's account has a password (SSO-provisioned ones do not). */
export async function userHasPassword(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ has: boolean }>('SELECT EXISTS (SELECT 1 FROM user_passwords WHERE user_id = $1) AS has', [userId]);
  return rows[0]!.has;
}
