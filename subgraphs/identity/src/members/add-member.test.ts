import { recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { AUTH_FIELDS, errorOf, goodPassword, startIdentity, uniqueEmail, type IdentityHarness } from '../testing/harness';

let id: IdentityHarness;
let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  id = await startIdentity({ SMTP_URL: smtp.url, MAIL_FROM: 'Orchestra <no-reply@orchestra.test>', APP_URL: 'https://orchestra.test/', INVITATIONS_PER_ORGANIZATION: '6' });
});

afterAll(async () => {
  await id.stop();
  await smtp.stop();
});

const ADD = 'mutation($i: AddMemberInput!) { addMember(input: $i) { id email role status invitedBy { id } createdAt expiresAt acceptedAt revokedAt } }';
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`;
const VERIFY = 'mutation($t: String!) { verifyEmail(token: $t) }';
const MEMBERS = 'query($s: String) { members(search: $s) { totalCount edges { node { role user { id } } } } }';
const INVITATIONS = '{ invitations(includeClosed: true) { edges { node { id email } } } }';

/** The token of the newest mail to `email` whose link leads to `path`. */
async function tokenMailedTo(email: string, path: 'accept-invitation' | 'verify-email'): Promise<string> {
  const linkOf = (text: string | undefined) => new RegExp(`https://orchestra\\.test/${path}\\?token=(\\S+)`).exec(text ?? '')?.[1];
  const mails = () => smtp.messages.filter((m) => recipientsOf(m).includes(email) && linkOf(m.text) !== undefined);
  await smtp.waitFor(() => mails().length > 0, 30_000);
  return decodeURIComponent(linkOf(mails().at(-1)!.text)!);
}

describe('addMember asks for consent (issue 9 item 3)', () => {
  it('adds nobody: the invitee is mailed a link and joins only by accepting it', async () => {
    const owner = await id.signUp();
    const other = await id.signUp();
    const added = await id.graphql(ADD, { i: { email: other.user.email, role: 'ADMIN' } }, { token: owner.accessToken });
    expect(added.errors).toBeUndefined();
    expect(added.data.addMember).toMatchObject({ email: other.user.email, role: 'ADMIN', status: 'PENDING', invitedBy: { id: owner.user.id } });
    // Not a member yet.
    expect((await id.graphql(MEMBERS, { s: other.user.email }, { token: owner.accessToken })).data.members.totalCount).toBe(0);
    expect((await id.graphql('{ me { memberships { organization { id } } } }', {}, { token: other.accessToken })).data.me.memberships).toHaveLength(1);

    const token = await tokenMailedTo(other.user.email, 'accept-invitation');
    const mail = smtp.messages.find((m) => recipientsOf(m).includes(other.user.email) && m.subject?.startsWith('You are invited to'))!;
    expect(mail.text).toContain('Nothing happens unless you accept');
    await id.graphql(VERIFY, { t: await tokenMailedTo(other.user.email, 'verify-email') });
    const accepted = await id.graphql(ACCEPT, { i: { token, password: other.password } });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptInvitation).toMatchObject({ role: 'ADMIN', user: { id: other.user.id }, organization: { id: owner.organization.id } });
    expect((await id.graphql(MEMBERS, { s: other.user.email }, { token: owner.accessToken })).data.members.edges).toEqual([{ node: { role: 'ADMIN', user: { id: other.user.id } } }]);
    expect((await id.auditEvents({ action: 'invitation.create' })).find((e) => e.targetId === added.data.addMember.id)).toMatchObject({ diff: { email: other.user.email, role: 'admin', via: 'addMember' } });
  });

  it('answers the same whether or not the address has an account', async () => {
    const owner = await id.signUp();
    const existing = await id.signUp();
    const unknown = uniqueEmail('nobody');
    const shape = (res: { data: { addMember: Record<string, unknown> } | null; errors?: unknown }) => {
      expect(res.errors).toBeUndefined();
      const { id: invitationId, email, createdAt, expiresAt, ...rest } = res.data!.addMember;
      expect([invitationId, email, createdAt, expiresAt].every((v) => typeof v === 'string')).toBe(true);
      return rest;
    };
    const a = shape(await id.graphql(ADD, { i: { email: existing.user.email, role: 'VIEWER' } }, { token: owner.accessToken }));
    const b = shape(await id.graphql(ADD, { i: { email: unknown, role: 'VIEWER' } }, { token: owner.accessToken }));
    expect(a).toEqual(b);
    // Both are mailed an invitation; the unknown address can accept it as a new account.
    await tokenMailedTo(existing.user.email, 'accept-invitation');
    const token = await tokenMailedTo(unknown, 'accept-invitation');
    const joined = await id.graphql(ACCEPT, { i: { token, name: 'Nora New', password: goodPassword() } });
    expect(joined.data.acceptInvitation).toMatchObject({ role: 'VIEWER', user: { email: unknown }, organization: { id: owner.organization.id } });
  });

  it('refuses bad input, existing members, non-admins and bursts, naming the field', async () => {
    const owner = await id.signUp();
    expect(errorOf(await id.graphql(ADD, { i: { email: 'not-an-address', role: 'VIEWER' } }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
    expect(errorOf(await id.graphql(ADD, { i: { email: owner.user.email, role: 'VIEWER' } }, { token: owner.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'ALREADY_MEMBER', field: 'email' });
    const email = uniqueEmail('viewer');
    await id.graphql(ADD, { i: { email, role: 'VIEWER' } }, { token: owner.accessToken });
    const viewer = await id.graphql(ACCEPT, { i: { token: await tokenMailedTo(email, 'accept-invitation'), name: 'Vera Viewer', password: goodPassword() } });
    expect(errorOf(await id.graphql(ADD, { i: { email: uniqueEmail(), role: 'VIEWER' } }, { token: viewer.data.acceptInvitation.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    // INVITATIONS_PER_ORGANIZATION is 6 in this suite: 2 used above (one refused as already a member counts too).
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await id.graphql(ADD, { i: { email: uniqueEmail('burst'), role: 'VIEWER' } }, { token: owner.accessToken }));
    expect(results.filter((r) => r.errors === undefined).length).toBeLessThan(5);
    expect(errorOf(results.at(-1)!)).toMatchObject({ code: 'RATE_LIMITED', reason: 'TOO_MANY_INVITATIONS' });
  });

  it("keeps organizations apart: another org's admin neither sees nor withdraws the invitation", async () => {
    const a = await id.signUp();
    const b = await id.signUp();
    const added = await id.graphql(ADD, { i: { email: uniqueEmail('target'), role: 'VIEWER' } }, { token: a.accessToken });
    const invitationId = added.data.addMember.id;
    expect((await id.graphql(INVITATIONS, {}, { token: b.accessToken })).data.invitations.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(invitationId);
    expect(errorOf(await id.graphql('mutation($id: ID!) { revokeInvitation(id: $id) { id } }', { id: invitationId }, { token: b.accessToken }))).toMatchObject({ code: 'NOT_FOUND' });
    expect((await id.graphql(INVITATIONS, {}, { token: a.accessToken })).data.invitations.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(invitationId);
  });
});
