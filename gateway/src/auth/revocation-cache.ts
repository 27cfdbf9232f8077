import { AppError, revocationOf, type AccessTokenClaims, type RevocationReason, type RevocationState, type Redis, type TokenRevocations } from '@orchestra/lib/gateway';
import type { AccessWatch } from './access-watch';

export interface RevocationChecker {
  /** Why the token is revoked, or undefined; UNAVAILABLE (503, retry hint) when its state cannot be read. */
  check(claims: Pick<AccessTokenClaims, 'sub' | 'sid' | 'tv'>): Promise<RevocationReason | undefined>;
}

/** How long a client is told to wait when Redis cannot be read. */
export const AUTH_STATE_RETRY_MS = 5_000;

export const authStateUnavailable = (cause?: unknown): AppError =>
  new AppError('UNAVAILABLE', 'cannot check whether your sign-in is still valid right now (the session store is unreachable): try again shortly', {
    reason: 'AUTH_STATE_UNAVAILABLE',
    details: { retryAfterMs: AUTH_STATE_RETRY_MS },
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * Token revocation state kept in memory and updated by identity's announcements, so a request costs
 * no Redis round trip. Both parts of the state only ever grow (a session once revoked stays revoked,
 * a token version only rises), so a reading from Redis and an announcement merge by `or` and `max`
 * in any order. While the announcement channel is down nothing is trusted from memory: state is read
 * from Redis, and when Redis cannot answer the caller gets UNAVAILABLE — the gateway never accepts a
 * token whose revocation it cannot check (docs/decisions.md, "Redis outage at the gateway").
 */
export function createRevocationCache({
  revocations,
  watch,
  redis,
  maxEntries = 100_000,
  timeoutMs = 1_000,
}: {
  revocations: Pick<TokenRevocations, 'read'>;
  watch: AccessWatch;
  redis: Redis;
  maxEntries?: number;
  timeoutMs?: number;
}): RevocationChecker & { stop(): void } {
  const sessions = new Map<string, boolean>();
  /** Raised on resync: a reading that started before it may predate a missed announcement. */
  let generation = 0;
  const versions = new Map<string, number | undefined>();
  const bounded = <V>(map: Map<string, V>, key: string, value: V) => {
    if (!map.has(key) && map.size >= maxEntries) map.delete(map.keys().next().value as string);
    map.set(key, value);
  };
  const stopWatching = watch.onChange((event) => {
    switch (event.kind) {
      case 'session':
        bounded(sessions, event.sessionId, true);
        return;
      case 'tokenVersion':
        bounded(versions, event.userId, Math.max(versions.get(event.userId) ?? -1, event.version));
        return;
      case 'resync':
        generation += 1;
        sessions.clear();
        versions.clear();
        return;
      case 'apiKey':
        return;
    }
  });

  const read = async (claims: Pick<AccessTokenClaims, 'sub' | 'sid'>): Promise<RevocationState> => {
    // A connection that is down would queue the command and retry for seconds: answer at once.
    if (redis.status !== 'ready') throw authStateUnavailable();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        revocations.read(claims),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      throw authStateUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async check(claims) {
      const live = watch.live();
      const knownSession = sessions.get(claims.sid);
      const knownVersion = versions.has(claims.sub);
      if (live && knownSession !== undefined && knownVersion) {
        return revocationOf({ sessionRevoked: knownSession, tokenVersion: versions.get(claims.sub) }, claims.tv);
      }
      const startedIn = generation;
      const state = await read(claims);
      const merged: RevocationState = {
        sessionRevoked: state.sessionRevoked || sessions.get(claims.sid) === true,
        tokenVersion: Math.max(state.tokenVersion ?? -1, versions.get(claims.sub) ?? -1),
      };
      if (merged.tokenVersion === -1) merged.tokenVersion = undefined;
      if (live && watch.live() && generation === startedIn) {
        bounded(sessions, claims.sid, merged.sessionRevoked);
        bounded(versions, claims.sub, merged.tokenVersion);
      }
      return revocationOf(merged, claims.tv);
    },
    stop: stopWatching,
  };
}
