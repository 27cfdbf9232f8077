import { AUTH_FIELDS, errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness } from '../testing/harness';

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '6' });
});

afterAll(async () => {
  await id.stop();
});

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;
const ME = '{ me { role user { id email name } organization { id name } memberships { role organization { id name } } } }';

/** Moves the trade of a refresh token past the reuse grace (auth/refresh-grace.test.ts covers the grace itself). */
const afterReuseGrace = async (refreshToken: string) => {
  const hex = /^ort_([0-9a-f]{32})_/.exec(refreshToken)![1]!;
  await id.pool.query('UPDATE refresh_tokens SET used_at = used_at - make_interval(secs => $2) WHERE id = $1::uuid', [hex, id.config.REFRESH_TOKEN_REUSE_GRACE_SECONDS + 1]);
};

/** Rows that sign-up and sign-in write; "nothing is written" means none of these change. */
const writtenRows = async () => ({
  organizations: await id.count('organizations'),
  users: await id.count('users'),
  memberships: await id.count('memberships'),
  sessions: await id.count('sessions'),
  refresh_tokens: await id.count('refresh_tokens'),
});

describe('sign-up', () => {
  it('creates the organization and its owner and signs the owner in', async () => {
    const email = uniqueEmail('Founder').toUpperCase();
    const res = await id.graphql(SIGN_UP, { input: { email, password: goodPassword(), name: 'Fay Founder', organizationName: 'Acme AI' } });
    expect(res.errors).toBeUndefined();
    const payload = res.data.signUp;
    expect(payload).toMatchObject({ tokenType: 'Bearer', role: 'OWNER', user: { email: email.toLowerCase(), name: 'Fay Founder' }, organization: { name: 'Acme AI' } });
    expect(new Date(payload.accessTokenExpiresAt).getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(payload.refreshToken).toMatch(/^ort_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);

    const me = await id.graphql(ME, {}, { token: payload.accessToken });
    expect(me.data.me).toMatchObject({ role: 'OWNER', user: { id: payload.user.id }, organization: { id: payload.organization.id }, memberships: [{ role: 'OWNER', organization: { name: 'Acme AI' } }] });

    const [event] = await id.auditEvents({ action: 'organization.sign_up' }).then((es) => es.filter((e) => e.targetId === payload.organization.id));
    expect(event).toMatchObject({ outcome: 'success', orgId: payload.organization.id, actor: { kind: 'user', id: payload.user.id } });
    expect(JSON.stringify(event)).not.toContain('Correct-Horse');
  });

  it('stores only an argon2id hash of the password', async () => {
    const password = goodPassword();
    const owner = await id.signUp({ password });
    const { rows } = await id.pool.query<{ password_hash: string }>('SELECT password_hash FROM user_passwords WHERE user_id = $1', [owner.user.id]);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(rows[0]!.password_hash).not.toContain(password);
  });

  it.each([
    ['a malformed email', { email: 'not-an-email' }, 'email', 'INVALID_EMAIL'],
    ['an email without a domain dot', { email: 'someone@localhost' }, 'email', 'INVALID_EMAIL'],
    ['a short password', { password: 'Sh0rt!' }, 'password', 'WEAK_PASSWORD'],
    ['a common password', { password: 'Password2024!' }, 'password', 'WEAK_PASSWORD'],
    ['a password made of the email', { email: 'margaret.hamilton@example.com', password: 'margaret.hamilton99' }, 'password', 'WEAK_PASSWORD'],
    ['an empty organization name', { organizationName: '   ' }, 'organizationName', 'REQUIRED'],
    ['an empty name', { name: '' }, 'name', 'REQUIRED'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_what, overrides, field, reason) => {
    const before = await writtenRows();
    const input = { email: uniqueEmail(), password: goodPassword(), name: 'Nina New', organizationName: 'Nope Inc', ...overrides };
    const res = await id.graphql(SIGN_UP, { input });
    expect(res.data).toBeNull();
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason, field });
    expect(await writtenRows()).toEqual(before);
  });

  it('says why a password is weak', async () => {
    const res = await id.graphql(SIGN_UP, { input: { email: uniqueEmail(), password: 'aaaaaaaaaaaa', name: 'Nina New', organizationName: 'Nope' } });
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringContaining('too simple'), extensions: { weakness: 'TOO_SIMPLE' } });
    const short = await id.graphql(SIGN_UP, { input: { email: uniqueEmail(), password: 'x1!Y', name: 'Nina New', organizationName: 'Nope' } });
    expect(short.errors?.[0]).toMatchObject({ message: 'password is too short: use at least 10 characters', extensions: { weakness: 'TOO_SHORT', minLength: 10 } });
  });

  it('refuses an email that already has an account (CONFLICT EMAIL_TAKEN), writing nothing', async () => {
    const owner = await id.signUp();
    const before = await writtenRows();
    const res = await id.graphql(SIGN_UP, { input: { email: owner.user.email.toUpperCase(), password: goodPassword(), name: 'Copy Cat', organizationName: 'Copy' } });
    expect(errorOf(res)).toEqual({ code: 'CONFLICT', reason: 'EMAIL_TAKEN', field: 'email' });
    expect(await writtenRows()).toEqual(before);
  });
});

describe('login', () => {
  it('signs in with email and password (any casing of the email)', async () => {
    const owner = await id.signUp();
    const res = await id.graphql(LOGIN, { input: { email: ` ${owner.user.email.toUpperCase()} `, password: owner.password } });
    expect(res.errors).toBeUndefined();
    expect(res.data.login).toMatchObject({ role: 'OWNER', user: { id: owner.user.id }, organization: { id: owner.organization.id } });
    const principal = await id.authenticate({ accessToken: res.data.login.accessToken });
    expect(principal).toMatchObject({ kind: 'user', id: owner.user.id, orgId: owner.organization.id, role: 'owner', display: owner.user.email });
    expect(await id.auditEvents({ action: 'auth.login' })).toContainEqual(expect.objectContaining({ outcome: 'success', targetId: owner.user.id, orgId: owner.organization.id }));
  });

  it('gives wrong password and unknown user the same answer, and writes no session', async () => {
    const owner = await id.signUp();
    const before = await writtenRows();
    const wrong = await id.graphql(LOGIN, { input: { email: owner.user.email, password: 'Not-The-Password-1' } });
    const unknownEmail = uniqueEmail('ghost');
    const unknown = await id.graphql(LOGIN, { input: { email: unknownEmail, password: 'Not-The-Password-1' } });
    expect(errorOf(wrong)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    expect(errorOf(unknown)).toEqual(errorOf(wrong));
    expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
    expect(await writtenRows()).toEqual(before);
    // lib records the failed mutation as an audit event with its outcome.
    const failures = (await id.auditEvents({ action: 'auth.login' })).filter((e) => e.outcome === 'UNAUTHENTICATED');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    // The failure against a real account is in its organization's trail (its admins see it), once;
    // the one against an unknown email is in the platform chain. The client cannot tell them apart.
    const onOwner = failures.filter((e) => e.targetId === owner.user.id);
    expect(onOwner.map((e) => [e.orgId, e.actor.kind, e.diff.email])).toEqual([[owner.organization.id, 'anonymous', owner.user.email]]);
    expect(failures.filter((e) => e.diff.email === unknownEmail).map((e) => e.orgId)).toEqual([null]);
  });

  it('refuses a malformed email as BAD_USER_INPUT INVALID_EMAIL', async () => {
    const res = await id.graphql(LOGIN, { input: { email: 'nobody at example', password: 'whatever-it-is' } });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
  });

  it('rate limits failures per account across clients for a client that never signed in to it, with a retry-after, even for the right password', async () => {
    const owner = await id.signUp();
    for (let i = 0; i < 3; i += 1) {
      const res = await id.graphql(LOGIN, { input: { email: owner.user.email, password: `wrong-password-${i}` } }, id.anonymous());
      expect(errorOf(res).reason).toBe('INVALID_CREDENTIALS');
    }
    const blocked = await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } }, id.anonymous());
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'TOO_MANY_FAILED_SIGN_INS' });
    expect(blocked.errors?.[0]?.extensions['retryAfterSeconds']).toBeGreaterThan(0);
    // Another account from the same IPs is not affected.
    const other = await id.signUp();
    expect((await id.graphql(LOGIN, { input: { email: other.user.email, password: other.password } }, id.anonymous())).errors).toBeUndefined();
  });

  it('rate limits failures per IP across accounts', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 6; i += 1) {
      const res = await id.graphql(LOGIN, { input: { email: uniqueEmail('spray'), password: 'Spray-Attack-123' } }, id.anonymous(ip));
      expect(errorOf(res).reason).toBe('INVALID_CREDENTIALS');
    }
    const owner = await id.signUp();
    const blocked = await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } }, id.anonymous(ip));
    expect(errorOf(blocked)).toEqual({ code: 'RATE_LIMITED', reason: 'TOO_MANY_FAILED_SIGN_INS' });
  });

  it('signs in to the requested organization, or refuses one the user is not in', async () => {
    const a = await id.signUp();
    const b = await id.signUp();
    const into = await id.graphql(LOGIN, { input: { email: a.user.email, password: a.password, organizationId: a.organization.id } });
    expect(into.data.login.organization.id).toBe(a.organization.id);
    const foreign = await id.graphql(LOGIN, { input: { email: a.user.email, password: a.password, organizationId: b.organization.id } });
    expect(errorOf(foreign)).toEqual({ code: 'FORBIDDEN', reason: 'NOT_A_MEMBER', field: 'organizationId' });
    const malformed = await id.graphql(LOGIN, { input: { email: a.user.email, password: a.password, organizationId: 'nope' } });
    expect(errorOf(malformed)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_ID', field: 'organizationId' });
  });
});

describe('refresh tokens', () => {
  it('rotate on every use: the new pair works, the old refresh token does not', async () => {
    const owner = await id.signUp();
    const first = await id.graphql(REFRESH, { t: owner.refreshToken });
    expect(first.errors).toBeUndefined();
    const rotated = first.data.refreshToken;
    expect(rotated.refreshToken).not.toBe(owner.refreshToken);
    expect(rotated).toMatchObject({ role: 'OWNER', user: { id: owner.user.id }, organization: { id: owner.organization.id } });
    expect((await id.graphql(ME, {}, { token: rotated.accessToken })).data.me.user.id).toBe(owner.user.id);
    const second = await id.graphql(REFRESH, { t: rotated.refreshToken });
    expect(second.errors).toBeUndefined();
    const { rows } = await id.pool.query('SELECT token_hash FROM refresh_tokens');
    // The secret is everything after `<prefix>_<id>_`: base64url, so it may itself hold underscores (split('_')[2]
    // once gave the one-letter fragment "O", which some hash contained).
    const secret = (second.data.refreshToken.refreshToken as string).split('_').slice(2).join('_');
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('reuse of a rotated token revokes the whole family, its access tokens, and is audited', async () => {
    const owner = await id.signUp();
    const next = (await id.graphql(REFRESH, { t: owner.refreshToken })).data.refreshToken;
    await afterReuseGrace(owner.refreshToken);
    const reuse = await id.graphql(REFRESH, { t: owner.refreshToken });
    expect(errorOf(reuse)).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    // The newest token of the family is dead too, and so are the family's access tokens.
    expect(errorOf(await id.graphql(REFRESH, { t: next.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    expect(await rejectionOf(id.authenticate({ accessToken: next.accessToken }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    const reuseEvents = (await id.auditEvents({ action: 'auth.refresh_token_reused' })).filter((e) => e.orgId === owner.organization.id);
    expect(reuseEvents).toHaveLength(1);
    expect(reuseEvents[0]).toMatchObject({ outcome: 'UNAUTHENTICATED', diff: { userId: owner.user.id, sessionRevoked: true } });
    // Other sessions of the same user live on.
    const other = await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } });
    expect((await id.graphql(REFRESH, { t: other.data.login.refreshToken })).errors).toBeUndefined();
  });

  it('gives expired, tampered and unknown tokens their own reasons', async () => {
    const owner = await id.signUp();
    const [, hex, secret] = /^ort_([0-9a-f]{32})_(.+)$/.exec(owner.refreshToken)!;
    const flipped = secret!.startsWith('A') ? `B${secret!.slice(1)}` : `A${secret!.slice(1)}`;
    expect(errorOf(await id.graphql(REFRESH, { t: `ort_${hex}_${flipped}` }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_INVALID' });
    expect(errorOf(await id.graphql(REFRESH, { t: 'garbage' }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_INVALID' });
    await id.pool.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)", [owner.user.id]);
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_EXPIRED' });
  });

  it('the tampered attempt did not spend the real token', async () => {
    const owner = await id.signUp();
    const tampered = `${owner.refreshToken.slice(0, -1)}${owner.refreshToken.endsWith('x') ? 'y' : 'x'}`;
    expect(errorOf(await id.graphql(REFRESH, { t: tampered })).reason).toBe('REFRESH_TOKEN_INVALID');
    expect((await id.graphql(REFRESH, { t: owner.refreshToken })).errors).toBeUndefined();
  });
});

describe('logout', () => {
  it('ends the session: its refresh token and access tokens stop working', async () => {
    const owner = await id.signUp();
    const res = await id.graphql('mutation($t: String!) { logout(refreshToken: $t) }', { t: owner.refreshToken });
    expect(res.data).toEqual({ logout: true });
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    expect(await rejectionOf(id.authenticate({ accessToken: owner.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED', message: expect.stringContaining('session has ended') });
    expect(await id.auditEvents({ action: 'auth.logout' })).toContainEqual(expect.objectContaining({ outcome: 'success', orgId: owner.organization.id }));
  });

  it('logoutEverywhere ends every session of the user and makes every access token stale', async () => {
    const owner = await id.signUp();
    const second = (await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).data.login;
    const res = await id.graphql('mutation { logoutEverywhere }', {}, { token: second.accessToken });
    expect(res.data).toEqual({ logoutEverywhere: true });
    for (const session of [owner, second]) {
      expect(errorOf(await id.graphql(REFRESH, { t: session.refreshToken })).reason).toBe('REFRESH_TOKEN_REVOKED');
      expect(await rejectionOf(id.authenticate({ accessToken: session.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED', message: expect.stringContaining('out of date') });
    }
    // Signing in again works and carries the new token version.
    const again = (await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).data.login;
    expect(await id.authenticate({ accessToken: again.accessToken })).toMatchObject({ id: owner.user.id });
  });

  it('logoutEverywhere needs a signed-in user', async () => {
    expect(errorOf(await id.graphql('mutation { logoutEverywhere }'))).toEqual({ code: 'UNAUTHENTICATED', reason: 'SIGN_IN_REQUIRED' });
  });
});

describe('switching organizations', () => {
  it('issues tokens for another organization of the user, moving the session when given its refresh token', async () => {
    const owner = await id.signUp();
    const created = await id.graphql('mutation { createOrganization(input: { name: "Second Org" }) { id name } }', {}, { token: owner.accessToken });
    expect(created.errors).toBeUndefined();
    const secondOrg = created.data.createOrganization.id;

    const moved = await id.graphql(
      `mutation($org: ID!, $t: String) { switchOrganization(organizationId: $org, refreshToken: $t) { ${AUTH_FIELDS} } }`,
      { org: secondOrg, t: owner.refreshToken },
      { token: owner.accessToken },
    );
    expect(moved.errors).toBeUndefined();
    expect(moved.data.switchOrganization).toMatchObject({ role: 'OWNER', organization: { id: secondOrg, name: 'Second Org' } });
    expect((await id.authenticate({ accessToken: moved.data.switchOrganization.accessToken })).orgId).toBe(secondOrg);
    // The session's old refresh token was rotated away (and is reuse once the reuse grace is over).
    await afterReuseGrace(owner.refreshToken);
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken })).reason).toBe('REFRESH_TOKEN_REUSED');

    // Login without an organization goes back to the one used last.
    const login = await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } });
    expect(login.data.login.organization.id).toBe(secondOrg);
    const me = await id.graphql(ME, {}, { token: login.data.login.accessToken });
    expect(me.data.me.memberships.map((m: any) => m.organization.id).sort()).toEqual([owner.organization.id, secondOrg].sort());
  });

  it('never lengthens what the caller holds (issue 9, item 2)', async () => {
    const SWITCH = `mutation($org: ID!, $t: String) { switchOrganization(organizationId: $org, refreshToken: $t) { ${AUTH_FIELDS} } }`;
    const owner = await id.signUp();
    const signedUp = await id.graphql(REFRESH, { t: owner.refreshToken });
    const held = signedUp.data.refreshToken;
    const second = (await id.graphql('mutation { createOrganization(input: { name: "Second Org" }) { id } }', {}, { token: held.accessToken })).data.createOrganization.id;

    // From an access token alone: the new session ends when that access token would have.
    const accessExpiry = Date.parse(held.accessTokenExpiresAt);
    const bare = await id.graphql(SWITCH, { org: second }, { token: held.accessToken });
    expect(bare.errors).toBeUndefined();
    expect(Date.parse(bare.data.switchOrganization.accessTokenExpiresAt)).toBeLessThanOrEqual(accessExpiry);
    expect(Date.parse(bare.data.switchOrganization.refreshTokenExpiresAt)).toBeLessThanOrEqual(accessExpiry);
    // ...and refreshing that session does not take it past its end either.
    const refreshed = await id.graphql(REFRESH, { t: bare.data.switchOrganization.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    expect(Date.parse(refreshed.data.refreshToken.refreshTokenExpiresAt)).toBeLessThanOrEqual(accessExpiry);
    expect(Date.parse(refreshed.data.refreshToken.accessTokenExpiresAt)).toBeLessThanOrEqual(accessExpiry);

    // With a refresh token: the session moves and keeps that token's expiry.
    const moved = await id.graphql(SWITCH, { org: second, t: held.refreshToken }, { token: held.accessToken });
    expect(moved.errors).toBeUndefined();
    expect(Date.parse(moved.data.switchOrganization.refreshTokenExpiresAt)).toBeLessThanOrEqual(Date.parse(held.refreshTokenExpiresAt));

    // An access token already past its expiry (as the gateway would tell) gets nothing.
    const principal = { ...(await id.authenticate({ accessToken: held.accessToken })), tokenExpiresAt: Math.floor(Date.now() / 1000) - 5 };
    expect(errorOf(await id.graphql(SWITCH, { org: owner.organization.id }, principal))).toEqual({ code: 'UNAUTHENTICATED', reason: 'SESSION_EXPIRED' });
    // A principal that says nothing of its expiry gets a session no longer than one access token.
    const unknown = await id.graphql(SWITCH, { org: owner.organization.id }, { ...principal, tokenExpiresAt: undefined });
    expect(Date.parse(unknown.data.switchOrganization.refreshTokenExpiresAt)).toBeLessThanOrEqual(Date.now() + id.config.ACCESS_TOKEN_TTL_SECONDS * 1000 + 1000);
  });

  it('refuses an organization the user does not belong to', async () => {
    const a = await id.signUp();
    const b = await id.signUp();
    const res = await id.graphql(`mutation($org: ID!) { switchOrganization(organizationId: $org) { ${AUTH_FIELDS} } }`, { org: b.organization.id }, { token: a.accessToken });
    expect(errorOf(res)).toEqual({ code: 'FORBIDDEN', reason: 'NOT_A_MEMBER', field: 'organizationId' });
  });
});

describe('password change', () => {
  it('checks the current password, ends every session and returns a new one', async () => {
    const owner = await id.signUp();
    const wrong = await id.graphql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ${AUTH_FIELDS} } }`, { i: { currentPassword: 'Wrong-Password-1', newPassword: goodPassword() } }, { token: owner.accessToken });
    expect(errorOf(wrong)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CREDENTIALS', field: 'currentPassword' });
    const weak = await id.graphql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ${AUTH_FIELDS} } }`, { i: { currentPassword: owner.password, newPassword: 'qwertyuiop' } }, { token: owner.accessToken });
    expect(errorOf(weak)).toEqual({ code: 'BAD_USER_INPUT', reason: 'WEAK_PASSWORD', field: 'newPassword' });

    const newPassword = goodPassword();
    const res = await id.graphql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ${AUTH_FIELDS} } }`, { i: { currentPassword: owner.password, newPassword } }, { token: owner.accessToken });
    expect(res.errors).toBeUndefined();
    expect(await rejectionOf(id.authenticate({ accessToken: owner.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken })).reason).toBe('REFRESH_TOKEN_REVOKED');
    expect(await id.authenticate({ accessToken: res.data.changePassword.accessToken })).toMatchObject({ id: owner.user.id });
    expect(errorOf(await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).reason).toBe('INVALID_CREDENTIALS');
    expect((await id.graphql(LOGIN, { input: { email: owner.user.email, password: newPassword } })).errors).toBeUndefined();
  });
});
