import { totpCode } from '../testing/totp-codes';
import { AUTH_FIELDS, errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness, type SignedIn } from '../testing/harness';

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity({ TWO_FACTOR_MAX_ATTEMPTS: '3' });
});

afterAll(async () => {
  await id.stop();
});

const START = 'mutation { startTwoFactorEnrollment { secret otpauthUrl } }';
const CONFIRM = 'mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }';
const DISABLE = 'mutation($p: String!) { disableTwoFactor(currentPassword: $p) }';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} twoFactorEnrollmentRequired } }`;
const COMPLETE = `mutation($i: CompleteTwoFactorSignInInput!) { completeTwoFactorSignIn(input: $i) { ${AUTH_FIELDS} } }`;
const ME = 'query { me { twoFactorEnrollmentRequired user { twoFactorEnabled } organization { requireTwoFactor } } }';
const REQUIRE = 'mutation($r: Boolean!) { setTwoFactorRequired(required: $r) { id requireTwoFactor } }';
const RESET = 'mutation($m: ID!) { resetMemberTwoFactor(membershipId: $m) { id user { id twoFactorEnabled } } }';
const INVITE = 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }';
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`;
const MEMBERS = 'query($s: String) { members(search: $s) { edges { node { id user { id } } } } }';

/** A code of the secret for the time step `offset` steps from now (so two codes in a row are distinct). */

/** Enrols the user; resolves to the secret and recovery codes. */
async function enrol(who: SignedIn): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await id.graphql(START, {}, { token: who.accessToken });
  expect(started.errors).toBeUndefined();
  const { secret, otpauthUrl } = started.data.startTwoFactorEnrollment;
  expect(otpauthUrl).toBe(`otpauth://totp/Orchestra:${encodeURIComponent(who.user.email)}?secret=${secret}&issuer=Orchestra`);
  const confirmed = await id.graphql(CONFIRM, { c: await totpCode(secret, -1) }, { token: who.accessToken });
  expect(confirmed.errors).toBeUndefined();
  return { secret, recoveryCodes: confirmed.data.confirmTwoFactorEnrollment.recoveryCodes };
}

/** The claims of an access token (the gateway reads `tfa`). */
const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} twoFactorEnrollmentRequired } }`;

/** Login answered TWO_FACTOR_REQUIRED: the challenge token. */
async function challengeFor(who: { email: string; password: string }): Promise<string> {
  const res = await id.graphql(LOGIN, { input: { email: who.email, password: who.password } });
  expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'TWO_FACTOR_REQUIRED' });
  const token = res.errors![0]!.extensions['challengeToken'];
  expect(typeof token).toBe('string');
  return token as string;
}

describe('TOTP two-factor sign-in', () => {
  it('enrols with a confirmation code; sign-in then asks for a code after the password, each code works once', async () => {
    const owner = await id.signUp();
    // Before confirmation nothing changes at sign-in.
    const started = await id.graphql(START, {}, { token: owner.accessToken });
    expect(errorOf(await id.graphql(CONFIRM, { c: '000000' }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE', field: 'code' });
    expect((await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).errors).toBeUndefined();
    expect(started.data.startTwoFactorEnrollment.secret).toMatch(/^[A-Z2-7]{32}$/);

    const { secret, recoveryCodes } = await enrol(owner);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(recoveryCodes.every((c) => /^[A-Z0-9]{5}-[A-Z0-9]{5}$/.test(c))).toBe(true);
    // Only hashes of the recovery codes are stored.
    const { rows } = await id.pool.query('SELECT code_hash FROM two_factor_recovery_codes');
    expect(JSON.stringify(rows)).not.toContain(recoveryCodes[0]!.replace('-', ''));
    expect(errorOf(await id.graphql(START, {}, { token: owner.accessToken }))).toMatchObject({ code: 'CONFLICT', reason: 'TWO_FACTOR_ALREADY_ENABLED' });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user.twoFactorEnabled).toBe(true);

    const challenge = await challengeFor({ email: owner.user.email, password: owner.password });
    const code = await totpCode(secret, 1);
    const signedIn = await id.graphql(COMPLETE, { i: { challengeToken: challenge, code } });
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data.completeTwoFactorSignIn).toMatchObject({ user: { id: owner.user.id }, organization: { id: owner.organization.id } });
    expect(await id.authenticate({ accessToken: signedIn.data.completeTwoFactorSignIn.accessToken })).toMatchObject({ userId: owner.user.id });
    // The challenge is spent, and the code cannot be used again on a new one (replay).
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: challenge, code } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'challengeToken', reason: 'TWO_FACTOR_CHALLENGE_CLOSED' });
    const again = await challengeFor({ email: owner.user.email, password: owner.password });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: again, code } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE', field: 'code' });
    // A wrong password never reaches the second step.
    expect(errorOf(await id.graphql(LOGIN, { input: { email: owner.user.email, password: 'Wrong-password-123' } })).reason).toBe('INVALID_CREDENTIALS');
    const audit = await id.auditEvents({ action: 'auth.login' });
    expect(audit.find((e) => e.targetId === owner.user.id && e.diff?.secondFactor === 'totp')).toMatchObject({ outcome: 'success', orgId: owner.organization.id });
    expect((await id.auditEvents({ action: 'user.two_factor_enabled' })).some((e) => e.targetId === owner.user.id)).toBe(true);
  });

  it('takes each recovery code once; bounds the attempts of a challenge; names the field of a code of the wrong length', async () => {
    const owner = await id.signUp();
    const { recoveryCodes } = await enrol(owner);
    const first = await challengeFor({ email: owner.user.email, password: owner.password });
    expect((await id.graphql(COMPLETE, { i: { challengeToken: first, code: recoveryCodes[0]!.toLowerCase() } })).errors).toBeUndefined();
    const second = await challengeFor({ email: owner.user.email, password: owner.password });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: second, code: recoveryCodes[0]! } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE', field: 'code' });

    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: second, code: '12345' } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE_LENGTH', field: 'code' });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: second, code: '1234567' } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE_LENGTH', field: 'code' });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: second, code: 'ABC' } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE_LENGTH', field: 'code' });
    expect(errorOf(await id.graphql(CONFIRM, { c: '12 34' }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE_LENGTH', field: 'code' });
    // TWO_FACTOR_MAX_ATTEMPTS is 3 here: one wrong code above, two more close the challenge, even to the right code.
    await id.graphql(COMPLETE, { i: { challengeToken: second, code: '000000' } });
    const last = await id.graphql(COMPLETE, { i: { challengeToken: second, code: '000001' } });
    expect(last.errors![0]!.message).toMatch(/last attempt/);
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: second, code: recoveryCodes[1]! } }))).toMatchObject({ reason: 'TWO_FACTOR_CHALLENGE_CLOSED', field: 'challengeToken' });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: 'otf_made_up', code: '123456' } }))).toMatchObject({ reason: 'TWO_FACTOR_CHALLENGE_INVALID', field: 'challengeToken' });
    // An expired challenge.
    const third = await challengeFor({ email: owner.user.email, password: owner.password });
    await id.pool.query("UPDATE two_factor_challenges SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: third, code: recoveryCodes[1]! } }))).toMatchObject({ reason: 'TWO_FACTOR_CHALLENGE_EXPIRED' });
  });

  it('turns off with the password only', async () => {
    const owner = await id.signUp();
    await enrol(owner);
    expect(errorOf(await id.graphql(DISABLE, { p: 'Wrong-password-123' }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CREDENTIALS', field: 'currentPassword' });
    expect((await id.graphql(DISABLE, { p: owner.password }, { token: owner.accessToken })).data).toEqual({ disableTwoFactor: true });
    expect((await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).errors).toBeUndefined();
  });

  it('an organization can require it: members without it are told to enrol; admins reset a member (audited); org B cannot touch org A', async () => {
    const owner = await id.signUp();
    const email = uniqueEmail('member');
    const password = goodPassword();
    const invited = await id.graphql(INVITE, { i: { email, role: 'OPERATOR' } }, { token: owner.accessToken });
    const member = (await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, name: 'Max Member', password } })).data.acceptInvitation;

    expect((await id.graphql(REQUIRE, { r: true }, { token: member.accessToken })).errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
    // An admin without a second factor cannot require one (it would restrict their own access at once).
    expect(errorOf(await id.graphql(REQUIRE, { r: true }, { token: owner.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'TWO_FACTOR_NOT_ENABLED' });
    await enrol(owner);
    // No organization of the owner required it: their tokens stay as they are.
    const ownerNow = owner;
    expect(await id.authenticate({ accessToken: owner.accessToken })).toMatchObject({ userId: owner.user.id });
    expect(claimsOf(member.accessToken)['tfa']).toBeUndefined();
    expect((await id.graphql(REQUIRE, { r: true }, { token: ownerNow.accessToken })).data.setTwoFactorRequired).toEqual({ id: owner.organization.id, requireTwoFactor: true });
    expect((await id.auditEvents({ action: 'organization.require_two_factor' })).find((e) => e.targetId === owner.organization.id)).toMatchObject({ diff: { after: { requireTwoFactor: true } } });
    // The member's tokens from before the requirement stop working; the enrolled owner's do not.
    expect(await rejectionOf(id.authenticate({ accessToken: member.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(await id.authenticate({ accessToken: ownerNow.accessToken })).toMatchObject({ userId: owner.user.id });
    // New tokens of the member carry the mark the gateway restricts to enrolment (tfa: 'required'); the owner's do not.
    const login = await id.graphql(LOGIN, { input: { email, password } });
    expect(login.data.login.twoFactorEnrollmentRequired).toBe(true);
    expect(claimsOf(login.data.login.accessToken)['tfa']).toBe('required');
    expect(claimsOf(ownerNow.accessToken)['tfa']).toBeUndefined();
    const refreshed = (await id.graphql(REFRESH, { t: member.refreshToken })).data.refreshToken;
    expect(claimsOf(refreshed.accessToken)['tfa']).toBe('required');
    expect((await id.graphql(ME, {}, { token: login.data.login.accessToken })).data.me).toMatchObject({ twoFactorEnrollmentRequired: true, organization: { requireTwoFactor: true } });
    const signedIn = { ...member, ...login.data.login, password, user: { ...member.user, email } };
    const { secret } = await enrol(signedIn);
    // Enrolled: the restricted token is revoked, and a refresh gives one without the mark.
    expect(await rejectionOf(id.authenticate({ accessToken: login.data.login.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    const unrestricted = (await id.graphql(REFRESH, { t: login.data.login.refreshToken })).data.refreshToken;
    expect(unrestricted.twoFactorEnrollmentRequired).toBe(false);
    expect(claimsOf(unrestricted.accessToken)['tfa']).toBeUndefined();
    expect((await id.graphql(ME, {}, { token: unrestricted.accessToken })).data.me.twoFactorEnrollmentRequired).toBe(false);

    // Another organization's admin can neither reset this member nor change this org's setting.
    const other = await id.signUp();
    const membershipId = (await id.graphql(MEMBERS, { s: email }, { token: ownerNow.accessToken })).data.members.edges[0].node.id;
    expect(errorOf(await id.graphql(RESET, { m: membershipId }, { token: other.accessToken }))).toMatchObject({ code: 'NOT_FOUND' });
    expect((await id.graphql(ME, {}, { token: other.accessToken })).data.me.organization.requireTwoFactor).toBe(false);

    // The admin resets the member's second factor: their sessions end, the password alone signs in (and enrolment is asked again).
    const challenge = await challengeFor({ email, password });
    const reset = await id.graphql(RESET, { m: membershipId }, { token: ownerNow.accessToken });
    expect(reset.data.resetMemberTwoFactor).toMatchObject({ id: membershipId, user: { twoFactorEnabled: false } });
    expect(await rejectionOf(id.authenticate({ accessToken: unrestricted.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(errorOf(await id.graphql(COMPLETE, { i: { challengeToken: challenge, code: await totpCode(secret, 1) } })).field).toBe('challengeToken');
    const after = await id.graphql(LOGIN, { input: { email, password } });
    expect(after.errors).toBeUndefined();
    expect(after.data.login.twoFactorEnrollmentRequired).toBe(true);
    expect(claimsOf(after.data.login.accessToken)['tfa']).toBe('required');
    const resets = (await id.auditEvents({ action: 'member.two_factor_reset' })).filter((e) => e.targetId === membershipId);
    expect(resets.find((e) => e.outcome === 'success')).toMatchObject({ orgId: owner.organization.id, diff: { userId: member.user.id } });
    // Org B's refused attempt is in B's trail, not A's.
    expect(resets.find((e) => e.outcome === 'NOT_FOUND')).toMatchObject({ orgId: other.organization.id });
    expect(errorOf(await id.graphql(RESET, { m: membershipId }, { token: ownerNow.accessToken }))).toMatchObject({ code: 'CONFLICT', reason: 'TWO_FACTOR_NOT_ENABLED' });

    // Turning the requirement off re-issues the member's tokens without the mark.
    expect((await id.graphql(REQUIRE, { r: false }, { token: ownerNow.accessToken })).data.setTwoFactorRequired.requireTwoFactor).toBe(false);
    expect(await rejectionOf(id.authenticate({ accessToken: after.data.login.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(claimsOf((await id.graphql(REFRESH, { t: after.data.login.refreshToken })).data.refreshToken.accessToken)['tfa']).toBeUndefined();
  });

  it('accepting an invitation as an existing account with two-factor asks for a code', async () => {
    const admin = await id.signUp();
    const invitee = await id.signUp();
    await id.verifyEmail(invitee.user.email);
    const { secret } = await enrol(invitee);
    const invited = await id.graphql(INVITE, { i: { email: invitee.user.email, role: 'VIEWER' } }, { token: admin.accessToken });
    const token = invited.data.inviteMember.token;
    expect(errorOf(await id.graphql(ACCEPT, { i: { token, password: invitee.password } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'TWO_FACTOR_REQUIRED', field: 'twoFactorCode' });
    expect(errorOf(await id.graphql(ACCEPT, { i: { token, password: invitee.password, twoFactorCode: '000000' } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CODE', field: 'twoFactorCode' });
    const accepted = await id.graphql(ACCEPT, { i: { token, password: invitee.password, twoFactorCode: await totpCode(secret, 1) } });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptInvitation.organization.id).toBe(admin.organization.id);
  });
});
