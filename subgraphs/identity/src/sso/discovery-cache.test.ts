import { generateSecretsKeys } from '@orchestra/lib';
import type { ServerMetadata } from 'openid-client';
import { errorOf, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider';
import { COMPLETE_SSO, CONFIGURE_SSO, ssoSignIn, START_SSO, throughProvider } from '../testing/sso-sign-in';
import { createDiscoveryCache } from './discovery-cache';

/**
 * Discovery documents and key sets are kept per issuer between sign-ins (issue 13): sign-ins cost the
 * provider only their token and userinfo requests (counted at a real provider, oidc-provider
 * in-process); a key the provider rotates to is fetched at the first ID token that names it; a provider
 * that is down is an error naming its issuer.
 */

describe('the cache itself', () => {
  const doc = (issuer: string) => ({ issuer }) as ServerMetadata;

  it('keeps a document for its time to live, then reads again', () => {
    let now = 0;
    const cache = createDiscoveryCache({ maxIssuers: 10, ttlMs: 1000, now: () => now });
    cache.setMetadata('https://a.example', doc('https://a.example'));
    now = 999;
    expect(cache.get('https://a.example')?.metadata.issuer).toBe('https://a.example');
    now = 1000;
    expect(cache.get('https://a.example')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxIssuers, dropping the least recently used', () => {
    const cache = createDiscoveryCache({ maxIssuers: 2, ttlMs: 60_000 });
    cache.setMetadata('a', doc('a'));
    cache.setMetadata('b', doc('b'));
    expect(cache.get('a')).toBeDefined();
    cache.setMetadata('c', doc('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('keeps nothing with a time to live of 0, and a key set only with its document', () => {
    const none = createDiscoveryCache({ maxIssuers: 2, ttlMs: 0 });
    none.setMetadata('a', doc('a'));
    expect(none.get('a')).toBeUndefined();
    const cache = createDiscoveryCache({ maxIssuers: 2, ttlMs: 60_000 });
    cache.setJwks('a', { jwks: { keys: [] }, uat: 1 });
    expect(cache.get('a')).toBeUndefined();
    cache.setMetadata('a', doc('a'));
    cache.setJwks('a', { jwks: { keys: [] }, uat: 1 });
    expect(cache.get('a')?.jwks?.uat).toBe(1);
  });
});

const APP_URL = 'http://127.0.0.1:4997';
let id: IdentityHarness;
let idp: TestOidcProvider;
let down: TestOidcProvider;
let acme: SignedIn;
let initech: SignedIn;
const suffix = Math.random().toString(36).slice(2, 8);
const domain = `cache-${suffix}.test`;
const downDomain = `down-${suffix}.test`;
const client = { clientId: 'cache-client', clientSecret: 'cache-secret-0123456789' };

describe('single sign-on with the cache', () => {
  beforeAll(async () => {
    id = await startIdentity({ SECRETS_KEYS: generateSecretsKeys('t1'), SSO_ALLOW_INSECURE_ISSUERS: 'true', APP_URL });
    idp = await startTestOidcProvider({ clients: [client], redirectUris: [`${APP_URL}/sso/callback`] });
    down = await startTestOidcProvider({ clients: [client], redirectUris: [`${APP_URL}/sso/callback`] });
    acme = await id.signUp({ organizationName: 'Acme' });
    initech = await id.signUp({ organizationName: 'Initech' });
    const a = await id.graphql(CONFIGURE_SSO, { input: { slug: `cache-${suffix}`, issuer: idp.issuer, ...client, domains: [domain], defaultRole: 'VIEWER', requireSso: false } }, { token: acme.accessToken });
    expect(a.errors).toBeUndefined();
    const i = await id.graphql(CONFIGURE_SSO, { input: { slug: `down-${suffix}`, issuer: down.issuer, ...client, domains: [downDomain], defaultRole: 'VIEWER', requireSso: false } }, { token: initech.accessToken });
    expect(i.errors).toBeUndefined();
  }, 90_000);

  afterAll(async () => {
    await idp?.stop();
    await down?.stop();
    await id?.stop();
  });

  const person = (label: string, at = domain): string => {
    const email = `${label}-${Math.random().toString(36).slice(2, 8)}@${at}`;
    idp.accounts.set(email, { email });
    down.accounts.set(email, { email });
    return email;
  };

  it('reads the discovery document and the key set once for N sign-ins', async () => {
    // Saving the connection read the document live (an admin's check) and kept nothing.
    idp.resetRequests();
    const n = 4;
    for (let i = 0; i < n; i += 1) {
      const email = person(`n${i}`);
      const res = await ssoSignIn(id, idp, { email }, email);
      expect(res.errors).toBeUndefined();
    }
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1, token: n, userinfo: n });
  }, 120_000);

  it('a key the provider rotated to works at once (the key set is read again for the new key id), and the document stays cached', async () => {
    const before = { ...idp.requests };
    const kid = idp.rotateSigningKey();
    expect(kid).not.toBe('test-key');
    const email = person('rotated');
    const res = await ssoSignIn(id, idp, { email }, email);
    expect(res.errors).toBeUndefined();
    expect(res.data.completeSsoSignIn.user.email).toBe(email);
    expect(idp.requests.discovery).toBe(before.discovery);
    expect(idp.requests.jwks).toBe(before.jwks + 1);
    // And the new key set is what the next sign-in uses, without reading it again.
    const again = person('after-rotation');
    expect((await ssoSignIn(id, idp, { email: again }, again)).errors).toBeUndefined();
    expect(idp.requests.jwks).toBe(before.jwks + 1);
  }, 90_000);

  it('a provider that is down is an error naming its issuer, at the code exchange and at discovery', async () => {
    const email = person('late', downDomain);
    // Started (its document now cached) and signed in at the provider; then the provider goes down.
    const pending = await throughProvider(id, down, { email }, email);
    await down.stop();
    const exchange = await id.graphql(COMPLETE_SSO, { input: pending });
    expect(errorOf(exchange)).toEqual({ code: 'UNAVAILABLE', reason: 'SSO_PROVIDER_UNAVAILABLE' });
    expect(exchange.errors![0]!.message).toContain(down.issuer);
    // An admin's test reads live (and drops the cached document): the next sign-in must read it too.
    const tested = await id.graphql('query($i: String!) { testSsoConnection(issuer: $i) { issuer } }', { i: down.issuer }, { token: initech.accessToken });
    expect(errorOf(tested)).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_DISCOVERY_FAILED', field: 'issuer' });
    const started = await id.graphql(START_SSO, { input: { email } });
    expect(errorOf(started)).toEqual({ code: 'UNAVAILABLE', reason: 'SSO_PROVIDER_UNAVAILABLE' });
    expect(started.errors![0]!.message).toContain(down.issuer);
    expect((await id.pool.query('SELECT 1 FROM users WHERE email = $1', [email])).rowCount).toBe(0);
  }, 90_000);
});
