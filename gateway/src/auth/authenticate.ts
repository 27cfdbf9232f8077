import type { IncomingHttpHeaders } from 'node:http';
import { API_KEY_PATTERN, AppError, type AccessTokenClaims, type Principal } from '@orchestra/lib/gateway';
import type { AccessTokenVerifier } from './access-tokens';
import type { ApiKeyAuthenticator } from './api-keys';

export interface CallerInfo {
  requestId: string;
  ip: string;
  userAgent?: string | undefined;
  traceparent?: string | undefined;
}

export interface Authenticated {
  principal: Principal;
  /** An access token's claims (absent for API keys and anonymous callers). */
  claims?: AccessTokenClaims | undefined;
}

export interface Authenticator {
  /** The principal for a credential (`Bearer <jwt>`, `Bearer orc_...` or `x-api-key`), or anonymous without one. */
  authenticate(credential: string | undefined, caller: CallerInfo): Promise<Principal>;
  /** The same, with the access token's claims (expiry, session, token version) for long-lived connections. */
  authenticateWithClaims(credential: string | undefined, caller: CallerInfo): Promise<Authenticated>;
}

/** The credential in request headers: the Authorization bearer value, else x-api-key. */
export function credentialFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.trim() !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'Authorization header must be "Bearer <token>"', { reason: 'MALFORMED_AUTHORIZATION' });
    return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

export function createAuthenticator(accessTokens: AccessTokenVerifier, apiKeys: ApiKeyAuthenticator): Authenticator {
  const authenticateWithClaims: Authenticator['authenticateWithClaims'] = async (credential, caller) => {
    const base = { requestId: caller.requestId, ip: caller.ip, userAgent: caller.userAgent, traceparent: caller.traceparent };
    if (credential === undefined) return { principal: { kind: 'anonymous', id: 'anonymous', scopes: [], ...base } };
    if (credential.startsWith('orc_')) {
      if (!API_KEY_PATTERN.test(credential)) throw new AppError('UNAUTHENTICATED', 'API key is malformed', { reason: 'API_KEY_INVALID' });
      return { principal: { ...(await apiKeys.authenticate(credential, caller.ip, caller.requestId)), ...base } };
    }
    const claims = await accessTokens.verify(credential);
    const principal: Principal = { kind: 'user', id: claims.sub, userId: claims.sub, orgId: claims.org, role: claims.role, scopes: [], display: claims.email, tokenExpiresAt: claims.exp, ...base };
    // Identity marked the token: the organization requires a second factor the user has not enrolled (auth/two-factor-enrollment.ts).
    if (claims.tfa === 'required') principal.twoFactorEnrollmentRequired = true;
    return { principal, claims };
  };
  return {
    authenticate: async (credential, caller) => (await authenticateWithClaims(credential, caller)).principal,
    authenticateWithClaims,
  };
}
