import { AppError, badInput, newId, traceIdOf, withAuditFailureScope, type PoolClient, type Principal } from '@orchestra/lib';
import { inSystem, type IdentityDeps } from '../deps';
import { listMembershipsOfUser } from '../store/memberships';
import { advanceTimeStep, closeChallenge, countChallengeFailure, findChallengeForUpdate, findTwoFactor, insertChallenge, useRecoveryCode } from '../store/two-factor';
import { findUserCredentialsById, updatePasswordHash, type UserCredentialsRow } from '../store/users';
import { formatRowToken, hashSecret, newSecret, parseRowToken, secretMatches } from './opaque-tokens';
import type { AuthPayload } from './sessions';
import { openSession } from './sign-in';
import { openTotpSecret } from './two-factor-secrets';
import { checkTotp, parseSecondFactor, type SecondFactor } from './totp';

/**
 * The second step of sign-in with two-factor on: a right password earns a challenge token (single
 * use, TWO_FACTOR_CHALLENGE_TTL_SECONDS, TWO_FACTOR_MAX_ATTEMPTS wrong codes), handed back in the
 * TWO_FACTOR_REQUIRED error of `login`; completeTwoFactorSignIn trades it and a TOTP or recovery code
 * for a session.
 */

const CHALLENGE_PREFIX = 'otf';

/** Records a challenge for a user whose password was right and returns the error that hands it over. */
export async function twoFactorChallenge(deps: IdentityDeps, principal: Principal, user: UserCredentialsRow, requestedOrg: string | undefined, newHash: string | undefined): Promise<AppError> {
  const id = newId();
  const secret = newSecret();
  const expiresAt = new Date(Date.now() + deps.config.TWO_FACTOR_CHALLENGE_TTL_SECONDS * 1000);
  const orgIds = await inSystem(deps, async (tx) => {
    if (newHash !== undefined) await updatePasswordHash(tx, user.id, newHash);
    await insertChallenge(tx, { id, userId: user.id, orgId: requestedOrg, tokenHash: hashSecret(secret), expiresAt, ip: principal.ip });
    return (await listMembershipsOfUser(tx, user.id)).map((m) => m.orgId);
  });
  deps.log.info('sign-in waits for the second factor', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: user.id, challengeId: id });
  const error = new AppError('UNAUTHENTICATED', 'enter the code from your authenticator app (or a recovery code) to finish signing in', {
    reason: 'TWO_FACTOR_REQUIRED',
    details: { challengeToken: formatRowToken(CHALLENGE_PREFIX, id, secret), challengeExpiresAt: expiresAt.toISOString() },
  });
  return withAuditFailureScope(error, { orgIds, targetId: user.id, diff: { passwordAccepted: true, twoFactorRequired: true } });
}

/** Checks a code of the user's enabled second factor and spends it (a TOTP step, or a recovery code): true when accepted. */
export async function spendSecondFactor(deps: IdentityDeps, tx: PoolClient, userId: string, factor: SecondFactor): Promise<boolean> {
  const row = await findTwoFactor(tx, userId, true);
  if (row?.enabledAt == null) return false;
  if (factor.kind === 'recovery') return useRecoveryCode(tx, userId, factor.hash);
  const step = await checkTotp(openTotpSecret(deps.totpKeys, userId, row.secret), factor.code, row.lastTimeStep);
  return step !== undefined && advanceTimeStep(tx, userId, step);
}

export interface CompleteTwoFactorInput {
  challengeToken: string;
  code: string;
}

const challengeError = (message: string, reason: string): AppError => badInput('challengeToken', message, reason);

/** Checks the code against the challenge's user; a session in the organization asked for at login on success. */
export async function completeTwoFactorSignIn(deps: IdentityDeps, principal: Principal, input: CompleteTwoFactorInput): Promise<AuthPayload> {
  const parsed = parseRowToken(CHALLENGE_PREFIX, input.challengeToken);
  if (!parsed) throw challengeError('this sign-in has no valid challenge: sign in with your password again', 'TWO_FACTOR_CHALLENGE_INVALID');
  const factor = parseSecondFactor(input.code, 'code');
  const max = deps.config.TWO_FACTOR_MAX_ATTEMPTS;
  const outcome = await inSystem(deps, async (tx) => {
    const challenge = await findChallengeForUpdate(tx, parsed.rowId);
    if (!challenge || !secretMatches(parsed.secret, challenge.tokenHash)) return { error: challengeError('this sign-in has no valid challenge: sign in with your password again', 'TWO_FACTOR_CHALLENGE_INVALID') };
    if (challenge.usedAt !== null) {
      const why = challenge.attempts >= max ? `too many wrong codes (${max})` : 'it was already used';
      return { error: challengeError(`this sign-in is over (${why}): sign in with your password again`, 'TWO_FACTOR_CHALLENGE_CLOSED') };
    }
    if (challenge.expiresAt.getTime() <= Date.now()) return { error: challengeError('this sign-in took too long: sign in with your password again', 'TWO_FACTOR_CHALLENGE_EXPIRED') };
    if (!(await spendSecondFactor(deps, tx, challenge.userId, factor))) {
      const attempts = await countChallengeFailure(tx, challenge.id, max);
      return { wrong: { attempts, userId: challenge.userId } };
    }
    await closeChallenge(tx, challenge.id);
    return { ok: { userId: challenge.userId, orgId: challenge.orgId ?? undefined } };
  });
  if (outcome.error) throw outcome.error;
  if (outcome.wrong) {
    const left = Math.max(0, max - outcome.wrong.attempts);
    deps.counters.signInFailures.inc();
    deps.log.info('second factor refused', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: outcome.wrong.userId, attemptsLeft: left });
    throw badInput('code', left > 0 ? `this code is not valid: ${left} attempt${left === 1 ? '' : 's'} left` : 'this code is not valid, and that was the last attempt: sign in with your password again', 'INVALID_CODE');
  }
  const user = await findUserCredentialsById(deps.pool, outcome.ok.userId);
  if (!user) throw challengeError('this account no longer exists', 'TWO_FACTOR_CHALLENGE_INVALID');
  return openSession(deps, principal, user, outcome.ok.orgId, { secondFactor: factor.kind });
}
