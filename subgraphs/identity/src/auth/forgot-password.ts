import { AppError, newId, recordAudit, renderMail, traceIdOf, type Principal } from '@orchestra/lib';
import { actingUser, inSystem, SERVICE, type IdentityDeps } from '../deps';
import { listMembershipsOfUser } from '../store/memberships';
import { findPasswordReset, insertPasswordReset, markPasswordResetsUsed } from '../store/password-resets';
import { findUserCredentialsByEmail, findUserCredentialsById, markEmailVerified, type UserCredentialsRow } from '../store/users';
import { normalizeEmail } from './email';
import { formatRowToken, hashSecret, newSecret, parseRowToken, secretMatches } from './opaque-tokens';
import { checkPasswordStrength } from './passwords';
import { replacePassword } from './sign-in';

/**
 * Password reset by e-mail (issue 13): a single-use token, valid PASSWORD_RESET_TTL_SECONDS, stored as
 * a SHA-256 of its secret. Asking answers the same whether or not the address has an account (and
 * sends the mail after the answer, so timing does not tell either); using it sets the password, ends
 * every session and makes every access token stale, and is recorded in the audit trail.
 */

const RESET_TOKEN_PREFIX = 'opr';

/** The organization a user's account-level audit events go to: the one used last, else any. */
export async function auditOrgOf(deps: IdentityDeps, user: UserCredentialsRow): Promise<string | undefined> {
  if (user.lastOrgId !== null) return user.lastOrgId;
  const memberships = await inSystem(deps, (tx) => listMembershipsOfUser(tx, user.id));
  return memberships[0]?.orgId;
}

export const actorOf = (principal: Principal, user: UserCredentialsRow, orgId: string | undefined): Principal => (orgId === undefined ? principal : actingUser(principal, user, orgId));

/** Always resolves to true; a mail goes out only when the address has an account (and not too often). */
export async function requestPasswordReset(deps: IdentityDeps, principal: Principal, rawEmail: string): Promise<boolean> {
  const email = normalizeEmail(rawEmail);
  const ip = principal.ip ?? 'unknown';
  const perIp = await deps.passwordResetRequests.ip.hit(ip);
  if (!perIp.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil(perIp.retryAfterMs / 1000));
    throw new AppError('RATE_LIMITED', `too many password reset requests from this address: try again in ${retryAfterSeconds} s`, {
      reason: 'TOO_MANY_RESET_REQUESTS',
      details: { retryAfterSeconds },
    });
  }
  // Per address the limit is silent: the answer must not differ between addresses.
  const perAccount = await deps.passwordResetRequests.account.hit(email);
  const user = await findUserCredentialsByEmail(deps.pool, email);
  const logContext = { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), ip: principal.ip };
  if (!user || !perAccount.allowed) {
    deps.log.info('password reset asked', { ...logContext, sent: false, knownAccount: user !== undefined });
    return true;
  }
  const id = newId();
  const secret = newSecret();
  const orgId = await auditOrgOf(deps, user);
  await inSystem(deps, async (tx) => {
    await insertPasswordReset(tx, { id, userId: user.id, tokenHash: hashSecret(secret), expiresAt: new Date(Date.now() + deps.config.PASSWORD_RESET_TTL_SECONDS * 1000), ip: principal.ip });
    await recordAudit(tx, SERVICE, actorOf(principal, user, orgId), { action: 'auth.password_reset_requested', targetType: 'User', targetId: user.id, orgId, diff: null });
  });
  const link = `${deps.config.APP_URL}/reset-password?token=${encodeURIComponent(formatRowToken(RESET_TOKEN_PREFIX, id, secret))}`;
  const minutes = Math.round(deps.config.PASSWORD_RESET_TTL_SECONDS / 60);
  const mail = renderMail({
    subject: 'Reset your Orchestra password',
    heading: `Hello ${user.name},`,
    paragraphs: [`Someone (hopefully you) asked to reset the password of your Orchestra account ${user.email}.`, `The link works once, for ${minutes} minutes.`],
    action: { label: 'Choose a new password', url: link },
    footer: 'If you did not ask for this, ignore this mail: your password stays as it is.',
  });
  // After the answer: the caller must not learn from the time it takes whether a mail went out.
  deps.mailer.send({ ...mail, to: user.email, kind: 'password_reset', link, logContext: { ...logContext, userId: user.id } }).catch((error: unknown) => {
    deps.log.error('password reset mail failed', { ...logContext, userId: user.id, err: error });
  });
  deps.log.info('password reset asked', { ...logContext, sent: true, userId: user.id });
  return true;
}

const badToken = (message: string, reason: string): AppError => new AppError('BAD_USER_INPUT', message, { field: 'token', reason });

export interface ResetPasswordInput {
  token: string;
  newPassword: string;
}

/** Sets a new password with a reset token: every session ends, every access token goes stale. */
export async function resetPassword(deps: IdentityDeps, principal: Principal, input: ResetPasswordInput): Promise<boolean> {
  const parsed = parseRowToken(RESET_TOKEN_PREFIX, input.token);
  const invalid = () => badToken('this password reset link is not valid: ask for a new one', 'RESET_TOKEN_INVALID');
  if (!parsed) throw invalid();
  const check = (row: Awaited<ReturnType<typeof findPasswordReset>>) => {
    if (!row || !secretMatches(parsed.secret, row.tokenHash)) throw invalid();
    if (row.usedAt !== null) throw badToken('this password reset link was already used or replaced by a newer one: ask for a new one', 'RESET_TOKEN_USED');
    if (row.expiresAt.getTime() <= Date.now()) throw badToken('this password reset link has expired: ask for a new one', 'RESET_TOKEN_EXPIRED');
    return row;
  };
  const preview = check(await findPasswordReset(deps.pool, parsed.rowId));
  const user = await findUserCredentialsById(deps.pool, preview.userId);
  if (!user) throw invalid();
  checkPasswordStrength(input.newPassword, { minLength: deps.config.PASSWORD_MIN_LENGTH }, user, 'newPassword');
  const hash = await deps.hasher.hash(input.newPassword);
  const orgId = await auditOrgOf(deps, user);
  const { tokenVersion, sessionsEnded } = await inSystem(deps, async (tx) => {
    // Again under the row lock: two uses of one link race here and only one wins.
    check(await findPasswordReset(tx, parsed.rowId, true));
    await markPasswordResetsUsed(tx, user.id);
    const replaced = await replacePassword(tx, user.id, hash);
    // The link reached the address: that proves it as well as a verification link would (and lets the
    // real owner of an address someone else signed up with take the account over).
    await markEmailVerified(tx, user.id, user.email);
    await recordAudit(tx, SERVICE, actorOf(principal, user, orgId), {
      action: 'auth.password_reset',
      targetType: 'User',
      targetId: user.id,
      orgId,
      diff: { sessionsEnded: replaced.sessionsEnded, emailVerified: true },
    });
    return replaced;
  });
  await deps.revocations.setTokenVersion(user.id, tokenVersion);
  await deps.signInThrottle.succeeded(user.email, principal.ip ?? 'unknown');
  deps.log.info('password reset', { requestId: principal.requestId, traceId: traceIdOf(principal.traceparent), userId: user.id, sessionsEnded });
  return true;
}
