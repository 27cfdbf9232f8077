import { createPrivateKey, randomBytes } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, eventually } from '@orchestra/lib';
import { startPlatform, type GraphQLResponse, type Platform } from '../src/platform';

/**
 * Issue 2's identity list, end to end: HTTP to the gateway, which verifies tokens against identity's
 * JWKS, asks IdentityService about API keys, and forwards signed principals to the identity process.
 */

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const AUTH = 'accessToken refreshToken role user { id email } organization { id name }';
const SIGN_UP = `mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`;
const LOGIN = `mutation($i: LoginInput!) { login(input: $i) { ${AUTH} } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`;
const ME = '{ me { role user { id email } organization { id } } }';

interface Session {
  accessToken: string;
  refreshToken: string;
  role: string;
  user: { id: string; email: string };
  organization: { id: string; name: string };
}

const email = (label: string) => `${label}.${randomBytes(4).toString('hex')}@example.com`;
const password = () => `Blue-Kettle-${randomBytes(5).toString('hex')}`;
const errorOf = (res: GraphQLResponse<unknown>) => {
  const ext = res.errors?.[0]?.extensions ?? {};
  return { code: ext.code, reason: ext.reason, ...(ext.field === undefined ? {} : { field: ext.field }) };
};

async function signUp(): Promise<Session & { password: string }> {
  const pw = password();
  const res = await platform.graphql<{ signUp: Session }>(SIGN_UP, { i: { email: email('owner'), password: pw, name: 'Owen Owner', organizationName: 'Owner Org' } });
  expect(res.errors).toBeUndefined();
  return { ...res.data!.signUp, password: pw };
}

/** Rows sign-up and sign-in write, in identity's schema. */
async function writtenRows(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['organizations', 'users', 'memberships', 'sessions', 'refresh_tokens', 'api_keys']) {
    const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${platform.schemas.identity}".${table}`);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

describe('sign-up, login, refresh, logout', () => {
  it('signs up a new organization and its owner, who can then read `me`', async () => {
    const owner = await signUp();
    expect(owner).toMatchObject({ role: 'OWNER', organization: { name: 'Owner Org' } });
    const me = await platform.graphql(ME, {}, { token: owner.accessToken });
    expect(me.data).toEqual({ me: { role: 'OWNER', user: { id: owner.user.id, email: owner.user.email }, organization: { id: owner.organization.id } } });
  });

  it('logs in with email and password', async () => {
    const owner = await signUp();
    const res = await platform.graphql<{ login: Session }>(LOGIN, { i: { email: owner.user.email.toUpperCase(), password: owner.password } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.login).toMatchObject({ role: 'OWNER', user: { id: owner.user.id }, organization: { id: owner.organization.id } });
    expect((await platform.graphql(ME, {}, { token: res.data!.login.accessToken })).data).toMatchObject({ me: { user: { id: owner.user.id } } });
  });

  it('rotates the refresh token on every use', async () => {
    const owner = await signUp();
    const first = await platform.graphql<{ refreshToken: Session }>(REFRESH, { t: owner.refreshToken });
    expect(first.errors).toBeUndefined();
    const next = first.data!.refreshToken;
    expect(next.refreshToken).not.toBe(owner.refreshToken);
    expect((await platform.graphql(ME, {}, { token: next.accessToken })).data).toMatchObject({ me: { role: 'OWNER' } });
    const second = await platform.graphql<{ refreshToken: Session }>(REFRESH, { t: next.refreshToken });
    expect(second.errors).toBeUndefined();
  });

  it('revokes the whole family when a rotated refresh token is used again after the reuse grace', async () => {
    const owner = await signUp();
    const next = (await platform.graphql<{ refreshToken: Session }>(REFRESH, { t: owner.refreshToken })).data!.refreshToken;
    // Past the reuse grace (a few seconds in which the previous token answers its successor again: a reload
    // while the refresh was in flight), as a token replayed later would be.
    const hex = /^ort_([0-9a-f]{32})_/.exec(owner.refreshToken)![1]!;
    await platform.pool.query(`UPDATE "${platform.schemas.identity}".refresh_tokens SET used_at = used_at - interval '61 seconds' WHERE id = $1::uuid`, [hex]);
    const reuse = await platform.graphql(REFRESH, { t: owner.refreshToken });
    expect(errorOf(reuse)).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    // The family's newest refresh token and its access token are dead too.
    expect(errorOf(await platform.graphql(REFRESH, { t: next.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    expect(errorOf(await platform.graphql(ME, {}, { token: next.accessToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    const { rows } = await platform.pool.query(
      `SELECT event->>'outcome' AS outcome FROM "${platform.schemas.identity}".audit_outbox WHERE event->>'action' = 'auth.refresh_token_reused' AND org_id = $1`,
      [owner.organization.id],
    );
    expect(rows).toEqual([{ outcome: 'UNAUTHENTICATED' }]);
  });

  it('logs out everywhere: every session and access token of the user stops working', async () => {
    const owner = await signUp();
    const laptop = (await platform.graphql<{ login: Session }>(LOGIN, { i: { email: owner.user.email, password: owner.password } })).data!.login;
    const res = await platform.graphql('mutation { logoutEverywhere }', {}, { token: laptop.accessToken });
    expect(res.data).toEqual({ logoutEverywhere: true });
    for (const session of [owner, laptop]) {
      expect(errorOf(await platform.graphql(ME, {}, { token: session.accessToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
      expect(errorOf(await platform.graphql(REFRESH, { t: session.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    }
    const again = await platform.graphql<{ login: Session }>(LOGIN, { i: { email: owner.user.email, password: owner.password } });
    expect((await platform.graphql(ME, {}, { token: again.data!.login.accessToken })).errors).toBeUndefined();
  });

  it('logs out one session with its refresh token', async () => {
    const owner = await signUp();
    expect((await platform.graphql('mutation($t: String!) { logout(refreshToken: $t) }', { t: owner.refreshToken })).data).toEqual({ logout: true });
    expect(errorOf(await platform.graphql(ME, {}, { token: owner.accessToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
  });

  it('signs in the first admin created at start', async () => {
    const admin = platform.firstAdmin;
    expect(admin).toBeDefined();
    const res = await platform.graphql<{ login: Session }>(LOGIN, { i: { email: admin!.email, password: admin!.password } });
    expect(res.data!.login).toMatchObject({ role: 'OWNER', organization: { name: admin!.organization } });
  });
});

describe('failures: each with its own code and reason, nothing written', () => {
  it('wrong password and unknown user get the same INVALID_CREDENTIALS', async () => {
    const owner = await signUp();
    const before = await writtenRows();
    const wrong = await platform.graphql(LOGIN, { i: { email: owner.user.email, password: 'Definitely-Wrong-1' } });
    const unknown = await platform.graphql(LOGIN, { i: { email: email('nobody'), password: 'Definitely-Wrong-1' } });
    expect(errorOf(wrong)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(errorOf(unknown)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
    expect(wrong.data).toBeNull();
    expect(await writtenRows()).toEqual(before);
  });

  it('a malformed email is BAD_USER_INPUT INVALID_EMAIL on the email field', async () => {
    const before = await writtenRows();
    const res = await platform.graphql(SIGN_UP, { i: { email: 'not an email', password: password(), name: 'N', organizationName: 'O' } });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
    expect(await writtenRows()).toEqual(before);
  });

  it('a weak password is BAD_USER_INPUT WEAK_PASSWORD on the password field, saying why', async () => {
    const before = await writtenRows();
    const res = await platform.graphql(SIGN_UP, { i: { email: email('weak'), password: 'password123', name: 'Wes Weak', organizationName: 'Weak Org' } });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason: 'WEAK_PASSWORD', field: 'password' });
    expect(res.errors?.[0]?.message).toMatch(/too common/);
    expect(res.errors?.[0]?.extensions).toMatchObject({ weakness: 'TOO_COMMON' });
    expect(await writtenRows()).toEqual(before);
  });

  it('an expired access token is UNAUTHENTICATED TOKEN_EXPIRED', async () => {
    const owner = await signUp();
    // Signed with identity's own current key (read from its table), but already expired.
    const { rows } = await platform.pool.query<{ kid: string; algorithm: string; private_key_pem: string }>(
      `SELECT kid, algorithm, private_key_pem FROM "${platform.schemas.identity}".signing_keys WHERE retires_at IS NULL ORDER BY activates_at DESC LIMIT 1`,
    );
    const key = rows[0]!;
    const { sub, org, role, email: mail, sid, tv } = decodeJwt(owner.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ org, role, email: mail, sid, tv })
      .setProtectedHeader({ alg: key.algorithm, kid: key.kid })
      .setSubject(sub!)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(now - 1000)
      .setExpirationTime(now - 100)
      .sign(createPrivateKey(key.private_key_pem));
    const before = await writtenRows();
    const res = await platform.graphql('mutation { createApiKey(input: { name: "late", scopes: ["runs:read"] }) { key } }', {}, { token: expired });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(await writtenRows()).toEqual(before);
  });

  it('a tampered access token is UNAUTHENTICATED TOKEN_INVALID', async () => {
    const owner = await signUp();
    const [header, payload, signature] = owner.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'owner', org: '01900000-0000-7000-8000-00000000beef' })).toString('base64url');
    const before = await writtenRows();
    const res = await platform.graphql('mutation { createApiKey(input: { name: "forged", scopes: ["runs:read"] }) { key } }', {}, { token: `${header}.${promoted}.${signature}` });
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' });
    expect(await writtenRows()).toEqual(before);
  });

  it('a revoked API key is UNAUTHENTICATED API_KEY_REVOKED at once', async () => {
    const owner = await signUp();
    const created = await platform.graphql<{ createApiKey: { key: string; apiKey: { id: string } } }>(
      'mutation { createApiKey(input: { name: "ci", scopes: ["runs:read"] }) { key apiKey { id } } }',
      {},
      { token: owner.accessToken },
    );
    const { key, apiKey } = created.data!.createApiKey;
    expect((await platform.graphql('{ currentApiKey { id } }', {}, { apiKey: key })).data).toEqual({ currentApiKey: { id: apiKey.id } });
    await platform.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { status } }', { id: apiKey.id }, { token: owner.accessToken });
    const before = await writtenRows();
    // The gateway cached the key's check a moment ago; identity's revocation message evicts it.
    const refused = await eventually(
      async () => {
        const res = await platform.graphql('{ currentApiKey { id } }', {}, { apiKey: key });
        return res.errors ? res : undefined;
      },
      { what: 'the revoked key to be refused' },
    );
    expect(errorOf(refused)).toEqual({ code: 'UNAUTHENTICATED', reason: 'API_KEY_REVOKED' });
    expect(await writtenRows()).toEqual(before);
  });

  it('a refresh token that was tampered with or has expired gets its own reason', async () => {
    const owner = await signUp();
    const tampered = `${owner.refreshToken.slice(0, -1)}${owner.refreshToken.endsWith('a') ? 'b' : 'a'}`;
    expect(errorOf(await platform.graphql(REFRESH, { t: tampered }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_INVALID' });
    await platform.pool.query(
      `UPDATE "${platform.schemas.identity}".refresh_tokens SET expires_at = now() - interval '1 second'
        WHERE session_id IN (SELECT id FROM "${platform.schemas.identity}".sessions WHERE user_id = $1)`,
      [owner.user.id],
    );
    expect(errorOf(await platform.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_EXPIRED' });
  });
});
