import type { Queryable } from '@orchestra/lib';

export interface SessionRow {
  id: string;
  userId: string;
  orgId: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  /** The hard end of the session (no token of it outlives it), or null. */
  expiresAt: Date | null;
  /** The organization whose single sign-on opened the session (it reaches that one only), or null. */
  ssoOrgId: string | null;
}

/** A refresh token with the session it belongs to. */
export interface RefreshTokenRow {
  id: string;
  sessionId: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  /** The token it was traded for, once used. */
  replacedBy: string | null;
  /** That successor, sealed under this token's secret (auth/sealed-successor.ts), until the successor is traded. */
  successorSealed: string | null;
  session: SessionRow;
}

export type SessionRevocation = 'LOGOUT' | 'LOGOUT_EVERYWHERE' | 'REFRESH_TOKEN_REUSED' | 'MEMBERSHIP_ENDED' | 'PASSWORD_CHANGED' | 'EMAIL_RELEASED' | 'TWO_FACTOR_RESET';

const SESSION_COLUMNS = 's.id, s.user_id AS "userId", s.org_id AS "orgId", s.created_at AS "createdAt", s.revoked_at AS "revokedAt", s.revoked_reason AS "revokedReason", s.expires_at AS "expiresAt", s.sso_org_id AS "ssoOrgId"';

export async function insertSession(
  db: Queryable,
  s: { id: string; userId: string; orgId: string; ip: string | undefined; userAgent: string | undefined; expiresAt?: Date | undefined; ssoOrgId?: string | undefined },
): Promise<SessionRow> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO sessions AS s (id, user_id, org_id, ip, user_agent, expires_at, sso_org_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${SESSION_COLUMNS}`,
    [s.id, s.userId, s.orgId, s.ip ?? null, s.userAgent?.slice(0, 500) ?? null, s.expiresAt ?? null, s.ssoOrgId ?? null],
  );
  return rows[0]!;
}

export async function insertRefreshToken(db: Queryable, t: { id: string; sessionId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await db.query('INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [t.id, t.sessionId, t.tokenHash, t.expiresAt]);
}

/**
 * The refresh token and its session, both locked: two concurrent refreshes with the same token are
 * serialized, so exactly one rotates it and the other sees it used.
 */
export async function findRefreshTokenForUpdate(db: Queryable, id: string): Promise<RefreshTokenRow | undefined> {
  const { rows } = await db.query<Omit<RefreshTokenRow, 'session'> & { s: SessionRow }>(
    `SELECT t.id, t.session_id AS "sessionId", t.token_hash AS "tokenHash", t.expires_at AS "expiresAt", t.used_at AS "usedAt",
            t.replaced_by AS "replacedBy", t.successor_sealed AS "successorSealed",
            json_build_object('id', s.id, 'userId', s.user_id, 'orgId', s.org_id, 'createdAt', s.created_at,
                              'revokedAt', s.revoked_at, 'revokedReason', s.revoked_reason, 'expiresAt', s.expires_at,
                              'ssoOrgId', s.sso_org_id) AS s
       FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
      WHERE t.id = $1
      FOR UPDATE OF t, s`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { s, ...token } = row;
  return {
    ...token,
    session: {
      ...s,
      createdAt: new Date(s.createdAt),
      revokedAt: s.revokedAt === null ? null : new Date(s.revokedAt),
      expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt),
    },
  };
}

/** Marks the token traded for `successor` (its id, and its token sealed for the reuse grace, or null). */
export async function markRefreshTokenUsed(db: Queryable, id: string, successor: { id: string; sealed: string | null }): Promise<void> {
  await db.query('UPDATE refresh_tokens SET used_at = now(), replaced_by = $2, successor_sealed = $3 WHERE id = $1', [id, successor.id, successor.sealed]);
}

/**
 * Forgets the sealed successors of the session's older tokens once a newer one is traded: they are two
 * generations old now and may never be answered again. A row locked meanwhile is skipped, not waited for:
 * its holder is presenting that old token and will find it two generations old (and end the session),
 * and waiting for it while holding the session's lock could deadlock with it.
 */
export async function clearSealedSuccessors(db: Queryable, sessionId: string): Promise<void> {
  await db.query(
    `UPDATE refresh_tokens SET successor_sealed = NULL
      WHERE id IN (SELECT id FROM refresh_tokens WHERE session_id = $1 AND successor_sealed IS NOT NULL FOR UPDATE SKIP LOCKED)`,
    [sessionId],
  );
}

export async function markSessionRefreshed(db: Queryable, id: string, orgId: string): Promise<void> {
  await db.query('UPDATE sessions SET refreshed_at = now(), org_id = $2 WHERE id = $1', [id, orgId]);
}

/** Organizations whose single sign-on opened a live session of the user (each such session reaches its own only). */
export async function findLiveSsoSessionOrgs(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ orgId: string }>(
    `SELECT DISTINCT sso_org_id AS "orgId" FROM sessions
      WHERE user_id = $1 AND sso_org_id IS NOT NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [userId],
  );
  return rows.map((r) => r.orgId);
}

/** Ends one session; resolves to false when it had already ended. */
export async function revokeSession(db: Queryable, id: string, reason: SessionRevocation): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [id, reason]);
  return (rowCount ?? 0) > 0;
}

/** Ends every open session of the user, except `keep`; resolves to the ended sessions' ids. */
export async function revokeUserSessions(db: Queryable, userId: string, reason: SessionRevocation, keep?: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3) RETURNING id',
    [userId, reason, keep ?? null],
  );
  return rows.map((r) => r.id);
}

/** Deletes refresh tokens expired for a day (reuse detection needs them only while they could be presented). */
export async function deleteExpiredRefreshTokens(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'");
  return rowCount ?? 0;
}

/** Deletes sessions that no refresh token can continue any more. */
export async function deleteDeadSessions(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM sessions s
      WHERE (s.revoked_at IS NOT NULL AND s.revoked_at < now() - interval '1 day')
         OR (s.expires_at IS NOT NULL AND s.expires_at < now() - interval '1 day')
         OR NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id)`,
  );
  return rowCount ?? 0;
}
