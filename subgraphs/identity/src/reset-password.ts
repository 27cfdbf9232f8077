import { randomBytes } from 'node:crypto';
import { AppError, newRequestId, recordAudit, servicePrincipal, withSystemTransaction, type Logger, type Pool, type TokenRevocations } from '@orchestra/lib';
import { normalizeEmail } from './auth/email';
import { checkPasswordStrength, type PasswordHasher } from './auth/passwords';
import { replacePassword } from './auth/sign-in';
import { SERVICE } from './deps';
import { listMembershipsOfUser } from './store/memberships';
import { findUserCredentialsByEmail } from './store/users';

export interface PasswordReset {
  userId: string;
  email: string;
  /** Set when the password was generated (to be shown once). */
  generatedPassword: string | undefined;
  sessionsEnded: number;
}

/**
 * An operator's way back into an account (the first admin's password lost, say): sets a new password
 * (given, or generated), ends every session of the user and makes their access tokens stale at
 * once, and records `user.reset_password` in the audit trail of each of their organizations. Needs
 * database access, not a signed-in user; there is no e-mail flow.
 */
export async function resetPassword(deps: {
  pool: Pool;
  hasher: PasswordHasher;
  revocations: TokenRevocations;
  log: Logger;
  minLength: number;
  email: string;
  password?: string | undefined;
}): Promise<PasswordReset> {
  const email = normalizeEmail(deps.email);
  const user = await findUserCredentialsByEmail(deps.pool, email);
  if (!user) throw new AppError('NOT_FOUND', `no account uses ${email}`, { field: 'email', reason: 'USER_NOT_FOUND' });
  const generatedPassword = deps.password === undefined ? randomBytes(18).toString('base64url') : undefined;
  const password = deps.password ?? generatedPassword!;
  checkPasswordStrength(password, { minLength: deps.minLength }, user, 'NEW_PASSWORD');
  const hash = await deps.hasher.hash(password);
  const requestId = newRequestId();
  const { sessionsEnded, tokenVersion } = await withSystemTransaction(deps.pool, async (tx) => {
    const replaced = await replacePassword(tx, user.id, hash);
    for (const membership of await listMembershipsOfUser(tx, user.id)) {
      await recordAudit(tx, SERVICE, servicePrincipal(SERVICE, requestId, membership.orgId), {
        action: 'user.reset_password',
        targetType: 'User',
        targetId: user.id,
        orgId: membership.orgId,
        diff: { email, sessionsEnded: replaced.sessionsEnded, by: 'operator (reset-password command)' },
      });
    }
    return replaced;
  });
  await deps.revocations.setTokenVersion(user.id, tokenVersion);
  deps.log.info('password reset by an operator', { userId: user.id, sessionsEnded, requestId });
  return { userId: user.id, email, generatedPassword, sessionsEnded };
}
