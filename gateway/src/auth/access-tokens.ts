import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  accessTokenClaimsSchema,
  AppError,
  JWKS_PATH,
  type AccessTokenClaims,
} from '@orchestra/lib/gateway';
import type { RevocationChecker } from './revocation-cache';

export interface AccessTokenVerifier {
  /** The claims of a valid, unrevoked access token; otherwise UNAUTHENTICATED with a reason. */
  verify(token: string): Promise<AccessTokenClaims>;
}

/**
 * Verifies identity's JWTs locally against its JWKS (fetched once, refetched when an unknown `kid`
 * appears, which is how key rotation reaches the gateway), then checks revocations in Redis.
 */
export function createAccessTokenVerifier(identityHttpUrl: string, revocations: RevocationChecker, { maxCached = 10_000 }: { maxCached?: number } = {}): AccessTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(JWKS_PATH, identityHttpUrl), { cooldownDuration: 5_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 3_000 });
  // A token's signature is checked once: its verified claims are kept, by the token itself (the exact
  // string, so a token altered in any byte is a miss and is verified), until it expires; at most
  // `maxCached` tokens (~1 KiB each with claims), oldest out. Revocation is still checked on every
  // request (revocation-cache.ts).
  const verified = new Map<string, AccessTokenClaims>();
  return {
    async verify(token) {
      const key = token;
      const known = verified.get(key);
      if (known && known.exp * 1000 > Date.now()) {
        const revoked = await revocations.check(known);
        if (revoked !== undefined) {
          throw new AppError('UNAUTHENTICATED', 'access token has been revoked: refresh it or sign in again', { reason: 'TOKEN_REVOKED', details: { why: revoked } });
        }
        return known;
      }
      if (known) verified.delete(key);
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, jwks, { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE, clockTolerance: 5 }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) {
          throw new AppError('UNAUTHENTICATED', 'access token has expired: refresh it', { reason: 'TOKEN_EXPIRED', cause: error });
        }
        if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
          throw new AppError('UNAVAILABLE', 'cannot check the access token: identity keys are unreachable', { reason: 'JWKS_UNAVAILABLE', cause: error });
        }
        throw new AppError('UNAUTHENTICATED', 'access token is not valid', { reason: 'TOKEN_INVALID', cause: error });
      }
      const parsed = accessTokenClaimsSchema.safeParse(payload);
      if (!parsed.success) throw new AppError('UNAUTHENTICATED', 'access token is not valid', { reason: 'TOKEN_INVALID' });
      const revoked = await revocations.check(parsed.data);
      if (revoked !== undefined) {
        throw new AppError('UNAUTHENTICATED', 'access token has been revoked: refresh it or sign in again', { reason: 'TOKEN_REVOKED', details: { why: revoked } });
      }
      if (verified.size >= maxCached) verified.delete(verified.keys().next().value as string);
      verified.set(key, parsed.data);
      return parsed.data;
    },
  };
}
