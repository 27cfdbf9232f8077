import { generateSecretsKeys } from '@orchestra/lib';
import { AUTH_FIELDS, errorOf, goodPassword, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider';
import { CONFIGURE_SSO, ssoSignIn } from '../testing/sso-sign-in';
import { totpCode } from '../testing/totp-codes';

/**
 * Single sign-on for a person in several organizations (issue 13; the rule is in docs/decisions.md):
 * Alice belongs to Alpha (password; Alpha requires two-factor, so she has it) and to Beta (which
 * requires single sign-on at its domain). Beta's provider signs her in to Beta; that session reaches
 * Beta only, so Alpha's rules still decide how she gets into Alpha. Beta's provider cannot open an
 * account at a domain Beta's connection does not list, nor an account that is not Beta's member.
 */

const APP_URL = 'http://127.0.0.1:4996';
const INVITE = 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }';
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const COMPLETE_2FA = `mutation($i: CompleteTwoFactorSignInInput!) { completeTwoFactorSignIn(input: $i) { ${AUTH_FIELDS} } }`;
const SWITCH = `mutation($org: ID!, $t: String) { switchOrganization(organizationId: $org, refreshToken: $t) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;

let id: IdentityHarness;
let idp: TestOidcProvider;
let alpha: SignedIn;
let beta: SignedIn;
const suffix = Math.random().toString(36).slice(2, 8);
const betaDomain = `beta-${suffix}.test`;
const otherDomain = `elsewhere-${suffix}.test`;
const client = { clientId: 'beta-client', clientSecret: 'beta-secret-0123456789' };
const alice = { email: `alice-${suffix}@${betaDomain}`, password: goodPassword(), secret: '', userId: '' };

/** Enrols the holder of `token` in TOTP; the secret. */
async function enrol(token: string): Promise<string> {
  const started = await id.graphql('mutation { startTwoFactorEnrollment { secret } }', {}, { token });
  expect(started.errors).toBeUndefined();
  const secret = started.data.startTwoFactorEnrollment.secret as string;
  const confirmed = await id.graphql('mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }', { c: await totpCode(secret, -1) }, { token });
  expect(confirmed.errors).toBeUndefined();
  return secret;
}

/** `email` (new, or existing with `password`) joins the organization of `admin` by invitation. */
async function join(admin: SignedIn, email: string, password: string, extra: { name?: string; twoFactorCode?: string } = {}) {
  const invited = await id.graphql(INVITE, { i: { email, role: 'OPERATOR' } }, { token: admin.accessToken });
  expect(invited.errors).toBeUndefined();
  const accepted = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password, ...extra } });
  expect(accepted.errors).toBeUndefined();
  return accepted.data.acceptInvitation;
}

const sessionsIn = async (userId: string, orgId: string): Promise<number> => (await id.pool.query('SELECT 1 FROM sessions WHERE user_id = $1 AND org_id = $2', [userId, orgId])).rowCount ?? 0;

beforeAll(async () => {
  id = await startIdentity({ SECRETS_KEYS: generateSecretsKeys('t1'), SSO_ALLOW_INSECURE_ISSUERS: 'true', APP_URL });
  idp = await startTestOidcProvider({ clients: [client], redirectUris: [`${APP_URL}/sso/callback`] });
  // Alpha requires two-factor (its owner enrolled first, as the API insists).
  alpha = await id.signUp({ organizationName: 'Alpha' });
  await enrol(alpha.accessToken);
  expect((await id.graphql('mutation { setTwoFactorRequired(required: true) { id } }', {}, { token: alpha.accessToken })).errors).toBeUndefined();
  beta = await id.signUp({ organizationName: 'Beta' });
  const configured = await id.graphql(CONFIGURE_SSO, { input: { slug: `beta-${suffix}`, issuer: idp.issuer, ...client, domains: [betaDomain], defaultRole: 'VIEWER', requireSso: false } }, { token: beta.accessToken });
  expect(configured.errors).toBeUndefined();

  // Alice joins Alpha (a new account), proves her address, enrols a second factor, then joins Beta with both.
  const inAlpha = await join(alpha, alice.email, alice.password, { name: 'Alice' });
  alice.userId = inAlpha.user.id;
  await id.verifyEmail(alice.email);
  alice.secret = await enrol(inAlpha.accessToken);
  await join(beta, alice.email, alice.password, { twoFactorCode: await totpCode(alice.secret) });
  // Now Beta requires single sign-on for its members at its domain.
  const required = await id.graphql(CONFIGURE_SSO, { input: { slug: `beta-${suffix}`, issuer: idp.issuer, clientId: client.clientId, domains: [betaDomain], defaultRole: 'VIEWER', requireSso: true } }, { token: beta.accessToken });
  expect(required.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await idp?.stop();
  await id?.stop();
});

describe('a member of several organizations', () => {
  let session: { accessToken: string; refreshToken: string };

  it("signs in through Beta's single sign-on into Beta, as the same account", async () => {
    idp.accounts.set('alice-at-beta', { email: alice.email, name: 'Alice B.' });
    const res = await ssoSignIn(id, idp, { email: alice.email }, 'alice-at-beta');
    expect(res.errors).toBeUndefined();
    expect(res.data.completeSsoSignIn).toMatchObject({ role: 'OPERATOR', user: { id: alice.userId, email: alice.email }, organization: { id: beta.organization.id } });
    session = res.data.completeSsoSignIn;
    expect(await id.authenticate({ accessToken: session.accessToken })).toMatchObject({ userId: alice.userId, orgId: beta.organization.id, role: 'operator' });
    // Linked, not provisioned: no new account, no new membership.
    expect((await id.pool.query('SELECT 1 FROM users WHERE email = $1', [alice.email])).rowCount).toBe(1);
    expect((await id.auditEvents({ action: 'sso.provision' })).filter((e) => e.targetId === alice.userId)).toHaveLength(0);
    // The session goes on in Beta.
    const refreshed = await id.graphql(REFRESH, { t: session.refreshToken });
    expect(refreshed.data.refreshToken.organization.id).toBe(beta.organization.id);
    session = refreshed.data.refreshToken;
  }, 60_000);

  it('that session reaches Beta only: switching to Alpha is refused, with or without the refresh token, and nothing is issued in Alpha', async () => {
    const before = await sessionsIn(alice.userId, alpha.organization.id);
    const withToken = await id.graphql(SWITCH, { org: alpha.organization.id, t: session.refreshToken }, { token: session.accessToken });
    expect(errorOf(withToken)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_SESSION_CONFINED', field: 'organizationId' });
    const bare = await id.graphql(SWITCH, { org: alpha.organization.id }, { token: session.accessToken });
    expect(errorOf(bare)).toEqual({ code: 'FORBIDDEN', reason: 'REFRESH_TOKEN_REQUIRED', field: 'refreshToken' });
    expect(await sessionsIn(alice.userId, alpha.organization.id)).toBe(before);
    // The refused switch did not spend the refresh token: the session still refreshes, in Beta.
    const refreshed = await id.graphql(REFRESH, { t: session.refreshToken });
    expect(refreshed.data.refreshToken.organization.id).toBe(beta.organization.id);
  }, 60_000);

  it("Alpha's rules still hold for Alpha: the password asks for her second factor, and lands in Alpha, not in Beta (which requires SSO)", async () => {
    const res = await id.graphql(LOGIN, { input: { email: alice.email, password: alice.password } });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'TWO_FACTOR_REQUIRED' });
    const challengeToken = res.errors![0]!.extensions['challengeToken'];
    // Beta was used last (through its SSO); a password sign-in goes to the organization that takes one.
    const done = await id.graphql(COMPLETE_2FA, { i: { challengeToken, code: await totpCode(alice.secret, 1) } });
    expect(done.errors).toBeUndefined();
    expect(done.data.completeTwoFactorSignIn.organization.id).toBe(alpha.organization.id);
    // And a password session does not carry into Beta, which requires its single sign-on.
    const intoBeta = await id.graphql(SWITCH, { org: beta.organization.id, t: done.data.completeTwoFactorSignIn.refreshToken }, { token: done.data.completeTwoFactorSignIn.accessToken });
    expect(errorOf(intoBeta)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_REQUIRED' });
  }, 60_000);
});

describe("Beta's provider cannot take over accounts", () => {
  it('of a member of Beta and Alpha whose address is at a domain Beta does not list', async () => {
    const email = `bob-${suffix}@${otherDomain}`;
    const password = goodPassword();
    const bob = await join(alpha, email, password, { name: 'Bob' });
    await id.verifyEmail(email);
    await join(beta, email, password);
    idp.accounts.set('bob-at-beta', { email });
    const res = await ssoSignIn(id, idp, { slug: `beta-${suffix}` }, 'bob-at-beta');
    expect(errorOf(res)).toEqual({ code: 'FORBIDDEN', reason: 'SSO_DOMAIN_NOT_ALLOWED' });
    expect((await id.pool.query('SELECT 1 FROM sso_identities WHERE user_id = $1', [bob.user.id])).rowCount).toBe(0);
    const sessions = await id.pool.query('SELECT org_id FROM sessions WHERE user_id = $1 AND sso_org_id IS NOT NULL', [bob.user.id]);
    expect(sessions.rowCount).toBe(0);
  }, 60_000);

  it("of a member of Alpha only, even at Beta's domain: refused, and not made a member of Beta", async () => {
    const email = `carol-${suffix}@${betaDomain}`;
    const carol = await join(alpha, email, goodPassword(), { name: 'Carol' });
    await id.verifyEmail(email);
    idp.accounts.set('carol-at-beta', { email });
    const res = await ssoSignIn(id, idp, { email }, 'carol-at-beta');
    expect(errorOf(res)).toEqual({ code: 'CONFLICT', reason: 'SSO_ACCOUNT_EXISTS' });
    const memberships = await id.pool.query('SELECT org_id FROM memberships WHERE user_id = $1', [carol.user.id]);
    expect(memberships.rows.map((r: { org_id: string }) => r.org_id)).toEqual([alpha.organization.id]);
  }, 60_000);
});
