import { generateSecretsKeys, withTenantTransaction, newRequestId, type Principal } from '@orchestra/lib';
import { TENANT_ROLE } from '../deps';
import { hashSecret } from '../auth/opaque-tokens';
import { AUTH_FIELDS, errorOf, goodPassword, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider';

/**
 * Single sign-on against a real OpenID provider (oidc-provider, in-process): the whole redirect flow
 * driven over HTTP — identity's authorization URL, the provider's login (its interaction API) and
 * consent, the redirect back with the code, the code exchange, ID token and userinfo.
 */

const APP_URL = 'http://127.0.0.1:4999';
let id: IdentityHarness;
let idp: TestOidcProvider;
let acme: SignedIn;
let globex: SignedIn;
const suffix = Math.random().toString(36).slice(2, 8);
const acmeDomain = `acme-${suffix}.test`;
const globexDomain = `globex-${suffix}.test`;
const clients = { acme: { clientId: 'acme-client', clientSecret: 'acme-secret-0123456789' }, globex: { clientId: 'globex-client', clientSecret: 'globex-secret-0123456789' } };

const CONFIGURE = 'mutation($input: ConfigureSsoInput!) { configureSso(input: $input) { id slug issuer clientId clientSecretSet domains defaultRole requireSso redirectUri } }';
const START = 'mutation($input: StartSsoSignInInput!) { startSsoSignIn(input: $input) { authorizationUrl binding expiresAt } }';
const COMPLETE = `mutation($input: CompleteSsoSignInInput!) { completeSsoSignIn(input: $input) { ${AUTH_FIELDS} } }`;

const connectionInput = (over: Record<string, unknown> = {}) => ({
  slug: `acme-${suffix}`,
  issuer: idp.issuer,
  clientId: clients.acme.clientId,
  clientSecret: clients.acme.clientSecret,
  domains: [acmeDomain],
  defaultRole: 'OPERATOR',
  requireSso: false,
  ...over,
});

/** Starts SSO, lets `accountId` sign in at the provider, and answers the callback's query and the binding. */
async function throughProvider(start: { email?: string; slug?: string }, accountId: string): Promise<{ callbackQuery: string; binding: string }> {
  const started = await id.graphql(START, { input: start });
  if (started.errors) throw new Error(`startSsoSignIn failed: ${JSON.stringify(started.errors)}`);
  idp.nextLogin = accountId;
  const back = await idp.authorize(started.data.startSsoSignIn.authorizationUrl);
  expect(`${back.origin}${back.pathname}`).toBe(`${APP_URL}/sso/callback`);
  return { callbackQuery: back.search, binding: started.data.startSsoSignIn.binding };
}

async function ssoSignIn(start: { email?: string; slug?: string }, accountId: string) {
  return id.graphql(COMPLETE, { input: await throughProvider(start, accountId) });
}

const account = (accountId: string, email: string, extra: { emailVerified?: boolean; name?: string } = {}) => {
  idp.accounts.set(accountId, { email, ...extra });
  return accountId;
};

beforeAll(async () => {
  id = await startIdentity({ SECRETS_KEYS: generateSecretsKeys('t1'), SSO_ALLOW_INSECURE_ISSUERS: 'true', APP_URL });
  idp = await startTestOidcProvider({ clients: [clients.acme, clients.globex], redirectUris: [`${APP_URL}/sso/callback`] });
  acme = await id.signUp({ organizationName: 'Acme' });
  globex = await id.signUp({ organizationName: 'Globex' });
  const a = await id.graphql(CONFIGURE, { input: connectionInput() }, { token: acme.accessToken });
  expect(a.errors).toBeUndefined();
  const g = await id.graphql(CONFIGURE, { input: connectionInput({ slug: `globex-${suffix}`, clientId: clients.globex.clientId, clientSecret: clients.globex.clientSecret, domains: [globexDomain], defaultRole: 'VIEWER' }) }, { token: globex.accessToken });
  expect(g.errors).toBeUndefined();
  // Two sign-ups and two discoveries: give a loaded machine room.
}, 90_000);

afterAll(async () => {
  await idp?.stop();
  await id?.stop();
});

describe('configuring a connection', () => {
  it('shows the connection without its secret, which is stored encrypted', async () => {
    const res = await id.graphql('{ ssoConnection { slug issuer clientId clientSecretSet domains defaultRole requireSso redirectUri } }', {}, { token: acme.accessToken });
    expect(res.data.ssoConnection).toEqual({ slug: `acme-${suffix}`, issuer: idp.issuer, clientId: 'acme-client', clientSecretSet: true, domains: [acmeDomain], defaultRole: 'OPERATOR', requireSso: false, redirectUri: `${APP_URL}/sso/callback` });
    const { rows } = await id.pool.query<{ c: Buffer }>('SELECT secret_ciphertext AS c FROM sso_connections WHERE org_id = $1', [acme.organization.id]);
    expect(rows[0]!.c.toString('latin1')).not.toContain(clients.acme.clientSecret);
    const audit = await id.auditEvents({ action: 'sso.configure' });
    expect(audit.find((e) => e.orgId === acme.organization.id)?.diff).toMatchObject({ after: { clientId: 'acme-client' }, clientAuthChanged: true });
    expect(JSON.stringify(audit)).not.toContain(clients.acme.clientSecret);
  });

  it('keeps the secret when an update leaves it out', async () => {
    const res = await id.graphql(CONFIGURE, { input: connectionInput({ clientSecret: null, defaultRole: 'OPERATOR' }) }, { token: acme.accessToken });
    expect(res.errors).toBeUndefined();
    expect(res.data.configureSso.clientSecretSet).toBe(true);
  });

  it.each([
    ['an issuer that is not a URL', { issuer: 'not a url' }, 'issuer', 'SSO_ISSUER_INVALID'],
    ['an issuer on ftp', { issuer: 'ftp://idp.example.com' }, 'issuer', 'SSO_ISSUER_INVALID'],
    ['an issuer with no discovery document', { issuer: 'ISSUER/nothing-here' }, 'issuer', 'SSO_DISCOVERY_FAILED'],
    ['an issuer with nothing behind it', { issuer: 'http://127.0.0.1:1' }, 'issuer', 'SSO_DISCOVERY_FAILED'],
    ['a domain that is not one', { domains: ['not a domain'] }, 'domains', 'SSO_DOMAIN_INVALID'],
    ['no domain', { domains: [] }, 'domains', 'REQUIRED'],
    ['too many domains', { domains: Array.from({ length: 21 }, (_, i) => `d${i}.example.com`) }, 'domains', 'TOO_MANY'],
    ['an owner default role', { defaultRole: 'OWNER' }, 'defaultRole', 'SSO_ROLE_NOT_ALLOWED'],
    ['a bad slug', { slug: 'Not A Slug!' }, 'slug', 'SSO_SLUG_INVALID'],
    ['an empty client id', { clientId: ' ' }, 'clientId', 'REQUIRED'],
    ['a client secret of 1001 characters', { clientSecret: 'x'.repeat(1001) }, 'clientSecret', 'TOO_LONG'],
  ])('refuses %s, naming the field', async (_what, over, field, reason) => {
    const input = connectionInput(over);
    input.issuer = input.issuer.replace(/^ISSUER/, idp.issuer);
    const res = await id.graphql(CONFIGURE, { input }, { token: acme.accessToken });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason, field });
  });

  it('tests a connection by reading its discovery document', async () => {
    const ok = await id.graphql('query($i: String!) { testSsoConnection(issuer: $i) { issuer authorizationEndpoint tokenEndpoint jwksUri supportsPkce } }', { i: idp.issuer }, { token: acme.accessToken });
    expect(ok.data.testSsoConnection).toMatchObject({ issuer: idp.issuer, supportsPkce: true });
    expect(ok.data.testSsoConnection.jwksUri).toContain(idp.issuer);
    const bad = await id.graphql('query($i: String!) { testSsoConnection(issuer: $i) { issuer } }', { i: 'http://127.0.0.1:1' }, { token: acme.accessToken });
    expect(errorOf(bad)).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_DISCOVERY_FAILED', field: 'issuer' });
  });

  it('is for admins only', async () => {
    const viewer = { kind: 'user', id: acme.user.id, userId: acme.user.id, orgId: acme.organization.id, role: 'viewer', scopes: [], requestId: newRequestId() } as Principal;
    const res = await id.graphql('{ ssoConnection { id } }', {}, viewer);
    expect(errorOf(res).code).toBe('FORBIDDEN');
  });
});

describe('organization isolation', () => {
  it('one organization neither reads nor claims what another configured', async () => {
    const asGlobex = await id.graphql('{ ssoConnection { domains clientId } }', {}, { token: globex.accessToken });
    expect(asGlobex.data.ssoConnection).toEqual({ domains: [globexDomain], clientId: 'globex-client' });
    const claim = await id.graphql(CONFIGURE, { input: connectionInput({ slug: `globex-${suffix}`, clientId: 'globex-client', clientSecret: 'x', domains: [globexDomain, acmeDomain] }) }, { token: globex.accessToken });
    expect(errorOf(claim)).toEqual({ code: 'CONFLICT', reason: 'SSO_DOMAIN_TAKEN', field: 'domains' });
    const slug = await id.graphql(CONFIGURE, { input: connectionInput({ slug: `acme-${suffix}`, clientId: 'globex-client', clientSecret: 'x', domains: [globexDomain] }) }, { token: globex.accessToken });
    expect(errorOf(slug)).toEqual({ code: 'CONFLICT', reason: 'SSO_SLUG_TAKEN', field: 'slug' });
    const unchanged = await id.graphql('{ ssoConnection { domains } }', {}, { token: acme.accessToken });
    expect(unchanged.data.ssoConnection.domains).toEqual([acmeDomain]);
  });

  it('row-level security shows a tenant transaction its own organization rows only', async () => {
    const rows = await withTenantTransaction(id.pool, TENANT_ROLE, { orgId: acme.organization.id, userId: acme.user.id }, async (tx) => ({
      connections: (await tx.query<{ org_id: string }>('SELECT org_id FROM sso_connections')).rows.map((r) => r.org_id),
      domains: (await tx.query<{ domain: string }>('SELECT domain FROM sso_domains')).rows.map((r) => r.domain),
      signIns: (await tx.query('SELECT 1 FROM sso_sign_ins')).rowCount,
    }));
    expect(rows).toEqual({ connections: [acme.organization.id], domains: [acmeDomain], signIns: 0 });
  });

  it("an address of one organization's domain cannot come in through another's connection", async () => {
    const who = account(`g-${suffix}-1`, `gina@${globexDomain}`);
    const res = await ssoSignIn({ slug: `acme-${suffix}` }, who);
    expect(errorOf(res)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_DOMAIN_NOT_ALLOWED' });
    const { rowCount } = await id.pool.query('SELECT 1 FROM users WHERE email = $1', [`gina@${globexDomain}`]);
    expect(rowCount).toBe(0);
  });

  it("never opens an account that belongs to another organization", async () => {
    // Globex's owner, at Acme's domain (signed up with a password): Acme's provider says it is them.
    const owner = await id.signUp({ email: `boss-${suffix}@${acmeDomain}`, organizationName: 'Elsewhere' });
    await id.verifyEmail(owner.user.email);
    const res = await ssoSignIn({ email: owner.user.email }, account(`a-${suffix}-boss`, owner.user.email));
    expect(errorOf(res)).toEqual({ code: 'CONFLICT', reason: 'SSO_ACCOUNT_EXISTS' });
    const memberships = await id.pool.query('SELECT org_id FROM memberships WHERE user_id = $1', [owner.user.id]);
    expect(memberships.rows.map((r) => r.org_id)).toEqual([owner.organization.id]);
  });
});

describe('signing in', () => {
  it('provisions a new user just in time with the default role, and signs them in like a password would', async () => {
    const email = `ann-${suffix}@${acmeDomain}`;
    const res = await ssoSignIn({ email: email.toUpperCase() }, account(`a-${suffix}-ann`, email, { name: 'Ann Acme' }));
    expect(res.errors).toBeUndefined();
    const payload = res.data.completeSsoSignIn;
    expect(payload).toMatchObject({ role: 'OPERATOR', user: { email, name: 'Ann Acme' }, organization: { id: acme.organization.id }, tokenType: 'Bearer' });
    // The platform's normal tokens: the access token authenticates, the refresh token refreshes.
    const principal = await id.authenticate({ accessToken: payload.accessToken });
    expect(principal).toMatchObject({ kind: 'user', userId: payload.user.id, orgId: acme.organization.id, role: 'operator' });
    const refreshed = await id.graphql('mutation($t: String!) { refreshToken(refreshToken: $t) { role } }', { t: payload.refreshToken });
    expect(refreshed.data.refreshToken.role).toBe('OPERATOR');
    const me = await id.graphql('{ me { user { emailVerified } } }', {}, { token: payload.accessToken });
    expect(me.data.me.user.emailVerified).toBe(true);
    expect((await id.auditEvents({ action: 'sso.provision' })).find((e) => e.targetId === payload.user.id)).toMatchObject({ orgId: acme.organization.id, diff: { created: 'user', role: 'operator' } });
    expect((await id.auditEvents({ action: 'auth.sso_login' })).find((e) => e.targetId === payload.user.id)).toMatchObject({ orgId: acme.organization.id, outcome: 'success' });
  });

  it('signs the same provider account in again as the same user, by slug too', async () => {
    const email = `bob-${suffix}@${acmeDomain}`;
    const who = account(`a-${suffix}-bob`, email);
    const first = await ssoSignIn({ email }, who);
    const second = await ssoSignIn({ slug: `ACME-${suffix}` }, who);
    expect(second.data.completeSsoSignIn.user.id).toBe(first.data.completeSsoSignIn.user.id);
    const provisions = (await id.auditEvents({ action: 'sso.provision' })).filter((e) => e.targetId === first.data.completeSsoSignIn.user.id);
    expect(provisions).toHaveLength(1);
  });

  it('refuses an address the provider has not verified', async () => {
    const res = await ssoSignIn({ email: `x@${acmeDomain}` }, account(`a-${suffix}-unverified`, `carl-${suffix}@${acmeDomain}`, { emailVerified: false }));
    expect(errorOf(res)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_EMAIL_NOT_VERIFIED' });
    expect((await id.pool.query('SELECT 1 FROM users WHERE email = $1', [`carl-${suffix}@${acmeDomain}`])).rowCount).toBe(0);
  });

  it('refuses a domain no organization signs in, and an unknown slug', async () => {
    expect(errorOf(await id.graphql(START, { input: { email: 'someone@nowhere.example' } }))).toEqual({ code: 'NOT_FOUND', reason: 'SSO_NOT_CONFIGURED', field: 'email' });
    expect(errorOf(await id.graphql(START, { input: { slug: 'no-such-org' } }))).toEqual({ code: 'NOT_FOUND', reason: 'SSO_NOT_CONFIGURED', field: 'slug' });
    expect(errorOf(await id.graphql(START, { input: {} }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'REQUIRED', field: 'email' });
  });

  it('refuses a made-up state, a state from another browser, a used state and an expired one', async () => {
    const who = account(`a-${suffix}-dan`, `dan-${suffix}@${acmeDomain}`);
    const made = await id.graphql(COMPLETE, { input: { callbackQuery: '?code=abc&state=made-up', binding: 'whatever' } });
    expect(errorOf(made)).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_STATE_INVALID', field: 'callbackQuery' });

    const other = await throughProvider({ email: `dan-${suffix}@${acmeDomain}` }, who);
    const foreign = await id.graphql(COMPLETE, { input: { ...other, binding: 'another-browsers-binding' } });
    expect(errorOf(foreign)).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_STATE_INVALID', field: 'callbackQuery' });

    const once = await throughProvider({ email: `dan-${suffix}@${acmeDomain}` }, who);
    expect((await id.graphql(COMPLETE, { input: once })).errors).toBeUndefined();
    expect(errorOf(await id.graphql(COMPLETE, { input: once }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_STATE_USED', field: 'callbackQuery' });

    const late = await throughProvider({ email: `dan-${suffix}@${acmeDomain}` }, who);
    const state = new URLSearchParams(late.callbackQuery).get('state')!;
    const { rowCount } = await id.pool.query("UPDATE sso_sign_ins SET expires_at = now() - interval '1 second' WHERE state_hash = $1", [hashSecret(state)]);
    expect(rowCount).toBe(1);
    expect(errorOf(await id.graphql(COMPLETE, { input: late }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'SSO_STATE_EXPIRED', field: 'callbackQuery' });
  });

  it('says so when the provider refuses the sign-in', async () => {
    const started = await id.graphql(START, { input: { email: `eve-${suffix}@${acmeDomain}` } });
    idp.refuseNext = true;
    const back = await idp.authorize(started.data.startSsoSignIn.authorizationUrl);
    const res = await id.graphql(COMPLETE, { input: { callbackQuery: back.search, binding: started.data.startSsoSignIn.binding } });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'SSO_PROVIDER_REFUSED' });
    expect(res.errors![0]!.message).toContain('access_denied');
    const failed = (await id.auditEvents({ action: 'auth.sso_login' })).filter((e) => e.outcome !== 'success');
    expect(failed.some((e) => e.orgId === acme.organization.id)).toBe(true);
  });

  it("refuses another sign-in's code (its PKCE verifier does not match)", async () => {
    const who = account(`a-${suffix}-fay`, `fay-${suffix}@${acmeDomain}`);
    const first = await throughProvider({ email: `fay-${suffix}@${acmeDomain}` }, who);
    const second = await throughProvider({ email: `fay-${suffix}@${acmeDomain}` }, who);
    // The second sign-in's state with the first sign-in's code: the provider refuses the code (the PKCE verifier differs).
    const code = new URLSearchParams(first.callbackQuery).get('code')!;
    const mixed = new URLSearchParams(second.callbackQuery);
    mixed.set('code', code);
    const res = await id.graphql(COMPLETE, { input: { callbackQuery: `?${mixed.toString()}`, binding: second.binding } });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'SSO_CODE_INVALID' });
  });

  it('bounds what the callback may carry', async () => {
    const res = await id.graphql(COMPLETE, { input: { callbackQuery: `?state=${'x'.repeat(9000)}`, binding: 'b' } });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason: 'TOO_LONG', field: 'callbackQuery' });
  });
});

describe('requiring single sign-on', () => {
  it('refuses password sign-in to members at the SSO domains, but not to owners (break-glass)', async () => {
    // A member with a password at Acme's domain, invited before SSO was required.
    const email = `pat-${suffix}@${acmeDomain}`;
    const password = goodPassword();
    const invite = await id.graphql('mutation($e: String!) { inviteMember(input: { email: $e, role: VIEWER }) { token } }', { e: email }, { token: acme.accessToken });
    const accepted = await id.graphql('mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { role } }', { input: { token: invite.data.inviteMember.token, name: 'Pat', password } });
    expect(accepted.errors).toBeUndefined();
    await id.graphql(CONFIGURE, { input: connectionInput({ clientSecret: null, requireSso: true }) }, { token: acme.accessToken });

    const refused = await id.graphql(`mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`, { input: { email, password } });
    expect(errorOf(refused)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_REQUIRED' });
    expect(refused.errors![0]!.extensions['ssoSlug']).toBe(`acme-${suffix}`);
    const owner = await id.graphql(`mutation($input: LoginInput!) { login(input: $input) { role } }`, { input: { email: acme.user.email, password: acme.password } });
    expect(owner.data.login.role).toBe('OWNER');
    // Pat signs in through the provider instead: linked to the existing account (a member of Acme alone).
    const sso = await ssoSignIn({ email }, account(`a-${suffix}-pat`, email));
    expect(sso.data.completeSsoSignIn).toMatchObject({ role: 'VIEWER', user: { email } });
    await id.graphql(CONFIGURE, { input: connectionInput({ clientSecret: null, requireSso: false }) }, { token: acme.accessToken });
  });

  it('a new address gets no password sign-in at all', async () => {
    const email = `gus-${suffix}@${acmeDomain}`;
    await ssoSignIn({ email }, account(`a-${suffix}-gus`, email));
    const res = await id.graphql('mutation($input: LoginInput!) { login(input: $input) { role } }', { input: { email, password: goodPassword() } });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
  });
});

describe('deleting the connection', () => {
  it('stops sign-in through it', async () => {
    const res = await id.graphql('mutation { deleteSsoConnection }', {}, { token: globex.accessToken });
    expect(res.data.deleteSsoConnection).toBe(true);
    expect(errorOf(await id.graphql(START, { input: { email: `x@${globexDomain}` } }))).toEqual({ code: 'NOT_FOUND', reason: 'SSO_NOT_CONFIGURED', field: 'email' });
    expect((await id.graphql('{ ssoConnection { id } }', {}, { token: globex.accessToken })).data.ssoConnection).toBeNull();
  });
});
