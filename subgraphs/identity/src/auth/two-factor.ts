import { AppError, badInput, conflict, newId, notFound, recordAudit, traceIdOf, type Principal } from '@orchestra/lib';
import { inSystem, inTenant, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { assertMayTouchOwnerRole, callerRole } from '../members/members';
import { findMembershipById } from '../store/memberships';
import { revokeUserSessions } from '../store/sessions';
import {
  bumpTokenVersionsOfUnenrolledMembers,
  deleteTwoFactor,
  enableTwoFactor,
  findTwoFactor,
  isTwoFactorEnabled,
  isTwoFactorRequiredOfUser,
  replaceRecoveryCodes,
  resetMemberTwoFactor,
  setRequireTwoFactor,
  upsertPendingTwoFactor,
} from '../store/two-factor';
import { bumpMemberTokenVersion, bumpTokenVersion, findUserCredentialsById } from '../store/users';
import { requireId } from '../validation';
import { assertSignInAllowed, recordSignInFailure } from './sign-in';
import { openTotpSecret, sealTotpSecret } from './two-factor-secrets';
import { checkTotp, newRecoveryCodes, newTotpSecret, otpauthUrl, parseSecondFactor } from './totp';

/**
 * TOTP two-factor (issue 13): enrolment (a secret and its otpauth:// URL, confirmed with a code), ten
 * single-use recovery codes, turning it off with the password, an organization's "require two-factor"
 * setting, and an admin's reset of a member's second factor. Sign-in: two-factor-sign-in.ts.
 */

const ISSUER = 'Orchestra';

export interface TwoFactorEnrollment {
  secret: string;
  otpauthUrl: string;
}

/** Starts enrolment (or restarts one not confirmed yet): the secret to scan. Nothing changes at sign-in until it is confirmed. */
export async function startTwoFactorEnrollment(deps: IdentityDeps, principal: Principal): Promise<TwoFactorEnrollment> {
  const { userId } = signedInUser(principal);
  const user = await findUserCredentialsById(deps.pool, userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 'your account no longer exists', { reason: 'USER_NOT_FOUND' });
  const secret = newTotpSecret();
  await inSystem(deps, async (tx) => {
    if (!(await upsertPendingTwoFactor(tx, userId, sealTotpSecret(deps.totpKeys, userId, secret)))) throw conflict('two-factor sign-in is already on: turn it off first to enrol another authenticator', 'TWO_FACTOR_ALREADY_ENABLED');
    await recordAudit(tx, SERVICE, principal, { action: 'user.two_factor_enrollment_started', targetType: 'User', targetId: userId, diff: null });
  });
  return { secret, otpauthUrl: otpauthUrl(ISSUER, user.email, secret) };
}

/** Confirms enrolment with a code from the app: two-factor is on from now, and the ten recovery codes are shown (only now). */
export async function confirmTwoFactorEnrollment(deps: IdentityDeps, principal: Principal, rawCode: string): Promise<{ recoveryCodes: string[] }> {
  const { userId } = signedInUser(principal);
  const factor = parseSecondFactor(rawCode, 'code', false);
  if (factor.kind !== 'totp') throw badInput('code', 'enter the code from your authenticator app', 'INVALID_CODE');
  const codes = newRecoveryCodes();
  const tokenVersion = await inSystem(deps, async (tx) => {
    const row = await findTwoFactor(tx, userId, true);
    if (!row) throw conflict('start enrolment first (startTwoFactorEnrollment)', 'TWO_FACTOR_NOT_STARTED');
    if (row.enabledAt !== null) throw conflict('two-factor sign-in is already on', 'TWO_FACTOR_ALREADY_ENABLED');
    const step = await checkTotp(openTotpSecret(deps.totpKeys, userId, row.secret), factor.code, null);
    if (step === undefined) throw badInput('code', 'this code is not the one your authenticator app shows now: check its clock and try the next one', 'INVALID_CODE');
    await enableTwoFactor(tx, userId, step);
    await replaceRecoveryCodes(tx, userId, codes.map((c) => ({ id: newId(), hash: c.hash })));
    await recordAudit(tx, SERVICE, principal, { action: 'user.two_factor_enabled', targetType: 'User', targetId: userId, diff: { recoveryCodes: codes.length } });
    // Tokens issued while an organization required enrolment reach only enrolment: a raised version makes clients refresh into unrestricted ones.
    return (await isTwoFactorRequiredOfUser(tx, userId)) ? bumpTokenVersion(tx, userId) : undefined;
  });
  if (tokenVersion !== undefined) await deps.revocations.setTokenVersion(userId, tokenVersion);
  deps.log.info('two-factor enabled', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId });
  return { recoveryCodes: codes.map((c) => c.code) };
}

/** Turns two-factor off for the signed-in user, with their password. */
export async function disableTwoFactor(deps: IdentityDeps, principal: Principal, currentPassword: string): Promise<boolean> {
  const { userId } = signedInUser(principal);
  const user = await findUserCredentialsById(deps.pool, userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 'your account no longer exists', { reason: 'USER_NOT_FOUND' });
  await assertSignInAllowed(deps, principal, user.email);
  const { ok } = await deps.hasher.verify(user.passwordHash, currentPassword);
  if (!ok) {
    await recordSignInFailure(deps, principal, user.email);
    throw badInput('currentPassword', 'current password is incorrect', 'INVALID_CREDENTIALS');
  }
  const tokenVersion = await inSystem(deps, async (tx) => {
    if (!(await deleteTwoFactor(tx, userId))) throw conflict('two-factor sign-in is not on', 'TWO_FACTOR_NOT_ENABLED');
    await recordAudit(tx, SERVICE, principal, { action: 'user.two_factor_disabled', targetType: 'User', targetId: userId, diff: null });
    // In an organization that requires a second factor, the user's tokens are re-issued restricted to enrolment.
    return (await isTwoFactorRequiredOfUser(tx, userId)) ? bumpTokenVersion(tx, userId) : undefined;
  });
  if (tokenVersion !== undefined) await deps.revocations.setTokenVersion(userId, tokenVersion);
  return true;
}

/**
 * An admin takes away a member's second factor (a lost phone and lost recovery codes): the member's
 * sessions end, and they sign in with the password alone, then enrol again (their organization may
 * require it). Only owners reset owners.
 */
export async function resetMemberTwoFactorByAdmin(deps: IdentityDeps, principal: Principal, membershipId: string): Promise<{ membershipId: string; userId: string; orgId: string }> {
  const { userId: callerId, orgId } = signedInUser(principal);
  const id = requireId('membershipId', membershipId);
  const result = await inTenant(deps, principal, async (tx) => {
    const role = await callerRole(tx, orgId, callerId);
    const target = await findMembershipById(tx, orgId, id);
    if (!target) throw notFound('membership', id);
    if (target.role === 'owner') assertMayTouchOwnerRole(role, "reset an owner's two-factor sign-in");
    if (!(await resetMemberTwoFactor(tx, target.userId))) throw conflict('this member does not use two-factor sign-in', 'TWO_FACTOR_NOT_ENABLED');
    const tokenVersion = await bumpMemberTokenVersion(tx, target.userId);
    await recordAudit(tx, SERVICE, principal, { action: 'member.two_factor_reset', targetType: 'Membership', targetId: id, diff: { userId: target.userId } });
    return { userId: target.userId, tokenVersion };
  });
  // Their sessions end in a system transaction (sessions belong to the user, not the organization).
  await inSystem(deps, (tx) => revokeUserSessions(tx, result.userId, 'TWO_FACTOR_RESET'));
  if (result.tokenVersion !== undefined) await deps.revocations.setTokenVersion(result.userId, result.tokenVersion);
  deps.log.info('member two-factor reset', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), membershipId: id, userId: result.userId });
  return { membershipId: id, userId: result.userId, orgId };
}

/** Sets whether the current organization requires its members to sign in with a second factor. */
export async function setTwoFactorRequired(deps: IdentityDeps, principal: Principal, required: unknown): Promise<void> {
  const { userId, orgId } = signedInUser(principal);
  if (typeof required !== 'boolean') throw badInput('required', 'required must be true or false', 'INVALID_VALUE');
  // An admin without a second factor would restrict their own access the moment it is saved.
  if (required && !(await isTwoFactorEnabled(deps.pool, userId))) {
    throw conflict('turn on two-factor sign-in for your own account before requiring it of the organization', 'TWO_FACTOR_NOT_ENABLED');
  }
  const before = await inTenant(deps, principal, async (tx) => {
    const previous = await setRequireTwoFactor(tx, orgId, required);
    if (previous === undefined) throw notFound('organization', orgId);
    await recordAudit(tx, SERVICE, principal, { action: 'organization.require_two_factor', targetType: 'Organization', targetId: orgId, diff: { before: { requireTwoFactor: previous }, after: { requireTwoFactor: required } } });
    return previous;
  });
  if (before === required) return;
  // Members without a second factor: their tokens are re-issued at once, restricted to enrolment (or no longer).
  const bumped = await inSystem(deps, (tx) => bumpTokenVersionsOfUnenrolledMembers(tx, orgId));
  for (const { userId: member, tokenVersion } of bumped) await deps.revocations.setTokenVersion(member, tokenVersion);
  deps.log.info('organization two-factor requirement changed', { requestId: principal.requestId, orgId, required, membersReissued: bumped.length });
}
