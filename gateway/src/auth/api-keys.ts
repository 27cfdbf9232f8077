import { createHash } from 'node:crypto';
import { identityV1 } from '@orchestra/proto';
import { apiKeyRevokedChannel, AppError, isRole, unaryCall, type Logger, type Principal, type Redis } from '@orchestra/lib';

type KeyPrincipal = Omit<Principal, 'requestId'>;

export interface ApiKeyAuthenticator {
  authenticate(apiKey: string, clientIp: string, requestId: string): Promise<KeyPrincipal>;
  stop(): Promise<void>;
}

export interface ApiKeyAuthenticatorOptions {
  identity: identityV1.IdentityServiceClient;
  internalToken: string;
  /** A dedicated connection: it is put in subscriber mode. */
  subscriber: Redis;
  redisPrefix: string;
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
export async function createApiKeyAuthenticator({ identity, internalToken, subscriber, redisPrefix, maxTtlMs, log, maxEntries = 10_000 }: ApiKeyAuthenticatorOptions): Promise<ApiKeyAuthenticator> {
  const cache = new Map<string, { principal: KeyPrincipal; expiresAt: number }>();
  const channel = apiKeyRevokedChannel(redisPrefix);
  await subscriber.subscribe(channel);
  subscriber.on('message', (ch: string, keyId: string) => {
    if (ch !== channel) return;
    for (const [hash, entry] of cache) if (entry.principal.apiKeyId === keyId) cache.delete(hash);
    log.info('api key revoked: cache entry dropped', { apiKeyId: keyId });
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
    async stop() {
      await subscriber.unsubscribe(channel);
    },
  };
}
