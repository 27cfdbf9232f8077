import { AppError, badInput, conflict, newId, recordAudit, renderMail, traceIdOf, type PoolClient, type Principal } from '@orchestra/lib';
import { inSystem, signedInUser, SERVICE, type IdentityDeps } from '../deps';
import { findEmailVerification, findPendingEmailChange, insertEmailVerification, markEmailVerificationsUsed, type EmailVerificationPurpose } from '../store/email-verifications';
import { listMembershipsOfUser } from '../store/memberships';
import { revokeUserSessions } from '../store/sessions';
import { changeUserEmail, findEmailHolder, findUserCredentialsById, markEmailVerified, releaseUnverifiedEmail } from '../store/users';
import { normalizeEmail } from './email';
import { actorOf, auditOrgOf } from './forgot-password';
import { formatRowToken, hashSecret, newSecret, parseRowToken, secretMatches } from './opaque-tokens';
import { assertSignInAllowed, recordSignInFailure } from './sign-in';

/**
 * E-mail verification (issue 9 item 3, issue 13). A sign-up, and a change of address, mails a
 * single-use link valid EMAIL_VERIFICATION_TTL_SECONDS to the address; only a SHA-256 of its secret is
 * stored. Following it marks the address verified (sign-up) or moves the account to it (change).
 * A password reset link reaching the address verifies it too (forgot-password.ts).
 *
 * Squatting: an unverified account holds its address only until its owner proves it. Whoever can
 * read the mail takes it: by a password reset (the account becomes theirs, the squatter's sessions
 * end), by a sign-up once the squatter has held it UNVERIFIED_ACCOUNT_HOLD_SECONDS, or by verifying
 * an e-mail change to it (the unverified holder is moved to an address nobody receives).
 */

const VERIFY_TOKEN_PREFIX = 'oev';

export interface PreparedVerification {
  to: string;
  name: string;
  purpose: EmailVerificationPurpose;
  link: string;
}

/** Writes a verification link for `email` in `tx` (older open links of the user stop working). Mail it after commit. */
export async function prepareVerification(
  deps: IdentityDeps,
  tx: PoolClient,
  user: { id: string; name: string },
  email: string,
  purpose: EmailVerificationPurpose,
): Promise<PreparedVerification> {
  const id = newId();
  const secret = newSecret();
  await insertEmailVerification(tx, {
    id,
    userId: user.id,
    email,
    purpose,
    tokenHash: hashSecret(secret),
    expiresAt: new Date(Date.now() + deps.config.EMAIL_VERIFICATION_TTL_SECONDS * 1000),
  });
  const link = `${deps.config.APP_URL}/verify-email?token=${encodeURIComponent(formatRowToken(VERIFY_TOKEN_PREFIX, id, secret))}`;
  return { to: email, name: user.name, purpose, link };
}

/** Sends a prepared verification mail without waiting: a failure is logged with the ids, never thrown at the caller. */
export function mailVerification(deps: IdentityDeps, principal: Principal, userId: string, v: PreparedVerification): void {
  const hours = Math.round(deps.config.EMAIL_VERIFICATION_TTL_SECONDS / 3600);
  const mail = renderMail({
    subject: v.purpose === 'sign_up' ? 'Verify your e-mail address for Orchestra' : 'Confirm your new e-mail address for Orchestra',
    heading: `Hello ${v.name},`,
    paragraphs:
      v.purpose === 'sign_up'
        ? [`Please confirm that ${v.to} is your address: until you do, you cannot join other organizations with it.`, `The link works once, for ${hours} hours.`]
        : [`Someone (hopefully you) asked to move an Orchestra account to ${v.to}. The account keeps its old address until this link is followed.`, `The link works once, for ${hours} hours.`],
    action: { label: v.purpose === 'sign_up' ? 'Verify my address' : 'Confirm the new address', url: v.link },
    footer: 'If you did not ask for this, ignore this mail.',
  });
  const logContext = { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId };
  deps.mailer.send({ ...mail, to: v.to, kind: `email_verification_${v.purpose}`, link: v.link, logContext }).catch((error: unknown) => {
    deps.log.error('verification mail failed', { ...logContext, err: error });
  });
}

/** Counts one verification mail for the account; RATE_LIMITED (with retryAfterSeconds) past the limit. */
async function countVerificationMail(deps: IdentityDeps, userId: string): Promise<void> {
  const result = await deps.verificationMails.hit(userId);
  if (result.allowed) return;
  const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  throw new AppError('RATE_LIMITED', `too many verification mails for this account: try again in ${retryAfterSeconds} s`, {
    reason: 'TOO_MANY_VERIFICATION_MAILS',
    details: { retryAfterSeconds },
  });
}

/**
 * Takes an address from the unverified account holding it (in `tx`): the account moves to an address
 * nobody receives, its sessions end; the caller publishes the token version after commit.
 */
export async function releaseFromUnverifiedHolder(tx: PoolClient, principal: Principal, holderId: string, email: string, why: string): Promise<{ userId: string; tokenVersion: number } | undefined> {
  const tokenVersion = await releaseUnverifiedEmail(tx, holderId);
  if (tokenVersion === undefined) return undefined;
  const sessions = await revokeUserSessions(tx, holderId, 'EMAIL_RELEASED');
  // Recorded in each organization of the account that lost its address (the platform chain when none).
  const orgIds = (await listMembershipsOfUser(tx, holderId)).map((m) => m.orgId);
  for (const orgId of orgIds.length > 0 ? orgIds : [undefined]) {
    await recordAudit(tx, SERVICE, { ...principal, orgId }, { action: 'user.email_released', targetType: 'User', targetId: holderId, orgId, diff: { email, why, sessionsEnded: sessions.length } });
  }
  return { userId: holderId, tokenVersion };
}

/** Sends the signed-in user a new verification mail: for their open e-mail change if any, else for their address. */
export async function resendVerificationEmail(deps: IdentityDeps, principal: Principal): Promise<boolean> {
  const { userId } = signedInUser(principal);
  const user = await findUserCredentialsById(deps.pool, userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 'your account no longer exists', { reason: 'USER_NOT_FOUND' });
  const pending = await findPendingEmailChange(deps.pool, userId);
  if (pending === undefined && user.emailVerified) throw conflict(`${user.email} is already verified`, 'EMAIL_ALREADY_VERIFIED');
  await countVerificationMail(deps, userId);
  const prepared = await inSystem(deps, async (tx) => {
    const v = await prepareVerification(deps, tx, user, pending ?? user.email, pending === undefined ? 'sign_up' : 'change');
    await recordAudit(tx, SERVICE, principal, { action: 'user.email_verification_sent', targetType: 'User', targetId: userId, diff: { email: v.to, purpose: v.purpose, resend: true } });
    return v;
  });
  mailVerification(deps, principal, userId, prepared);
  return true;
}

export interface ChangeEmailInput {
  newEmail: string;
  currentPassword: string;
}

/**
 * Starts moving the signed-in user to a new address: the account keeps its address until the link
 * mailed to the new one is followed (verifyEmail). The old address is told.
 */
export async function changeEmail(deps: IdentityDeps, principal: Principal, input: ChangeEmailInput): Promise<boolean> {
  const { userId } = signedInUser(principal);
  const newEmail = normalizeEmail(input.newEmail, 'newEmail');
  const user = await findUserCredentialsById(deps.pool, userId);
  if (!user) throw new AppError('UNAUTHENTICATED', 'your account no longer exists', { reason: 'USER_NOT_FOUND' });
  if (newEmail === user.email) throw badInput('newEmail', 'this is already your address', 'EMAIL_UNCHANGED');
  await assertSignInAllowed(deps, principal, user.email);
  const { ok } = await deps.hasher.verify(user.passwordHash, input.currentPassword);
  if (!ok) {
    await recordSignInFailure(deps, principal, user.email);
    throw badInput('currentPassword', 'current password is incorrect', 'INVALID_CREDENTIALS');
  }
  const holder = await findEmailHolder(deps.pool, newEmail);
  // Like sign-up, a verified address in use is refused; an unverified one is taken at verification.
  if (holder?.emailVerified === true) throw new AppError('CONFLICT', 'an account with this email already exists', { reason: 'EMAIL_TAKEN', field: 'newEmail' });
  await countVerificationMail(deps, userId);
  const prepared = await inSystem(deps, async (tx) => {
    const v = await prepareVerification(deps, tx, user, newEmail, 'change');
    await recordAudit(tx, SERVICE, principal, { action: 'user.email_change_requested', targetType: 'User', targetId: userId, diff: { from: user.email, to: newEmail } });
    return v;
  });
  mailVerification(deps, principal, userId, prepared);
  const notice = renderMail({
    subject: 'Your Orchestra address is about to change',
    heading: `Hello ${user.name},`,
    paragraphs: [`Someone signed in to your Orchestra account asked to move it from ${user.email} to ${newEmail}. It moves when the link mailed to the new address is followed.`],
    footer: 'If this was not you, reset your password now: that ends every session of the account.',
  });
  deps.mailer.send({ ...notice, to: user.email, kind: 'email_change_notice', logContext: { requestId: principal.requestId, userId } }).catch((error: unknown) => {
    deps.log.error('e-mail change notice failed', { requestId: principal.requestId, userId, err: error });
  });
  return true;
}

const badToken = (message: string, reason: string): AppError => badInput('token', message, reason);

/** Follows a verification link: marks the address verified, or moves the account to its new address. */
export async function verifyEmail(deps: IdentityDeps, principal: Principal, token: string): Promise<boolean> {
  const parsed = parseRowToken(VERIFY_TOKEN_PREFIX, token);
  const invalid = () => badToken('this verification link is not valid: ask for a new one', 'VERIFICATION_TOKEN_INVALID');
  if (!parsed) throw invalid();
  const check = (row: Awaited<ReturnType<typeof findEmailVerification>>) => {
    if (!row || !secretMatches(parsed.secret, row.tokenHash)) throw invalid();
    if (row.usedAt !== null) throw badToken('this verification link was already used or replaced by a newer one', 'VERIFICATION_TOKEN_USED');
    if (row.expiresAt.getTime() <= Date.now()) throw badToken('this verification link has expired: ask for a new one', 'VERIFICATION_TOKEN_EXPIRED');
    return row;
  };
  const preview = check(await findEmailVerification(deps.pool, parsed.rowId));
  const user = await findUserCredentialsById(deps.pool, preview.userId);
  if (!user) throw invalid();
  const orgId = await auditOrgOf(deps, user);
  const released = await inSystem(deps, async (tx) => {
    // Again under the row lock: two uses of one link race here and only one wins.
    const row = check(await findEmailVerification(tx, parsed.rowId, true));
    let freed: { userId: string; tokenVersion: number } | undefined;
    if (row.purpose === 'sign_up') {
      // The address may have changed since the mail went out.
      if (!(await markEmailVerified(tx, user.id, row.email))) throw badToken('this link is for an address the account no longer has', 'VERIFICATION_TOKEN_USED');
    } else {
      const holder = await findEmailHolder(tx, row.email, true);
      if (holder && holder.id !== user.id) {
        if (holder.emailVerified) throw new AppError('CONFLICT', `${row.email} was verified by another account meanwhile`, { reason: 'EMAIL_TAKEN', field: 'token' });
        freed = await releaseFromUnverifiedHolder(tx, principal, holder.id, row.email, 'verified by another account');
      }
      await changeUserEmail(tx, user.id, row.email);
    }
    await markEmailVerificationsUsed(tx, user.id);
    await recordAudit(tx, SERVICE, actorOf(principal, user, orgId), {
      action: 'user.email_verified',
      targetType: 'User',
      targetId: user.id,
      orgId,
      diff: row.purpose === 'sign_up' ? { email: row.email, purpose: row.purpose } : { purpose: row.purpose, from: user.email, to: row.email },
    });
    return freed;
  });
  if (released) await deps.revocations.setTokenVersion(released.userId, released.tokenVersion);
  deps.log.info('e-mail verified', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: user.id, purpose: preview.purpose });
  return true;
}
