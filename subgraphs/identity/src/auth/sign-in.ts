import { AppError, recordAudit, traceIdOf, withAuditFailureScope, type PoolClient, type Principal } from '@orchestra/lib';
import { actingUser, inSystem, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { listMembershipsOfUser } from '../store/memberships';
import { findUserCredentialsByEmail, findUserCredentialsById, bumpTokenVersion, updatePasswordHash, type UserCredentialsRow } from '../store/users';
import { isTwoFactorEnabled } from '../store/two-factor';
import { assertPasswordSignInAllowed } from '../sso/require-sso';
import { findLiveSsoSessionOrgs } from '../store/sessions';
import { ssoRequiredFor } from '../store/sso-connections';
import { requireId } from '../validation';
import { twoFactorChallenge } from './two-factor-sign-in';
import { normalizeEmail } from './email';
import { checkPasswordStrength } from './passwords';
import { endAllSessions, startSession, type AuthPayload } from './sessions';

/**
 * Unknown email and wrong password get the same answer on purpose: a different one would let anyone
 * find out which addresses have an account. (Timing is evened out too: see verifyNobody.)
 */
export const invalidCredentials = (): AppError =>
  new AppError('UNAUTHENTICATED', 'email or password is incorrect', { reason: 'INVALID_CREDENTIALS' });

const ipKey = (principal: Principal): string => principal.ip ?? 'unknown';
/** A user id no account has. */
const NOBODY = '00000000-0000-0000-0000-000000000000';

/**
 * Refuses with RATE_LIMITED (and `retryAfterSeconds`) while this client must wait before trying the
 * account again (auth/sign-in-throttle.ts). Checked before any password work, so an attack costs us nothing.
 */
export async function assertSignInAllowed(deps: IdentityDeps, principal: Principal, email: string): Promise<void> {
  try {
    await deps.signInThrottle.check(email, ipKey(principal));
  } catch (error) {
    deps.log.warn('sign-in rate limited', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), ip: principal.ip, details: (error as AppError).details });
    throw error;
  }
}

export async function recordSignInFailure(deps: IdentityDeps, principal: Principal, email: string): Promise<void> {
  await deps.signInThrottle.failed(email, ipKey(principal));
  deps.counters.signInFailures.inc();
}

/** The client proved the password: its failures are forgotten and it is known to the account from now on. */
export const recordSignInSuccess = (deps: IdentityDeps, principal: Principal, email: string): Promise<void> => deps.signInThrottle.succeeded(email, ipKey(principal));

/** Verifies the password of an account found by email (or of nobody, at the same cost). */
export async function verifyCredentials(deps: IdentityDeps, user: UserCredentialsRow | undefined, password: string): Promise<{ ok: boolean; needsRehash: boolean }> {
  if (!user) {
    await deps.hasher.verifyNobody(password);
    return { ok: false, needsRehash: false };
  }
  return deps.hasher.verify(user.passwordHash, password);
}

export interface LoginInput {
  email: string;
  password: string;
  organizationId?: string | null | undefined;
}

/** Email + password sign-in, into the given organization or the one used last. */
export async function login(deps: IdentityDeps, principal: Principal, input: LoginInput): Promise<AuthPayload> {
  const email = normalizeEmail(input.email);
  const requestedOrg = input.organizationId === null || input.organizationId === undefined ? undefined : requireId('organizationId', input.organizationId);
  await assertSignInAllowed(deps, principal, email);

  const user = await findUserCredentialsByEmail(deps.pool, email);
  const { ok, needsRehash } = await verifyCredentials(deps, user, input.password);
  if (!user || !ok) {
    await recordSignInFailure(deps, principal, email);
    // The account's organizations see failed sign-ins to it in their audit log (an unknown email goes
    // to the platform chain). The lookup runs for unknown emails too, so both take the same time.
    const orgIds = (await inSystem(deps, (tx) => listMembershipsOfUser(tx, user?.id ?? NOBODY))).map((m) => m.orgId);
    deps.log.info('sign-in failed', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), ip: principal.ip, knownAccount: user !== undefined });
    throw withAuditFailureScope(invalidCredentials(), { orgIds: user ? orgIds : [], targetId: user?.id, diff: { email } });
  }
  // Parameters were raised since this hash was made: redo it now that we have the password.
  const newHash = needsRehash ? await deps.hasher.hash(input.password) : undefined;
  // With two-factor on, the password alone opens no session: the client trades a short-lived challenge and a code for one.
  if (await isTwoFactorEnabled(deps.pool, user.id)) throw await twoFactorChallenge(deps, principal, user, requestedOrg, newHash);
  return openSession(deps, principal, user, requestedOrg, newHash === undefined ? {} : { newHash });
}

/**
 * Opens a session for a user who has proven who they are (password, and second factor when on), in
 * `requestedOrg` or the organization used last.
 */
export async function openSession(
  deps: IdentityDeps,
  principal: Principal,
  user: UserCredentialsRow,
  requestedOrg: string | undefined,
  options: { newHash?: string | undefined; secondFactor?: 'totp' | 'recovery' } = {},
): Promise<AuthPayload> {
  const { newHash, secondFactor } = options;
  const payload = await inSystem(deps, async (tx) => {
    const memberships = await listMembershipsOfUser(tx, user.id);
    const preferred = requestedOrg
      ? memberships.find((m) => m.orgId === requestedOrg)
      : (memberships.find((m) => m.orgId === user.lastOrgId) ?? memberships[0]);
    if (!preferred) {
      throw requestedOrg
        ? new AppError('FORBIDDEN', `you are not a member of organization ${requestedOrg}`, { reason: 'NOT_A_MEMBER', field: 'organizationId' })
        : new AppError('FORBIDDEN', 'you are not a member of any organization', { reason: 'NO_MEMBERSHIP' });
    }
    // With no organization asked for, a member of several lands in the last one used or else the first
    // that takes a password (one that requires single sign-on, used last through it, is not a dead end).
    let chosen = preferred;
    if (!requestedOrg) {
      for (const m of [preferred, ...memberships.filter((x) => x !== preferred)]) {
        if ((await ssoRequiredFor(tx, m.orgId, m.role, user.email)) === undefined) {
          chosen = m;
          break;
        }
      }
    }
    await assertPasswordSignInAllowed(tx, chosen.orgId, chosen.role, user.email);
    if (newHash !== undefined) await updatePasswordHash(tx, user.id, newHash);
    const result = await startSession(deps, tx, principal, { user, organization: chosen.organization, role: chosen.role, tokenVersion: user.tokenVersion });
    await recordAudit(tx, SERVICE, actingUser(principal, user, chosen.orgId), {
      action: 'auth.login',
      targetType: 'User',
      targetId: user.id,
      orgId: chosen.orgId,
      diff: { sessionId: result.sessionId, role: chosen.role, ...(secondFactor === undefined ? {} : { secondFactor }) },
    });
    return result;
  });
  await recordSignInSuccess(deps, principal, user.email);
  deps.counters.signIns.inc();
  deps.log.info('signed in', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: user.id, orgId: payload.organization.id, sessionId: payload.sessionId });
  return payload;
}

/**
 * Sets a new password hash in `tx`, ends every session of the user and raises their token version
 * (a stolen session must not survive a password change); the caller publishes the version to the
 * revocations once the transaction commits.
 */
export async function replacePassword(tx: PoolClient, userId: string, passwordHash: string): Promise<{ sessionsEnded: number; tokenVersion: number }> {
  await updatePasswordHash(tx, userId, passwordHash);
  const ended = await endAllSessions(tx, userId, 'PASSWORD_CHANGED');
  return { sessionsEnded: ended.length, tokenVersion: await bumpTokenVersion(tx, userId) };
}

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

/**
 * Changes the signed-in user's password. Every session ends and every access token goes stale (a
 * stolen session must not survive a password change); the answer is a fresh session.
 */
export async function changePassword(deps: IdentityDeps, principal: Principal, input: ChangePasswordInput): Promise<AuthPayload> {
  const { userId, orgId } = signedInUser(principal);
  const user = await findUserCredentialsById(deps.pool, userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 'your account no longer exists', { reason: 'USER_NOT_FOUND' });
  await assertSignInAllowed(deps, principal, user.email);
  const { ok } = await deps.hasher.verify(user.passwordHash, input.currentPassword);
  if (!ok) {
    await recordSignInFailure(deps, principal, user.email);
    throw new AppError('BAD_USER_INPUT', 'current password is incorrect', { field: 'currentPassword', reason: 'INVALID_CREDENTIALS' });
  }
  checkPasswordStrength(input.newPassword, { minLength: deps.config.PASSWORD_MIN_LENGTH }, user, 'newPassword');
  if (input.newPassword === input.currentPassword) {
    throw new AppError('BAD_USER_INPUT', 'new password must differ from the current one', { field: 'newPassword', reason: 'PASSWORD_UNCHANGED' });
  }
  const hash = await deps.hasher.hash(input.newPassword);
  const { payload, tokenVersion } = await inSystem(deps, async (tx: PoolClient) => {
    const memberships = await listMembershipsOfUser(tx, userId);
    const current = memberships.find((m) => m.orgId === orgId);
    if (!current) throw new AppError('FORBIDDEN', 'you are no longer a member of this organization', { reason: 'NOT_A_MEMBER' });
    // Which session asks cannot be told: if a single sign-on session of this organization may be the one, the new
    // session stays confined to it as that one was (a password alone does not lift it: docs/decisions.md).
    const confined = (await findLiveSsoSessionOrgs(tx, userId)).includes(current.orgId);
    const replaced = await replacePassword(tx, userId, hash);
    const result = await startSession(deps, tx, principal, { user, organization: current.organization, role: current.role, tokenVersion: replaced.tokenVersion, ...(confined ? { ssoOrgId: current.orgId } : {}) });
    await recordAudit(tx, SERVICE, principal, { action: 'user.change_password', targetType: 'User', targetId: userId, diff: { sessionsEnded: replaced.sessionsEnded } });
    return { payload: result, tokenVersion: replaced.tokenVersion };
  });
  await deps.revocations.setTokenVersion(userId, tokenVersion);
  await recordSignInSuccess(deps, principal, user.email);
  return payload;
}
