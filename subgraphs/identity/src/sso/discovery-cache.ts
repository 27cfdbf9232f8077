import type { ExportedJWKSCache, ServerMetadata } from 'openid-client';

/**
 * What identity keeps of each issuer between sign-ins: its discovery document and its key set (JWKS),
 * so that a sign-in does not fetch both anew. Bounded by the number of issuers (least recently used
 * goes first) and by age: a document older than `ttlMs` is read again. The key set is refreshed by
 * openid-client itself (after five minutes, or at once when an ID token names a key it does not hold:
 * see oidc-client.ts).
 */
export interface CachedIssuer {
  metadata: ServerMetadata;
  jwks?: ExportedJWKSCache | undefined;
}

export interface DiscoveryCache {
  get(issuer: string): CachedIssuer | undefined;
  setMetadata(issuer: string, metadata: ServerMetadata): void;
  /** Keeps the key set openid-client ended with; ignored when the issuer has left the cache meanwhile. */
  setJwks(issuer: string, jwks: ExportedJWKSCache): void;
  delete(issuer: string): void;
  readonly size: number;
}

export function createDiscoveryCache(options: { maxIssuers: number; ttlMs: number; now?: () => number }): DiscoveryCache {
  const { maxIssuers, ttlMs } = options;
  const now = options.now ?? Date.now;
  // Map order is insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, CachedIssuer & { fetchedAt: number }>();
  return {
    get(issuer) {
      const entry = entries.get(issuer);
      if (!entry) return undefined;
      entries.delete(issuer);
      if (now() - entry.fetchedAt >= ttlMs) return undefined;
      entries.set(issuer, entry);
      return { metadata: entry.metadata, jwks: entry.jwks };
    },
    setMetadata(issuer, metadata) {
      entries.delete(issuer);
      if (ttlMs <= 0) return;
      entries.set(issuer, { metadata, fetchedAt: now() });
      while (entries.size > maxIssuers) entries.delete(entries.keys().next().value!);
    },
    setJwks(issuer, jwks) {
      const entry = entries.get(issuer);
      if (entry) entry.jwks = jwks;
    },
    delete(issuer) {
      entries.delete(issuer);
    },
    get size() {
      return entries.size;
    },
  };
}
