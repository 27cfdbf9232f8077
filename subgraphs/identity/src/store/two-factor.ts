import type { Queryable, SealedValue } from '@orchestra/lib';

/** A TOTP secret as stored: sealed with a TWO_FACTOR_KEYS key, or (rows from before migration 006, until sealed at start) plaintext. */
export type StoredTotpSecret = ({ kind: 'sealed' } & SealedValue) | { kind: 'plaintext'; secret: string };

export interface TwoFactorRow {
  userId: string;
  secret: StoredTotpSecret;
  enabledAt: Date | null;
  lastTimeStep: number | null;
}

interface RawTwoFactorRow {
  userId: string;
  plaintext: string | null;
  sealed: Buffer | null;
  keyId: string | null;
  enabledAt: Date | null;
  lastTimeStep: number | null;
}

const COLUMNS = 'user_id AS "userId", secret AS plaintext, secret_sealed AS sealed, secret_key_id AS "keyId", enabled_at AS "enabledAt", last_time_step::float8 AS "lastTimeStep"';

const toRow = ({ plaintext, sealed, keyId, ...rest }: RawTwoFactorRow): TwoFactorRow => ({
  ...rest,
  secret: sealed !== null && keyId !== null ? { kind: 'sealed', keyId, sealed } : { kind: 'plaintext', secret: plaintext ?? '' },
});

export async function findTwoFactor(db: Queryable, userId: string, lock = false): Promise<TwoFactorRow | undefined> {
  const { rows } = await db.query<RawTwoFactorRow>(`SELECT ${COLUMNS} FROM user_two_factor WHERE user_id = $1${lock ? ' FOR UPDATE' : ''}`, [userId]);
  return rows[0] && toRow(rows[0]);
}

/** Starts (or restarts) an enrolment that is not confirmed yet, with its sealed secret; an enabled one is left alone (resolves to false). */
export async function upsertPendingTwoFactor(db: Queryable, userId: string, secret: SealedValue): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO user_two_factor AS t (user_id, secret_sealed, secret_key_id) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET secret = NULL, secret_sealed = EXCLUDED.secret_sealed, secret_key_id = EXCLUDED.secret_key_id, created_at = now(), last_time_step = NULL
     WHERE t.enabled_at IS NULL`,
    [userId, secret.sealed, secret.keyId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Rows whose secret is plaintext or sealed by one of `olderKeyIds` (keys of the ring other than the
 * active one), locked; other replicas skip them.
 */
export async function lockSecretsToSeal(db: Queryable, olderKeyIds: string[], limit: number): Promise<TwoFactorRow[]> {
  const { rows } = await db.query<RawTwoFactorRow>(
    `SELECT ${COLUMNS} FROM user_two_factor WHERE secret IS NOT NULL OR secret_key_id = ANY($1::text[]) ORDER BY user_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [olderKeyIds, limit],
  );
  return rows.map(toRow);
}

/** How many sealed secrets no key of the ring opens (a key removed before its rows were re-sealed). */
export async function countStrandedSecrets(db: Queryable, knownKeyIds: string[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_two_factor WHERE secret IS NULL AND NOT (secret_key_id = ANY($1::text[]))', [knownKeyIds]);
  return rows[0]!.n;
}

/** Replaces a row's secret with this sealed one; the plaintext column is cleared in the same statement. */
export async function storeSealedSecret(db: Queryable, userId: string, secret: SealedValue): Promise<void> {
  await db.query('UPDATE user_two_factor SET secret = NULL, secret_sealed = $2, secret_key_id = $3 WHERE user_id = $1', [userId, secret.sealed, secret.keyId]);
}

export async function enableTwoFactor(db: Queryable, userId: string, timeStep: number): Promise<void> {
  await db.query('UPDATE user_two_factor SET enabled_at = now(), last_time_step = $2 WHERE user_id = $1', [userId, timeStep]);
}

/** Records the time step of an accepted code, only if it is newer than the last one (false: a replay). */
export async function advanceTimeStep(db: Queryable, userId: string, timeStep: number): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE user_two_factor SET last_time_step = $2 WHERE user_id = $1 AND (last_time_step IS NULL OR last_time_step < $2)', [userId, timeStep]);
  return (rowCount ?? 0) > 0;
}

export async function deleteTwoFactor(db: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_two_factor WHERE user_id = $1', [userId]);
  await db.query('DELETE FROM two_factor_recovery_codes WHERE user_id = $1', [userId]);
  await db.query('DELETE FROM two_factor_challenges WHERE user_id = $1', [userId]);
  return (rowCount ?? 0) > 0;
}

/** Whether the user signs in with a second factor (system read). */
export async function isTwoFactorEnabled(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ on: boolean }>('SELECT EXISTS (SELECT 1 FROM user_two_factor WHERE user_id = $1 AND enabled_at IS NOT NULL) AS on', [userId]);
  return rows[0]!.on;
}

/** Replaces the user's recovery codes with these hashes. */
export async function replaceRecoveryCodes(db: Queryable, userId: string, codes: Array<{ id: string; hash: string }>): Promise<void> {
  await db.query('DELETE FROM two_factor_recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO two_factor_recovery_codes (id, user_id, code_hash) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])', [
    codes.map((c) => c.id),
    codes.map(() => userId),
    codes.map((c) => c.hash),
  ]);
}

/** Spends the unused recovery code with this hash; false when there is none. */
export async function useRecoveryCode(db: Queryable, userId: string, hash: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE two_factor_recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL', [userId, hash]);
  return (rowCount ?? 0) > 0;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM two_factor_recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return rows[0]!.n;
}

export interface TwoFactorChallengeRow {
  id: string;
  userId: string;
  orgId: string | null;
  tokenHash: string;
  expiresAt: Date;
  attempts: number;
  usedAt: Date | null;
}

export async function insertChallenge(db: Queryable, c: { id: string; userId: string; orgId: string | undefined; tokenHash: string; expiresAt: Date; ip: string | undefined }): Promise<void> {
  await db.query('INSERT INTO two_factor_challenges (id, user_id, org_id, token_hash, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)', [
    c.id,
    c.userId,
    c.orgId ?? null,
    c.tokenHash,
    c.expiresAt,
    c.ip ?? null,
  ]);
}

export async function findChallengeForUpdate(db: Queryable, id: string): Promise<TwoFactorChallengeRow | undefined> {
  const { rows } = await db.query<TwoFactorChallengeRow>(
    'SELECT id, user_id AS "userId", org_id AS "orgId", token_hash AS "tokenHash", expires_at AS "expiresAt", attempts, used_at AS "usedAt" FROM two_factor_challenges WHERE id = $1 FOR UPDATE',
    [id],
  );
  return rows[0];
}

/** Counts a wrong code; closes the challenge when it reaches `maxAttempts`. Resolves to the attempts made. */
export async function countChallengeFailure(db: Queryable, id: string, maxAttempts: number): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    'UPDATE two_factor_challenges SET attempts = attempts + 1, used_at = CASE WHEN attempts + 1 >= $2 THEN now() ELSE used_at END WHERE id = $1 RETURNING attempts',
    [id, maxAttempts],
  );
  return rows[0]?.attempts ?? maxAttempts;
}

export async function closeChallenge(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE two_factor_challenges SET used_at = now() WHERE id = $1', [id]);
}

export async function deleteOldChallenges(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("DELETE FROM two_factor_challenges WHERE expires_at < now() - interval '1 day'");
  return rowCount ?? 0;
}

/** The organization requires a second factor and the user has none enabled (system transaction). */
export async function isTwoFactorEnrollmentRequired(db: Queryable, userId: string, orgId: string): Promise<boolean> {
  const { rows } = await db.query<{ r: boolean }>(
    'SELECT o.require_two_factor AND NOT EXISTS (SELECT 1 FROM user_two_factor t WHERE t.user_id = $1 AND t.enabled_at IS NOT NULL) AS r FROM organizations o WHERE o.id = $2',
    [userId, orgId],
  );
  return rows[0]?.r ?? false;
}

/** Whether any organization of the user requires a second factor (system transaction). */
export async function isTwoFactorRequiredOfUser(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ r: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 AND o.require_two_factor) AS r',
    [userId],
  );
  return rows[0]!.r;
}

/**
 * Raises the token version of every member of the organization without an enabled second factor
 * (system transaction): their tokens are re-issued, with or without the enrolment restriction.
 */
export async function bumpTokenVersionsOfUnenrolledMembers(db: Queryable, orgId: string): Promise<Array<{ userId: string; tokenVersion: number }>> {
  const { rows } = await db.query<{ userId: string; tokenVersion: number }>(
    `UPDATE users u SET token_version = token_version + 1, updated_at = now()
     WHERE u.id IN (SELECT m.user_id FROM memberships m WHERE m.org_id = $1)
       AND NOT EXISTS (SELECT 1 FROM user_two_factor t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)
     RETURNING u.id AS "userId", u.token_version AS "tokenVersion"`,
    [orgId],
  );
  return rows;
}

export async function findRequireTwoFactor(db: Queryable, orgId: string): Promise<boolean> {
  const { rows } = await db.query<{ r: boolean }>('SELECT require_two_factor AS r FROM organizations WHERE id = $1', [orgId]);
  return rows[0]?.r ?? false;
}

export async function setRequireTwoFactor(db: Queryable, orgId: string, required: boolean): Promise<boolean | undefined> {
  const { rows } = await db.query<{ before: boolean }>(
    'UPDATE organizations o SET require_two_factor = $2, updated_at = now() FROM (SELECT require_two_factor AS before FROM organizations WHERE id = $1) b WHERE o.id = $1 RETURNING b.before',
    [orgId, required],
  );
  return rows[0]?.before;
}

/** From a tenant transaction: resets a member of the current organization (definer function). */
export async function resetMemberTwoFactor(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query<{ reset: boolean }>('SELECT reset_member_two_factor($1) AS reset', [userId]);
  return rows[0]?.reset ?? false;
}
