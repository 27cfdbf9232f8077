import type { Queryable } from '@orchestra/lib';
import { containsPattern } from './search';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  /** The owner followed a verification link mailed to this address (or a password reset link). */
  emailVerified: boolean;
  createdAt: Date;
}

export interface UserCredentialsRow extends UserRow {
  passwordHash: string;
  tokenVersion: number;
  lastOrgId: string | null;
}

const COLUMNS = 'u.id, u.email, u.name, u.email_verified_at IS NOT NULL AS "emailVerified", u.created_at AS "createdAt"';
const CREDENTIAL_COLUMNS = `${COLUMNS}, p.password_hash AS "passwordHash", u.token_version AS "tokenVersion", u.last_org_id AS "lastOrgId"`;

/** A new account; `emailVerified` only where the address is proven otherwise (the operator's first admin, an SSO provider). */
export async function insertUser(db: Queryable, user: { id: string; email: string; name: string; emailVerified?: boolean }): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users AS u (id, email, name, email_verified_at) VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END) RETURNING ${COLUMNS}`,
    [user.id, user.email, user.name, user.emailVerified === true],
  );
  return rows[0]!;
}

export async function insertPassword(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await db.query('INSERT INTO user_passwords (user_id, password_hash) VALUES ($1, $2)', [userId, passwordHash]);
}

export async function updatePasswordHash(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE user_passwords SET password_hash = $2, updated_at = now() WHERE user_id = $1', [userId, passwordHash]);
}

/** For sign-in (system transactions only: the password table is closed to tenants). */
export async function findUserCredentialsByEmail(db: Queryable, email: string): Promise<UserCredentialsRow | undefined> {
  const { rows } = await db.query<UserCredentialsRow>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM users u JOIN user_passwords p ON p.user_id = u.id WHERE u.email = $1`,
    [email],
  );
  return rows[0];
}

export async function findUserCredentialsById(db: Queryable, id: string): Promise<UserCredentialsRow | undefined> {
  const { rows } = await db.query<UserCredentialsRow>(
    `SELECT ${CREDENTIAL_COLUMNS} FROM users u JOIN user_passwords p ON p.user_id = u.id WHERE u.id = $1`,
    [id],
  );
  return rows[0];
}

export async function findUser(db: Queryable, id: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users u WHERE u.id = $1`, [id]);
  return rows[0];
}

export async function findUsers(db: Queryable, ids: readonly string[]): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users u WHERE u.id = ANY($1::uuid[])`, [ids]);
  return rows;
}

/** The user's current token version (what new access tokens carry as `tv`). */
export async function findTokenVersion(db: Queryable, userId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ tokenVersion: number }>('SELECT token_version AS "tokenVersion" FROM users WHERE id = $1', [userId]);
  return rows[0]?.tokenVersion;
}

export async function countUsers(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return rows[0]!.n;
}

export async function setLastOrganization(db: Queryable, userId: string, orgId: string): Promise<void> {
  await db.query('UPDATE users SET last_org_id = $2 WHERE id = $1 AND last_org_id IS DISTINCT FROM $2', [userId, orgId]);
}

export async function renameUser(db: Queryable, userId: string, name: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`UPDATE users AS u SET name = $2, updated_at = now() WHERE u.id = $1 RETURNING ${COLUMNS}`, [userId, name]);
  return rows[0];
}

/** Raises the user's own token version (logout everywhere, password change); resolves to the new one. */
export async function bumpTokenVersion(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ v: number }>('UPDATE users SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING token_version AS v', [userId]);
  return rows[0]!.v;
}

/** Raises a member's token version from a tenant transaction (definer function limited to the current org's members). */
export async function bumpMemberTokenVersion(db: Queryable, userId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ v: number | null }>('SELECT bump_member_token_version($1) AS v', [userId]);
  return rows[0]?.v ?? undefined;
}

/** The id of the account with this email, members or not (definer function). */
export async function findUserIdByEmail(db: Queryable, email: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string | null }>('SELECT user_id_by_email($1) AS id', [email]);
  return rows[0]?.id ?? undefined;
}

export interface UserPageQuery {
  orgId: string;
  search?: string | undefined;
  afterEmail?: string | undefined;
  limit: number;
}

/** Members of an organization as users, by email. */
export async function listOrganizationUsers(db: Queryable, q: UserPageQuery): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users u JOIN memberships m ON m.user_id = u.id
      WHERE m.org_id = $1
        AND ($2::text IS NULL OR u.email ILIKE $2 OR u.name ILIKE $2)
        AND ($3::text IS NULL OR u.email > $3)
      ORDER BY u.email
      LIMIT $4`,
    [q.orgId, containsPattern(q.search), q.afterEmail ?? null, q.limit],
  );
  return rows;
}

export async function countOrganizationUsers(db: Queryable, orgId: string, search: string | undefined): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users u JOIN memberships m ON m.user_id = u.id
      WHERE m.org_id = $1 AND ($2::text IS NULL OR u.email ILIKE $2 OR u.name ILIKE $2)`,
    [orgId, containsPattern(search)],
  );
  return rows[0]!.n;
}

/** Marks the account's current address verified (a verification or password reset link reached it). */
export async function markEmailVerified(db: Queryable, userId: string, email: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now() WHERE id = $1 AND email = $2', [userId, email]);
  return (rowCount ?? 0) > 0;
}

/** Moves the account to a new, verified address. */
export async function changeUserEmail(db: Queryable, userId: string, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(`UPDATE users AS u SET email = $2, email_verified_at = now(), updated_at = now() WHERE u.id = $1 RETURNING ${COLUMNS}`, [userId, email]);
  return rows[0];
}

/** The account holding an address, with whether and when it was verified (system transactions). */
export async function findEmailHolder(db: Queryable, email: string, lock = false): Promise<{ id: string; emailVerified: boolean; createdAt: Date } | undefined> {
  const { rows } = await db.query<{ id: string; emailVerified: boolean; createdAt: Date }>(
    `SELECT id, email_verified_at IS NOT NULL AS "emailVerified", created_at AS "createdAt" FROM users WHERE email = $1${lock ? ' FOR UPDATE' : ''}`,
    [email],
  );
  return rows[0];
}

/**
 * Takes an unverified address away from the account holding it, so that its proven owner can use it:
 * the account keeps its rows under an address nobody can receive mail at (`.invalid`, RFC 2606), its
 * tokens go stale (the caller ends its sessions). Resolves to the new token version.
 */
export async function releaseUnverifiedEmail(db: Queryable, userId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ v: number }>(
    `UPDATE users SET email = 'released-' || replace(id::text, '-', '') || '@orchestra.invalid', token_version = token_version + 1, updated_at = now()
      WHERE id = $1 AND email_verified_at IS NULL RETURNING token_version AS v`,
    [userId],
  );
  return rows[0]?.v;
}
