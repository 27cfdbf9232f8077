import { createHash } from 'node:crypto';
import * as identityV1 from '@orchestra/proto/identity';
import { AppError, isRole, unaryCall, type Logger, type Principal } from '@orchestra/lib/gateway';
import type { AccessWatch } from './access-watch';

type KeyPrincipal = Omit<Principal, 'requestId'>;

export interface ApiKeyAuthenticator {
  authenticate(apiKey: string, clientIp: string, requestId: string): Promise<KeyPrincipal>;
  stop(): Promise<void>;
}

export interface ApiKeyAuthenticatorOptions {
  identity: identityV1.IdentityServiceClient;
  internalToken: string;
  /** identity's announcements: a revoked key is dropped from the cache at once. */
  watch: AccessWatch;
  maxTtlMs: number;
  log: Logger;
  maxEntries?: number;
}

const principalKinds: Record<number, Principal['kind']> = {
  [identityV1.PrincipalKind.PRINCIPAL_KIND_USER]: 'user',
  [identityV1.PrincipalKind.PRINCIPAL_KIND_API_KEY]: 'apiKey',
  [identityV1.PrincipalKind.PRINCIPAL_KIND_SERVICE]: 'service',
};

/**
 * Checks API keys through IdentityService.Authenticate and caches the answer briefly (keyed by a hash
 * of the key, never the key). identity announces revocations on Redis, which evicts at once.
 */
export function createApiKeyAuthenticator({ identity, internalToken, watch, maxTtlMs, log, maxEntries = 10_000 }: ApiKeyAuthenticatorOptions): ApiKeyAuthenticator {
  const cache = new Map<string, { principal: KeyPrincipal; expiresAt: number }>();
  const stopWatching = watch.onChange((event) => {
    if (event.kind === 'resync') cache.clear();
    if (event.kind !== 'apiKey') return;
    for (const [hash, entry] of cache) if (entry.principal.apiKeyId === event.apiKeyId) cache.delete(hash);
    log.info('api key revoked: cache entry dropped', { apiKeyId: event.apiKeyId });
  });

  return {
    async authenticate(apiKey, clientIp, requestId) {
      const hash = createHash('sha256').update(apiKey).digest('base64url');
      const cached = cache.get(hash);
      if (cached && cached.expiresAt > Date.now()) return cached.principal;
      cache.delete(hash);
      const response = await unaryCall(identity, identity.authenticate, { credential: { $case: 'apiKey', value: apiKey }, clientIp }, { internalToken }, { requestId, deadlineMs: 3_000 });
      const p = response.principal;
      if (!p || !p.orgId) throw new AppError('UNAUTHENTICATED', 'API key is not valid', { reason: 'API_KEY_INVALID' });
      const principal: KeyPrincipal = {
        kind: principalKinds[p.kind] ?? 'apiKey',
        id: p.id,
        orgId: p.orgId,
        role: isRole(p.role) ? p.role : undefined,
        scopes: p.scopes,
        apiKeyId: p.apiKeyId || p.id,
        userId: p.userId || undefined,
        display: p.display || undefined,
      };
      const ttl = Math.min(maxTtlMs, response.cacheTtlMs > 0 ? response.cacheTtlMs : maxTtlMs);
      if (ttl > 0) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(hash, { principal, expiresAt: Date.now() + ttl });
      }
      return principal;
    },
    stop() {
      stopWatching();
      return Promise.resolve();
    },
  };
}
