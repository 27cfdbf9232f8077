import { AppError, badInput, createGuardedFetch, type GuardedFetch, type Logger } from '@orchestra/lib';
import type * as OpenIdClientModule from 'openid-client';
import type { Configuration, CustomFetchOptions, ExportedJWKSCache, ServerMetadata } from 'openid-client';
import { createDiscoveryCache } from './discovery-cache';

/**
 * OpenID Connect relying-party work through `openid-client` (discovery, the authorization URL with
 * PKCE S256 + state + nonce, the code exchange and ID token validation: issuer, audience, nonce,
 * expiry, and the signature against the provider's JWKS). Loaded at the first SSO request, so the
 * identity process starts without it. Discovery documents and key sets are cached per issuer
 * (discovery-cache.ts), so a sign-in costs the provider its token (and userinfo) request only. Every request goes through the private-network guard unless
 * the issuer is allowed to be local (development, tests).
 */

type OpenIdClient = typeof OpenIdClientModule;
let loading: Promise<OpenIdClient> | undefined;
const loadClient = (): Promise<OpenIdClient> => (loading ??= import('openid-client'));

export interface OidcClientOptions {
  /** Plain-http issuers on private or loopback addresses (development and tests only). */
  allowInsecureIssuers: boolean;
  timeoutSeconds: number;
  /** How long an issuer's discovery document is used before it is read again (0: read it on every sign-in). */
  discoveryCacheSeconds: number;
  log: Logger;
}

/** Issuers whose documents are kept at once (a connection per organization; the least recently used go first). */
export const MAX_CACHED_ISSUERS = 500;

export interface OidcClient {
  /**
   * The provider's configuration for this client: from the cached discovery document of the issuer, or
   * read now and cached. `fresh` (an admin's save or test) always reads, keeps nothing, and drops what
   * was cached for the issuer.
   */
  discover(issuer: string, client: { clientId: string; clientSecret?: string | undefined }, options?: { fresh?: boolean }): Promise<Configuration>;
  buildAuthorizationUrl(config: Configuration, params: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<string>;
  /** Exchanges the code of a callback and validates the ID token; its claims (e-mail from userinfo when the ID token has none). */
  exchangeCode(config: Configuration, callbackUrl: URL, checks: { state: string; nonce: string; codeVerifier: string }): Promise<Record<string, unknown>>;
  randomSecrets(): Promise<{ state: string; nonce: string; codeVerifier: string }>;
  close(): Promise<void>;
}

/** Checks an issuer URL's shape (the discovery request then proves it). */
export function parseIssuer(raw: string, allowInsecure: boolean, field = 'issuer'): string {
  const value = raw.trim();
  if (value.length === 0) throw badInput(field, 'issuer URL is required', 'REQUIRED');
  if (value.length > 500) throw badInput(field, 'issuer URL is longer than 500 characters', 'TOO_LONG');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(field, `issuer is not a valid URL: ${JSON.stringify(value.slice(0, 100))}`, 'SSO_ISSUER_INVALID');
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    throw badInput(field, `issuer must be an https URL (got ${url.protocol.replace(/:$/, '')})`, 'SSO_ISSUER_INVALID');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw badInput(field, 'issuer URL must have no query, fragment or credentials', 'SSO_ISSUER_INVALID');
  }
  // Issuers are compared as strings with the `iss` claim: keep what the admin typed, less a trailing slash
  // only when the provider's issuer has none (discovery checks the exact value).
  return value;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The cause of a failed discovery, in words an admin can act on. */
function discoveryError(issuer: string, error: unknown): AppError {
  if (error instanceof AppError) {
    if (error.reason === 'PRIVATE_ADDRESS_BLOCKED') return badInput('issuer', `issuer ${issuer} is on a private network address, which is not allowed`, 'SSO_ISSUER_PRIVATE');
    return error;
  }
  const code = (error as { code?: unknown }).code;
  const text = messageOf(error);
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || /issuer/i.test(text)) {
    return badInput('issuer', `the discovery document of ${issuer} names another issuer (the URL must match the provider's issuer exactly): ${text}`, 'SSO_DISCOVERY_FAILED');
  }
  return badInput('issuer', `could not read the OpenID configuration of ${issuer} (${issuer.replace(/\/$/, '')}/.well-known/openid-configuration): ${text}`, 'SSO_DISCOVERY_FAILED');
}

export function createOidcClient({ allowInsecureIssuers, timeoutSeconds, discoveryCacheSeconds, log }: OidcClientOptions): OidcClient {
  const guarded: GuardedFetch = createGuardedFetch({ allowPrivate: allowInsecureIssuers, connectTimeoutMs: timeoutSeconds * 1000, log });
  const fetchThroughGuard = async (url: string, options: CustomFetchOptions): Promise<Response> => {
    const body = options.body;
    return guarded(url, {
      method: options.method,
      headers: options.headers,
      ...(body === undefined || body === null ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? body : body instanceof URLSearchParams ? body.toString() : new Uint8Array(body as ArrayBuffer) }),
      ...(options.signal ? { signal: options.signal } : {}),
      redirect: 'manual',
    });
  };

  const cache = createDiscoveryCache({ maxIssuers: MAX_CACHED_ISSUERS, ttlMs: discoveryCacheSeconds * 1000 });
  // One discovery request per issuer at a time: sign-ins arriving together while it is read share it.
  const reading = new Map<string, Promise<ServerMetadata>>();
  // The cache key (the issuer as configured) of each configuration handed out, to keep its key set afterwards.
  const issuerOf = new WeakMap<Configuration, string>();

  const readMetadata = async (oidc: OpenIdClient, issuer: string): Promise<ServerMetadata> => {
    try {
      const found = await oidc.discovery(new URL(issuer), 'orchestra-discovery', undefined, oidc.None(), {
        [oidc.customFetch]: fetchThroughGuard,
        timeout: timeoutSeconds,
        execute: allowInsecureIssuers ? [oidc.allowInsecureRequests] : [],
      });
      return found.serverMetadata();
    } catch (error) {
      log.info('OpenID discovery failed', { issuer, err: error });
      throw discoveryError(issuer, error);
    }
  };

  const metadataOf = async (oidc: OpenIdClient, issuer: string, fresh: boolean): Promise<{ metadata: ServerMetadata; jwks?: ExportedJWKSCache | undefined }> => {
    if (fresh) {
      // An admin's save or test: read live, and let the next sign-in read it anew too (the admin may have
      // just fixed the provider). Not kept: what a tenant merely tests does not take a place in the cache.
      cache.delete(issuer);
      return { metadata: await readMetadata(oidc, issuer) };
    }
    const cached = cache.get(issuer);
    if (cached) return cached;
    let pending = reading.get(issuer);
    if (!pending) {
      pending = readMetadata(oidc, issuer).finally(() => reading.delete(issuer));
      reading.set(issuer, pending);
    }
    const metadata = await pending;
    cache.setMetadata(issuer, metadata);
    return { metadata };
  };

  return {
    async discover(issuer, { clientId, clientSecret }, options = {}) {
      const oidc = await loadClient();
      const { metadata, jwks } = await metadataOf(oidc, issuer, options.fresh === true);
      // client_secret_basic: the method OpenID Connect assumes when a client names none.
      const config = new oidc.Configuration(metadata, clientId, undefined, clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret));
      config[oidc.customFetch] = fetchThroughGuard;
      config.timeout = timeoutSeconds;
      if (allowInsecureIssuers) oidc.allowInsecureRequests(config);
      // Validate ID token signatures against the provider's JWKS even though the token comes over the
      // back channel (defence in depth, and required when the issuer is plain http in tests).
      oidc.enableNonRepudiationChecks(config);
      if (jwks) {
        // openid-client fetches the key set again when an ID token names a key it lacks, but only once the
        // set is a minute old: handing it over as at least that old makes a rotated key at the provider
        // work on the first sign-in after the rotation (the set still expires five minutes after its fetch).
        const minuteAgo = Math.floor(Date.now() / 1000) - 60;
        oidc.setJwksCache(config, { jwks: jwks.jwks, uat: Math.min(jwks.uat, minuteAgo) });
      }
      issuerOf.set(config, issuer);
      return config;
    },

    async buildAuthorizationUrl(config, { redirectUri, state, nonce, codeVerifier }) {
      const oidc = await loadClient();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return url.href;
    },

    async exchangeCode(config, callbackUrl, { state, nonce, codeVerifier }) {
      const oidc = await loadClient();
      let tokens: Awaited<ReturnType<OpenIdClient['authorizationCodeGrant']>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      } finally {
        // The key set this exchange used (fetched now, or fetched again for a new key id) serves the next sign-ins.
        const jwks = oidc.getJwksCache(config);
        const issuer = issuerOf.get(config);
        if (jwks && issuer !== undefined) cache.setJwks(issuer, jwks);
      }
      const claims = tokens.claims();
      if (!claims) throw new AppError('UNAUTHENTICATED', 'the identity provider sent no ID token', { reason: 'SSO_ID_TOKEN_INVALID' });
      if (typeof claims['email'] === 'string') return { ...claims };
      // A conforming provider may keep scope claims (email, email_verified, name) for userinfo when it
      // issues an access token: read them there, for the ID token's subject only.
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      return { ...claims, email: info.email, email_verified: info.email_verified, ...(info.name === undefined ? {} : { name: info.name }) };
    },

    async randomSecrets() {
      const oidc = await loadClient();
      return { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    },

    close: () => guarded.close(),
  };
}
