import { randomBytes } from 'node:crypto';
import { totpCode } from '@orchestra/identity/testing/totp-codes';
import { startPlatform, type GraphQLResponse, type Platform } from '../src/platform';

/**
 * Issue 13: an organization that requires two-factor sign-in, enforced by the platform, not the web app.
 * Through the gateway: a member without a second factor reaches only enrolment (me, enrol, sign out) —
 * everything else is FORBIDDEN / TWO_FACTOR_ENROLLMENT_REQUIRED, however the request is written — and
 * once enrolled, a refresh gives a token that reaches the rest. API keys are not users and keep working.
 */

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const AUTH = 'accessToken refreshToken twoFactorEnrollmentRequired user { id email } organization { id name }';

interface Session {
  accessToken: string;
  refreshToken: string;
  twoFactorEnrollmentRequired: boolean;
  user: { id: string; email: string };
  organization: { id: string; name: string };
}

const email = (label: string) => `${label}.${randomBytes(4).toString('hex')}@example.com`;
const password = () => `Green-Teapot-${randomBytes(5).toString('hex')}`;
const errorOf = (res: GraphQLResponse<unknown>) => {
  const ext = res.errors?.[0]?.extensions ?? {};
  return { status: res.status, code: ext.code, reason: ext.reason };
};
const ENROLMENT_REFUSED = { status: 403, code: 'FORBIDDEN', reason: 'TWO_FACTOR_ENROLLMENT_REQUIRED' };

async function enrol(token: string): Promise<string> {
  const started = await platform.graphql<{ startTwoFactorEnrollment: { secret: string; otpauthUrl: string } }>('mutation { startTwoFactorEnrollment { secret otpauthUrl } }', {}, { token });
  expect(started.errors).toBeUndefined();
  const { secret } = started.data!.startTwoFactorEnrollment;
  const confirmed = await platform.graphql('mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }', { c: await totpCode(secret) }, { token });
  expect(confirmed.errors).toBeUndefined();
  return secret;
}

describe('an organization that requires two-factor sign-in, through the gateway', () => {
  it('refuses a member without a second factor everything but enrolment, until they enrol; API keys keep working', async () => {
    const pw = password();
    const owner = (await platform.graphql<{ signUp: Session }>(`mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`, { i: { email: email('owner'), password: pw, name: 'Olga Owner', organizationName: 'Strict Co' } })).data!.signUp;
    await enrol(owner.accessToken);
    expect((await platform.graphql('mutation { setTwoFactorRequired(required: true) { requireTwoFactor } }', {}, { token: owner.accessToken })).data).toEqual({ setTwoFactorRequired: { requireTwoFactor: true } });
    const key = (await platform.graphql<{ createApiKey: { key: string } }>('mutation { createApiKey(input: { name: "ci", scopes: ["runs:read"] }) { key } }', {}, { token: owner.accessToken })).data!.createApiKey.key;

    // A member joins after the requirement: their token is marked, and the gateway holds them to enrolment.
    const memberEmail = email('member');
    const memberPassword = password();
    const invited = await platform.graphql<{ inviteMember: { token: string } }>('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email: memberEmail, role: 'ADMIN' } }, { token: owner.accessToken });
    const member = (await platform.graphql<{ acceptInvitation: Session }>(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH} } }`, { i: { token: invited.data!.inviteMember.token, name: 'Max Member', password: memberPassword } })).data!.acceptInvitation;
    expect(member.twoFactorEnrollmentRequired).toBe(true);
    const as = { token: member.accessToken };

    // Organization data, whichever way it is asked for: a root field, a nested field, a fragment, an alias, a mutation.
    expect(errorOf(await platform.graphql('{ members { totalCount } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('{ organization { name } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('{ me { role } apiKeys { totalCount } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('query { me { ...M } } fragment M on Viewer { memberships { activeApiKeysCreated } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('{ x: users { totalCount } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('mutation { createApiKey(input: { name: "sneaky", scopes: ["runs:read"] }) { key } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    expect(errorOf(await platform.graphql('mutation { setTwoFactorRequired(required: false) { id } }', {}, as))).toEqual(ENROLMENT_REFUSED);
    const refused = await platform.graphql('{ members { totalCount } }', {}, as);
    expect(refused.errors![0]!.message).toMatch(/requires two-factor sign-in: set it up first .* to use Query\.members/);
    // A request without a document (an automatic persisted query) is refused too: nothing unchecked gets through.
    const persisted = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${member.accessToken}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    });
    expect(persisted.status).toBe(403);
    expect(((await persisted.json()) as { errors: Array<{ extensions: { reason: string } }> }).errors[0]!.extensions.reason).toBe('TWO_FACTOR_ENROLLMENT_REQUIRED');

    // What enrolment needs works: who am I (with introspection's __typename), enrol.
    const me = await platform.graphql<{ me: { __typename: string; twoFactorEnrollmentRequired: boolean; user: { email: string; twoFactorEnabled: boolean }; organization: { name: string; requireTwoFactor: boolean }; memberships: Array<{ role: string }> } }>(
      '{ me { __typename twoFactorEnrollmentRequired user { email twoFactorEnabled } organization { name requireTwoFactor } memberships { role } } }',
      {},
      as,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toMatchObject({ twoFactorEnrollmentRequired: true, user: { email: memberEmail, twoFactorEnabled: false }, organization: { name: 'Strict Co', requireTwoFactor: true } });
    await enrol(member.accessToken);

    // Enrolled: the restricted token is revoked (the client refreshes), and the refreshed one reaches everything its role allows.
    expect(errorOf(await platform.graphql('{ me { role } }', {}, as))).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    const refreshed = (await platform.graphql<{ refreshToken: Session }>(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: member.refreshToken })).data!.refreshToken;
    expect(refreshed.twoFactorEnrollmentRequired).toBe(false);
    const members = await platform.graphql<{ members: { totalCount: number } }>('{ members { totalCount } }', {}, { token: refreshed.accessToken });
    expect(members.errors).toBeUndefined();
    expect(members.data!.members.totalCount).toBe(2);

    // API keys are not users: no second factor to enrol; the key an enrolled admin created keeps working.
    const byKey = await platform.graphql<{ currentApiKey: { name: string } }>('{ currentApiKey { name organization { name } } }', {}, { apiKey: key });
    expect(byKey.errors).toBeUndefined();
    expect(byKey.data!.currentApiKey).toMatchObject({ name: 'ci', organization: { name: 'Strict Co' } });
  });

  it('an admin turning the requirement on restricts members already signed in at once (their tokens are revoked, the refresh is marked)', async () => {
    const owner = (await platform.graphql<{ signUp: Session }>(`mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`, { i: { email: email('owner'), password: password(), name: 'Olga Owner', organizationName: 'Later Co' } })).data!.signUp;
    const invited = await platform.graphql<{ inviteMember: { token: string } }>('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email: email('viewer'), role: 'VIEWER' } }, { token: owner.accessToken });
    const member = (await platform.graphql<{ acceptInvitation: Session }>(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH} } }`, { i: { token: invited.data!.inviteMember.token, name: 'Vera Viewer', password: password() } })).data!.acceptInvitation;
    expect((await platform.graphql('{ members { totalCount } }', {}, { token: member.accessToken })).errors).toBeUndefined();

    // The owner must enrol first; then the requirement takes effect for the member's existing token.
    expect(errorOf(await platform.graphql('mutation { setTwoFactorRequired(required: true) { id } }', {}, { token: owner.accessToken }))).toMatchObject({ code: 'CONFLICT', reason: 'TWO_FACTOR_NOT_ENABLED' });
    await enrol(owner.accessToken);
    expect((await platform.graphql('mutation { setTwoFactorRequired(required: true) { id } }', {}, { token: owner.accessToken })).errors).toBeUndefined();
    expect(errorOf(await platform.graphql('{ members { totalCount } }', {}, { token: member.accessToken }))).toMatchObject({ status: 401, reason: 'TOKEN_REVOKED' });
    const refreshed = (await platform.graphql<{ refreshToken: Session }>(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: member.refreshToken })).data!.refreshToken;
    expect(refreshed.twoFactorEnrollmentRequired).toBe(true);
    expect(errorOf(await platform.graphql('{ members { totalCount } }', {}, { token: refreshed.accessToken }))).toEqual(ENROLMENT_REFUSED);
    // Signing out is always possible.
    expect((await platform.graphql('mutation { logoutEverywhere }', {}, { token: refreshed.accessToken })).data).toEqual({ logoutEverywhere: true });
    // The owner (enrolled) was never restricted.
    expect((await platform.graphql('{ members { totalCount } }', {}, { token: owner.accessToken })).errors).toBeUndefined();
  });
});
