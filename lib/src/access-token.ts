import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ROLES } from './principal';

/**
 * The contract between identity (which issues access tokens) and the gateway (which verifies them
 * against identity's JWKS at /.well-known/jwks.json and checks revocation in Redis).
 */
export const ACCESS_TOKEN_ISSUER = 'orchestra-identity';
export const ACCESS_TOKEN_AUDIENCE = 'orchestra';
export const JWKS_PATH = '/.well-known/jwks.json';

export const accessTokenClaimsSchema = z.object({
  /** user id */
  sub: z.string(),
  /** the org this token acts in */
  org: z.string(),
  role: z.enum(ROLES),
  email: z.string(),
  /** session (refresh-token family) id: logout revokes it */
  sid: z.string(),
  /** the user's token version: "log out everywhere" and role changes bump it */
  tv: z.number().int(),
  iat: z.number(),
  exp: z.number(),
});
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;

export type RevocationReason = 'SESSION_REVOKED' | 'TOKEN_VERSION_STALE';

/** Revocations of access tokens before they expire, shared through Redis. */
export interface TokenRevocations {
  /** Access tokens of this session stop working (logout). Kept for the access-token lifetime. */
  revokeSession(sessionId: string, ttlSeconds: number): Promise<void>;
  /** Access tokens with a lower version stop working (logout everywhere, role change, removal). */
  setTokenVersion(userId: string, version: number): Promise<void>;
  /** Why the token is revoked, or undefined when it is not. One round trip. */
  check(claims: Pick<AccessTokenClaims, 'sub' | 'sid' | 'tv'>): Promise<RevocationReason | undefined>;
}

export function createTokenRevocations(redis: Redis, prefix: string): TokenRevocations {
  const sessionKey = (sid: string) => `${prefix}:auth:revoked-session:${sid}`;
  const versionKey = (userId: string) => `${prefix}:auth:token-version:${userId}`;
  return {
    async revokeSession(sessionId, ttlSeconds) {
      await redis.set(sessionKey(sessionId), '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    },
    async setTokenVersion(userId, version) {
      // Only ever raise it: a late write of an older version must not un-revoke tokens.
      await redis.eval(
        "local v = tonumber(redis.call('GET', KEYS[1]) or '-1') if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 1",
        1,
        versionKey(userId),
        version,
        7 * 24 * 3600,
      );
    },
    async check({ sub, sid, tv }) {
      const [revoked, version] = await redis.mget(sessionKey(sid), versionKey(sub));
      if (revoked !== null) return 'SESSION_REVOKED';
      if (version !== null && tv < Number(version)) return 'TOKEN_VERSION_STALE';
      return undefined;
    },
  };
}

/** Redis pub/sub channel on which identity announces revoked API keys (payload: key id). */
export const apiKeyRevokedChannel = (prefix: string): string => `${prefix}:auth:api-key-revoked`;

/** API keys look like `orc_<12-char id>_<secret>`; the id part finds the row, the secret is hashed. */
export const API_KEY_PATTERN = /^orc_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{32,}$/;
