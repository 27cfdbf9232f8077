import { recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { parseRowToken } from './opaque-tokens';
import { AUTH_FIELDS, errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness } from '../testing/harness';

let id: IdentityHarness;
let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  id = await startIdentity({ SMTP_URL: smtp.url, MAIL_FROM: 'Orchestra <no-reply@orchestra.test>', APP_URL: 'https://orchestra.test/' });
});

afterAll(async () => {
  await id.stop();
  await smtp.stop();
});

const REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';
const RESET = 'mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;

/** Asks for a reset of `email` and reads the token from the link in the n-th reset mail to that address (sign-up also mails it a verification link). */
async function resetTokenFor(email: string, nth = 1): Promise<string> {
  const res = await id.graphql(REQUEST, { e: email.toUpperCase() });
  expect(res.data).toEqual({ requestPasswordReset: true });
  const resetMails = () => smtp.messages.filter((m) => recipientsOf(m).includes(email) && m.subject === 'Reset your Orchestra password');
  await smtp.waitFor(() => resetMails().length >= nth);
  const mail = resetMails()[nth - 1]!;
  const link = /https:\/\/orchestra\.test\/reset-password\?token=(\S+)/.exec(mail.text ?? '');
  expect(link).not.toBeNull();
  return decodeURIComponent(link![1]!);
}

describe('password reset by e-mail (issue 13)', () => {
  it('mails a single-use link; using it sets the password, ends every session and is audited', async () => {
    const owner = await id.signUp();
    const token = await resetTokenFor(owner.user.email);
    const mail = smtp.messages.find((m) => recipientsOf(m).includes(owner.user.email) && m.subject === 'Reset your Orchestra password')!;
    expect(mail.html).toContain('https://orchestra.test/reset-password?token=');
    // Only a hash of the secret is stored.
    const { rows } = await id.pool.query('SELECT token_hash FROM password_resets');
    // The secret is base64url: it may hold underscores itself, so it is read by the tokens' own parser.
    expect(JSON.stringify(rows)).not.toContain(parseRowToken('opr', token)!.secret);

    const newPassword = goodPassword();
    expect((await id.graphql(RESET, { i: { token, newPassword } })).data).toEqual({ resetPassword: true });
    expect(await rejectionOf(id.authenticate({ accessToken: owner.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(errorOf(await id.graphql(REFRESH, { t: owner.refreshToken })).reason).toBe('REFRESH_TOKEN_REVOKED');
    expect(errorOf(await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).reason).toBe('INVALID_CREDENTIALS');
    expect((await id.graphql(LOGIN, { input: { email: owner.user.email, password: newPassword } })).errors).toBeUndefined();

    // Once only.
    expect(errorOf(await id.graphql(RESET, { i: { token, newPassword: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESET_TOKEN_USED', field: 'token' });
    const audit = await id.auditEvents({ action: 'auth.password_reset' });
    expect(audit.find((e) => e.targetId === owner.user.id && e.outcome === 'success')).toMatchObject({ orgId: owner.organization.id, diff: { sessionsEnded: 1 } });
    expect((await id.auditEvents({ action: 'auth.password_reset_requested' })).some((e) => e.targetId === owner.user.id)).toBe(true);
  });

  it('answers an unknown address exactly as a known one, and mails nothing to it', async () => {
    const unknown = uniqueEmail('nobody');
    const owner = await id.signUp();
    const a = await id.graphql(REQUEST, { e: unknown });
    const b = await id.graphql(REQUEST, { e: owner.user.email });
    expect(a).toEqual(b);
    await smtp.waitFor((m) => recipientsOf(m).includes(owner.user.email));
    expect(smtp.messages.some((m) => recipientsOf(m).includes(unknown))).toBe(false);
    expect(errorOf(await id.graphql(REQUEST, { e: 'not-an-address' }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
  });

  it('refuses expired, replaced and made-up tokens, naming the field; a weak password does not spend the token', async () => {
    const owner = await id.signUp();
    const first = await resetTokenFor(owner.user.email, 1);
    const second = await resetTokenFor(owner.user.email, 2);
    expect(errorOf(await id.graphql(RESET, { i: { token: first, newPassword: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESET_TOKEN_USED', field: 'token' });
    expect(errorOf(await id.graphql(RESET, { i: { token: second, newPassword: 'qwertyuiop' } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect(errorOf(await id.graphql(RESET, { i: { token: 'opr_nonsense', newPassword: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESET_TOKEN_INVALID', field: 'token' });
    const tampered = `${second.slice(0, -4)}AAAA`;
    expect(errorOf(await id.graphql(RESET, { i: { token: tampered, newPassword: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESET_TOKEN_INVALID', field: 'token' });
    // The second token is still good until it expires.
    await id.pool.query("UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    expect(errorOf(await id.graphql(RESET, { i: { token: second, newPassword: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESET_TOKEN_EXPIRED', field: 'token' });
    expect((await id.graphql(LOGIN, { input: { email: owner.user.email, password: owner.password } })).errors).toBeUndefined();
  });
});
