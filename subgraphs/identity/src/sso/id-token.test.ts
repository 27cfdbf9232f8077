import { generateSecretsKeys } from '@orchestra/lib';
import { errorOf, startIdentity, type IdentityHarness, type SignedIn } from '../testing/harness';
import { startTestOidcProvider, type IdTokenForgery, type TestOidcProvider } from '../testing/oidc-provider';
import { CONFIGURE_SSO, ssoSignIn } from '../testing/sso-sign-in';

/**
 * A provider's ID token that must not be believed (issue 13): signed with a key the issuer does not
 * publish, altered after signing, issued to another client, or for another sign-in (nonce). The token
 * comes from a real OpenID provider (oidc-provider, in-process) and is forged on its way out, as a
 * compromised provider or a man in the middle would; identity must refuse the sign-in with an error
 * that says which check failed and names the issuer, provision nothing, and record the refusal in the
 * organization's audit trail.
 */

const APP_URL = 'http://127.0.0.1:4998';
let id: IdentityHarness;
let idp: TestOidcProvider;
let acme: SignedIn;
const suffix = Math.random().toString(36).slice(2, 8);
const domain = `forge-${suffix}.test`;
const client = { clientId: 'forge-client', clientSecret: 'forge-secret-0123456789' };

beforeAll(async () => {
  id = await startIdentity({ SECRETS_KEYS: generateSecretsKeys('t1'), SSO_ALLOW_INSECURE_ISSUERS: 'true', APP_URL });
  idp = await startTestOidcProvider({ clients: [client, { clientId: 'someone-else', clientSecret: 'someone-else-secret-0123' }], redirectUris: [`${APP_URL}/sso/callback`] });
  acme = await id.signUp({ organizationName: 'Acme' });
  const configured = await id.graphql(CONFIGURE_SSO, { input: { slug: `forge-${suffix}`, issuer: idp.issuer, ...client, domains: [domain], defaultRole: 'OPERATOR', requireSso: false } }, { token: acme.accessToken });
  expect(configured.errors).toBeUndefined();
}, 90_000);

afterAll(async () => {
  await idp?.stop();
  await id?.stop();
});

const failedSignIns = async (): Promise<number> => (await id.auditEvents({ action: 'auth.sso_login' })).filter((e) => e.outcome !== 'success' && e.orgId === acme.organization.id).length;
const usersWith = async (...emails: string[]): Promise<number> => (await id.pool.query('SELECT 1 FROM users WHERE email = ANY($1)', [emails])).rowCount ?? 0;

describe('an ID token that must not be believed', () => {
  it.each<[string, IdTokenForgery, string]>([
    ['signed with a key the issuer does not publish (under its published key id)', { signWith: 'unpublished-key' }, 'signature'],
    ['signed with a key the issuer does not publish (under a key id it never published)', { signWith: 'unknown-kid' }, 'signature'],
    ['altered after signing (another address put in)', { signWith: 'keep-signature', claims: { email: `victim-${suffix}@${domain}`, email_verified: true } }, 'signature'],
    ['issued to another client (wrong audience), signed by the provider', { signWith: 'provider', claims: { aud: 'someone-else' } }, 'audience'],
    ['for another sign-in (wrong nonce), signed by the provider', { signWith: 'provider', claims: { nonce: 'not-the-nonce-of-this-sign-in' } }, 'nonce'],
  ])('refuses one %s: nothing provisioned, the refusal audited', async (_what, forgery, check) => {
    const email = `mallory-${check}-${Math.random().toString(36).slice(2, 8)}@${domain}`;
    idp.accounts.set(email, { email });
    const before = await failedSignIns();
    idp.forgeNextIdToken(forgery);
    const res = await ssoSignIn(id, idp, { email }, email);

    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'SSO_ID_TOKEN_INVALID' });
    expect(res.errors![0]!.extensions['check']).toBe(check);
    expect(res.errors![0]!.message).toContain(`the ID token from ${idp.issuer}`);
    expect(res.data?.completeSsoSignIn ?? null).toBeNull();
    // Nothing provisioned: no account for the address signed in nor for one forged into the token.
    expect(await usersWith(email, `victim-${suffix}@${domain}`)).toBe(0);
    expect((await id.pool.query('SELECT 1 FROM sso_identities WHERE org_id = $1 AND subject = $2', [acme.organization.id, email])).rowCount).toBe(0);
    expect(await failedSignIns()).toBe(before + 1);
  }, 60_000);

  it('signs in with the genuine token of the same provider (the refusals were the forgeries)', async () => {
    const email = `genuine-${suffix}@${domain}`;
    idp.accounts.set(email, { email });
    const res = await ssoSignIn(id, idp, { email }, email);
    expect(res.errors).toBeUndefined();
    expect(res.data.completeSsoSignIn).toMatchObject({ role: 'OPERATOR', user: { email }, organization: { id: acme.organization.id } });
  }, 60_000);
});
