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
  /**
   * 'required': the organization requires a second factor and the user has none. The gateway lets such a
   * token reach only what enrolment needs (gateway/src/auth/two-factor-enrollment.ts). Identity decides it
   * when it issues the token and raises the user's token version when the answer changes.
   */
  tfa: z.literal('required').optional(),
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
  /** The revocation state a token is judged by (for caches: both parts only ever grow). One round trip. */
  read(claims: Pick<AccessTokenClaims, 'sub' | 'sid'>): Promise<RevocationState>;
}

export interface RevocationState {
  sessionRevoked: boolean;
  /** Tokens of the user with a lower `tv` are stale; undefined when none ever were. */
  tokenVersion: number | undefined;
}

/** Why a token is revoked under `state`, or undefined. */
export const revocationOf = (state: RevocationState, tv: number): RevocationReason | undefined => {
  if (state.sessionRevoked) return 'SESSION_REVOKED';
  if (state.tokenVersion !== undefined && tv < state.tokenVersion) return 'TOKEN_VERSION_STALE';
  return undefined;
};

/**
 * Redis pub/sub channel on which every revocation is announced as it is written (an AccessChange as
 * JSON), so holders of long-lived connections (the gateway's subscriptions) act within moments.
 * The Redis keys stay the source of truth; a missed message is caught by reading them again.
 */
export const accessChangedChannel = (prefix: string): string => `${prefix}:auth:access-changed`;

/** What changed: a session ended (logout), or a user's older tokens went stale (logout everywhere, password change, role change, removal). */
export type AccessChange = { kind: 'session'; sessionId: string } | { kind: 'tokenVersion'; userId: string; version: number };

const accessChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), sessionId: z.string() }),
  z.object({ kind: z.literal('tokenVersion'), userId: z.string(), version: z.number().int() }),
]);

/** The AccessChange in a message of accessChangedChannel, or undefined for anything else. */
export const parseAccessChange = (message: string): AccessChange | undefined => {
  try {
    const parsed = accessChangeSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

export function createTokenRevocations(redis: Redis, prefix: string): TokenRevocations {
  const sessionKey = (sid: string) => `${prefix}:auth:revoked-session:${sid}`;
  const versionKey = (userId: string) => `${prefix}:auth:token-version:${userId}`;
  const announce = (change: AccessChange) => redis.publish(accessChangedChannel(prefix), JSON.stringify(change));
  return {
    async revokeSession(sessionId, ttlSeconds) {
      await redis.set(sessionKey(sessionId), '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
      await announce({ kind: 'session', sessionId });
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
      await announce({ kind: 'tokenVersion', userId, version });
    },
    async read({ sub, sid }) {
      const [revoked, version] = await redis.mget(sessionKey(sid), versionKey(sub));
      return { sessionRevoked: revoked !== null, tokenVersion: version === null ? undefined : Number(version) };
    },
    async check(claims) {
      return revocationOf(await this.read(claims), claims.tv);
    },
  };
}

/** Redis pub/sub channel on which identity announces revoked API keys (payload: key id). */
export const apiKeyRevokedChannel = (prefix: string): string => `${prefix}:auth:api-key-revoked`;

/** API keys look like `orc_<12-char id>_<secret>`; the id part finds the row, the secret is hashed. */
export const API_KEY_PATTERN = /^orc_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{32,}$/;
