import { recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { parseRowToken } from './opaque-tokens';
import { AUTH_FIELDS, errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness } from '../testing/harness';

let id: IdentityHarness;
let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  id = await startIdentity({ SMTP_URL: smtp.url, MAIL_FROM: 'Orchestra <no-reply@orchestra.test>', APP_URL: 'https://orchestra.test/', VERIFICATION_MAILS_PER_ACCOUNT: '3' });
});

afterAll(async () => {
  await id.stop();
  await smtp.stop();
});

const VERIFY = 'mutation($t: String!) { verifyEmail(token: $t) }';
const RESEND = 'mutation { resendVerificationEmail }';
const CHANGE_EMAIL = 'mutation($i: ChangeEmailInput!) { changeEmail(input: $i) }';
const ME = 'query { me { user { id email emailVerified pendingEmail } } }';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const INVITE = 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }';
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`;
const REQUEST_RESET = 'mutation($e: String!) { requestPasswordReset(email: $e) }';
const RESET = 'mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }';

const mailsTo = (email: string) => smtp.messages.filter((m) => recipientsOf(m).includes(email));

/** The token of the n-th mail to `email` whose link leads to `path`. */
async function tokenMailedTo(email: string, path: 'verify-email' | 'reset-password', nth = 1): Promise<string> {
  const linkOf = (text: string | undefined) => new RegExp(`https://orchestra\\.test/${path}\\?token=(\\S+)`).exec(text ?? '')?.[1];
  await smtp.waitFor(() => mailsTo(email).filter((m) => linkOf(m.text) !== undefined).length >= nth, 30_000);
  return decodeURIComponent(linkOf(mailsTo(email).filter((m) => linkOf(m.text) !== undefined)[nth - 1]!.text)!);
}

describe('e-mail verification', () => {
  it('mails a single-use link on sign-up; following it verifies the address, once, and is audited', async () => {
    const owner = await id.signUp();
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user).toMatchObject({ emailVerified: false, pendingEmail: null });
    const token = await tokenMailedTo(owner.user.email, 'verify-email');
    expect(mailsTo(owner.user.email)[0]!.subject).toBe('Verify your e-mail address for Orchestra');
    // Only a hash of the secret is stored.
    const { rows } = await id.pool.query('SELECT token_hash FROM email_verifications');
    // The secret is base64url: it may hold underscores itself, so it is read by the tokens' own parser.
    expect(JSON.stringify(rows)).not.toContain(parseRowToken('oev', token)!.secret);

    expect((await id.graphql(VERIFY, { t: token })).data).toEqual({ verifyEmail: true });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user.emailVerified).toBe(true);
    expect(errorOf(await id.graphql(VERIFY, { t: token }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'VERIFICATION_TOKEN_USED', field: 'token' });
    const audit = await id.auditEvents({ action: 'user.email_verified' });
    expect(audit.find((e) => e.targetId === owner.user.id && e.outcome === 'success')).toMatchObject({ orgId: owner.organization.id, diff: { email: owner.user.email, purpose: 'sign_up' } });
    // Verified: nothing to resend.
    expect(errorOf(await id.graphql(RESEND, {}, { token: owner.accessToken }))).toMatchObject({ code: 'CONFLICT', reason: 'EMAIL_ALREADY_VERIFIED' });
  });

  it('refuses made-up, tampered, replaced and expired links, naming the field', async () => {
    const owner = await id.signUp();
    const first = await tokenMailedTo(owner.user.email, 'verify-email', 1);
    expect((await id.graphql(RESEND, {}, { token: owner.accessToken })).data).toEqual({ resendVerificationEmail: true });
    const second = await tokenMailedTo(owner.user.email, 'verify-email', 2);
    expect(errorOf(await id.graphql(VERIFY, { t: first }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'VERIFICATION_TOKEN_USED', field: 'token' });
    expect(errorOf(await id.graphql(VERIFY, { t: 'oev_nonsense' }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'VERIFICATION_TOKEN_INVALID', field: 'token' });
    expect(errorOf(await id.graphql(VERIFY, { t: `${second.slice(0, -4)}AAAA` }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'VERIFICATION_TOKEN_INVALID', field: 'token' });
    await id.pool.query("UPDATE email_verifications SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    expect(errorOf(await id.graphql(VERIFY, { t: second }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'VERIFICATION_TOKEN_EXPIRED', field: 'token' });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user.emailVerified).toBe(false);
  });

  it('limits resends per account (the sign-up mail counts)', async () => {
    const owner = await id.signUp();
    expect((await id.graphql(RESEND, {}, { token: owner.accessToken })).errors).toBeUndefined();
    expect((await id.graphql(RESEND, {}, { token: owner.accessToken })).errors).toBeUndefined();
    const limited = await id.graphql(RESEND, {}, { token: owner.accessToken });
    expect(errorOf(limited)).toMatchObject({ code: 'RATE_LIMITED', reason: 'TOO_MANY_VERIFICATION_MAILS' });
    expect(limited.errors![0]!.extensions['retryAfterSeconds'] ?? limited.errors![0]!.extensions['details']).toBeDefined();
    await smtp.waitFor(() => mailsTo(owner.user.email).length >= 3, 30_000);
    expect(mailsTo(owner.user.email)).toHaveLength(3);
  });

  it('changes the address only when the link mailed to the new one is followed, and tells the old one', async () => {
    const owner = await id.signUp();
    const newEmail = uniqueEmail('moved');
    expect(errorOf(await id.graphql(CHANGE_EMAIL, { i: { newEmail: 'not an address', currentPassword: owner.password } }, { token: owner.accessToken }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'newEmail',
      reason: 'INVALID_EMAIL',
    });
    expect(errorOf(await id.graphql(CHANGE_EMAIL, { i: { newEmail, currentPassword: 'wrong-password-1' } }, { token: owner.accessToken }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'currentPassword',
      reason: 'INVALID_CREDENTIALS',
    });
    expect(errorOf(await id.graphql(CHANGE_EMAIL, { i: { newEmail: owner.user.email, currentPassword: owner.password } }, { token: owner.accessToken }))).toMatchObject({
      field: 'newEmail',
      reason: 'EMAIL_UNCHANGED',
    });
    const taken = await id.signUp();
    await id.pool.query('UPDATE users SET email_verified_at = now() WHERE id = $1', [taken.user.id]);
    expect(errorOf(await id.graphql(CHANGE_EMAIL, { i: { newEmail: taken.user.email, currentPassword: owner.password } }, { token: owner.accessToken }))).toMatchObject({
      code: 'CONFLICT',
      field: 'newEmail',
      reason: 'EMAIL_TAKEN',
    });

    expect((await id.graphql(CHANGE_EMAIL, { i: { newEmail: newEmail.toUpperCase(), currentPassword: owner.password } }, { token: owner.accessToken })).data).toEqual({ changeEmail: true });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user).toMatchObject({ email: owner.user.email, pendingEmail: newEmail });
    await smtp.waitFor(() => mailsTo(owner.user.email).some((m) => m.subject === 'Your Orchestra address is about to change'), 30_000);
    const token = await tokenMailedTo(newEmail, 'verify-email');
    expect((await id.graphql(VERIFY, { t: token })).data).toEqual({ verifyEmail: true });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user).toMatchObject({ email: newEmail, emailVerified: true, pendingEmail: null });
    expect((await id.graphql(LOGIN, { input: { email: newEmail, password: owner.password } })).errors).toBeUndefined();
    expect(errorOf(await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).reason).toBe('INVALID_CREDENTIALS');
    expect((await id.auditEvents({ action: 'user.email_verified' })).find((e) => e.targetId === owner.user.id)).toMatchObject({ diff: { purpose: 'change', from: owner.user.email, to: newEmail } });
  });

  it('keeps an unverified account out of other organizations until it verifies', async () => {
    const admin = await id.signUp();
    const invitee = await id.signUp();
    const invited = await id.graphql(INVITE, { i: { email: invitee.user.email, role: 'VIEWER' } }, { token: admin.accessToken });
    const refused = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password: invitee.password } });
    expect(errorOf(refused)).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_NOT_VERIFIED' });
    expect(await id.count('memberships')).toBeGreaterThan(0);
    const { rows } = await id.pool.query('SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2', [admin.organization.id, invitee.user.id]);
    expect(rows).toHaveLength(0);
    // A wrong password still says only that the password is wrong.
    expect(errorOf(await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password: 'not-the-password-1' } })).reason).toBe('INVALID_CREDENTIALS');

    await id.graphql(VERIFY, { t: await tokenMailedTo(invitee.user.email, 'verify-email') });
    const accepted = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password: invitee.password } });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptInvitation.organization.id).toBe(admin.organization.id);
  });

  it('a new account made by accepting an invitation verifies its address like a sign-up', async () => {
    const admin = await id.signUp();
    const email = uniqueEmail('newcomer');
    const invited = await id.graphql(INVITE, { i: { email, role: 'VIEWER' } }, { token: admin.accessToken });
    const accepted = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, name: 'Nia Newcomer', password: goodPassword() } });
    expect((await id.graphql(ME, {}, { token: accepted.data.acceptInvitation.accessToken })).data.me.user.emailVerified).toBe(false);
    await id.graphql(VERIFY, { t: await tokenMailedTo(email, 'verify-email') });
    expect((await id.graphql(ME, {}, { token: accepted.data.acceptInvitation.accessToken })).data.me.user.emailVerified).toBe(true);
  });
});

describe('a squatted address does not block its real owner', () => {
  it('the owner takes the account over with a password reset: it is verified and the squatter is signed out', async () => {
    const address = uniqueEmail('victim');
    const squatter = await id.signUp({ email: address });
    // Sign-up answers as before while the squatter's hold lasts...
    expect((await id.graphql('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', { i: { email: address, password: goodPassword(), name: 'Vic', organizationName: 'Vic Co' } })).errors?.[0]?.extensions['reason']).toBe(
      'EMAIL_TAKEN',
    );
    // ...and the mailbox decides: the reset link goes to the real owner.
    await id.graphql(REQUEST_RESET, { e: address });
    const resetToken = await tokenMailedTo(address, 'reset-password');
    const password = goodPassword();
    expect((await id.graphql(RESET, { i: { token: resetToken, newPassword: password } })).data).toEqual({ resetPassword: true });
    expect(await rejectionOf(id.authenticate({ accessToken: squatter.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    const owner = await id.graphql(LOGIN, { input: { email: address, password } });
    expect((await id.graphql(ME, {}, { token: owner.data.login.accessToken })).data.me.user.emailVerified).toBe(true);
  });

  it('a sign-up takes an address an unverified account has held past UNVERIFIED_ACCOUNT_HOLD_SECONDS', async () => {
    const address = uniqueEmail('late');
    const squatter = await id.signUp({ email: address });
    await id.pool.query("UPDATE users SET created_at = now() - interval '2 days' WHERE id = $1", [squatter.user.id]);
    const owner = await id.signUp({ email: address });
    expect(owner.user.id).not.toBe(squatter.user.id);
    expect(owner.user.email).toBe(address);
    expect(await rejectionOf(id.authenticate({ accessToken: squatter.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    const { rows } = await id.pool.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [squatter.user.id]);
    expect(rows[0]!.email).toMatch(/@orchestra\.invalid$/);
    expect((await id.auditEvents({ action: 'user.email_released' })).find((e) => e.targetId === squatter.user.id)).toMatchObject({ orgId: squatter.organization.id, diff: { email: address } });
    // A verified address is never taken.
    const verified = await id.signUp();
    await id.graphql(VERIFY, { t: await tokenMailedTo(verified.user.email, 'verify-email') });
    await id.pool.query("UPDATE users SET created_at = now() - interval '2 days' WHERE id = $1", [verified.user.id]);
    expect(errorOf(await id.graphql('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', { i: { email: verified.user.email, password: goodPassword(), name: 'X', organizationName: 'X Co' } })).reason).toBe(
      'EMAIL_TAKEN',
    );
  });

  it('verifying an e-mail change takes the address from an unverified holder', async () => {
    const address = uniqueEmail('contested');
    const squatter = await id.signUp({ email: address });
    const owner = await id.signUp();
    expect((await id.graphql(CHANGE_EMAIL, { i: { newEmail: address, currentPassword: owner.password } }, { token: owner.accessToken })).errors).toBeUndefined();
    const token = (await tokenMailedTo(address, 'verify-email', 2));
    expect((await id.graphql(VERIFY, { t: token })).data).toEqual({ verifyEmail: true });
    expect((await id.graphql(ME, {}, { token: owner.accessToken })).data.me.user).toMatchObject({ email: address, emailVerified: true });
    expect(await rejectionOf(id.authenticate({ accessToken: squatter.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
  });
});
