import {
  AppError,
  type EncryptionKeyring,
  tenantScopeOf,
  withSystemTransaction,
  withTenantTransaction,
  type Logger,
  type Mailer,
  type Metrics,
  type Pool,
  type PoolClient,
  type Principal,
  type RateLimiter,
  type Redis,
  type TokenRevocations,
} from '@orchestra/lib';
import type { IdentityConfig } from './config';
import type { KeyRing } from './auth/key-ring';
import type { PasswordHasher } from './auth/passwords';
import type { SignInThrottle } from './auth/sign-in-throttle';
import type { IdentityMetrics } from './metrics';
import type { OidcClient } from './sso/oidc-client';

export const SERVICE = 'identity';
export const TENANT_ROLE = 'orchestra_identity_tenant';

/** Everything identity's operations use, built once by createIdentityService. */
export interface IdentityDeps {
  config: IdentityConfig;
  pool: Pool;
  redis: Redis;
  log: Logger;
  metrics: Metrics;
  counters: IdentityMetrics;
  hasher: PasswordHasher;
  keyRing: KeyRing;
  /** Seals TOTP secrets at rest (TWO_FACTOR_KEYS; auth/two-factor-secrets.ts). */
  totpKeys: EncryptionKeyring;
  revocations: TokenRevocations;
  /** Failed sign-ins: per account and client, per client, per account (auth/sign-in-throttle.ts). */
  signInThrottle: SignInThrottle;
  /** Sign-ups and organization creations per client IP. */
  creations: { signUp: RateLimiter; organization: RateLimiter };
  /** Password reset requests per client IP (refused past it) and mails per address (silently not sent). */
  passwordResetRequests: { ip: RateLimiter; account: RateLimiter };
  /** Invitations (each one mailed) per organization (RATE_LIMITED past it). */
  invitationMails: RateLimiter;
  /** Verification mails per account (RATE_LIMITED past it). */
  verificationMails: RateLimiter;
  /** Sends identity's mails (password reset, verification, invitations). */
  mailer: Mailer;
  /** Talks to organizations' OpenID providers (single sign-on). */
  oidc: OidcClient;
  /** Single sign-ons started per client IP (each records a short-lived sign-in row). */
  ssoSignIns: RateLimiter;
}

/** A transaction under row-level security for the principal's organization (and user). */
export const inTenant = <T>(deps: IdentityDeps, principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T> =>
  withTenantTransaction(deps.pool, TENANT_ROLE, tenantScopeOf(principal), fn);

/** A transaction without row-level security: sign-in and token work, before any organization is known. */
export const inSystem = <T>(deps: IdentityDeps, fn: (tx: PoolClient) => Promise<T>): Promise<T> => withSystemTransaction(deps.pool, fn);

/** The signed-in user's id and organization, or FORBIDDEN for any other kind of caller. */
export function signedInUser(principal: Principal): { userId: string; orgId: string } {
  if (principal.kind !== 'user' || principal.userId === undefined || principal.orgId === undefined) {
    throw new AppError('FORBIDDEN', 'this operation is for signed-in users', { reason: 'USER_REQUIRED' });
  }
  return { userId: principal.userId, orgId: principal.orgId };
}

/** The principal audit events name as actor once a user has proven who they are (sign-in, sign-up). */
export const actingUser = (principal: Principal, user: { id: string; email: string }, orgId: string): Principal => ({
  ...principal,
  kind: 'user',
  id: user.id,
  userId: user.id,
  orgId,
  display: user.email,
});

/** Counts one creation (sign-up, organization) for the caller's IP; RATE_LIMITED past the limit. */
export async function countCreation(deps: IdentityDeps, principal: Principal, what: 'signUp' | 'organization'): Promise<void> {
  const result = await deps.creations[what].hit(principal.ip ?? 'unknown');
  if (result.allowed) return;
  const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
  deps.log.warn('creation rate limited', { what, ip: principal.ip, requestId: principal.requestId, retryAfterSeconds });
  const noun = what === 'signUp' ? 'sign-ups' : 'organizations created';
  throw new AppError('RATE_LIMITED', `too many ${noun} from this address: try again in ${retryAfterSeconds} s`, {
    reason: what === 'signUp' ? 'TOO_MANY_SIGN_UPS' : 'TOO_MANY_ORGANIZATIONS',
    details: { retryAfterSeconds },
  });
}
