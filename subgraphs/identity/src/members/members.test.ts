import { AUTH_FIELDS, errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness, type SignedIn } from '../testing/harness';

let id: IdentityHarness;

beforeAll(async () => {
  id = await startIdentity();
});

afterAll(async () => {
  await id.stop();
});

const INVITE = 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token invitation { id email role status invitedBy { id } } } }';
const ACCEPT = `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH_FIELDS} } }`;
const CHANGE = 'mutation($id: ID!, $role: Role!) { changeMemberRole(id: $id, role: $role) { id role } }';
const REMOVE = 'mutation($id: ID!) { removeMember(id: $id) { id role user { email } } }';
const MEMBERS = 'query($first: Int, $after: String, $search: String) { members(first: $first, after: $after, search: $search) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id role user { id email name } } } } }';
const REFRESH = `mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH_FIELDS} } }`;

/** Invites `role` into the owner's org and accepts as a new account; returns the member's session. */
async function join(owner: SignedIn, role: string, name = 'Mia Member'): Promise<SignedIn & { membershipId: string }> {
  const email = uniqueEmail(role.toLowerCase());
  const invited = await id.graphql(INVITE, { i: { email, role } }, { token: owner.accessToken });
  if (invited.errors) throw new Error(JSON.stringify(invited.errors));
  const password = goodPassword();
  const accepted = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, name, password } });
  if (accepted.errors) throw new Error(JSON.stringify(accepted.errors));
  const members = await id.graphql(MEMBERS, { search: email }, { token: owner.accessToken });
  return { ...accepted.data.acceptInvitation, password, membershipId: members.data.members.edges[0].node.id };
}

describe('invitations', () => {
  it('return a one-time token; accepting creates the account and signs it in with the invited role', async () => {
    const owner = await id.signUp();
    const email = uniqueEmail('invitee');
    const invited = await id.graphql(INVITE, { i: { email: email.toUpperCase(), role: 'OPERATOR' } }, { token: owner.accessToken });
    expect(invited.errors).toBeUndefined();
    expect(invited.data.inviteMember.invitation).toMatchObject({ email, role: 'OPERATOR', status: 'PENDING', invitedBy: { id: owner.user.id } });
    const { token } = invited.data.inviteMember;
    expect(token).toMatch(/^oin_[0-9a-f]{32}_/);
    const { rows } = await id.pool.query('SELECT token_hash FROM invitations');
    expect(JSON.stringify(rows)).not.toContain(token.slice(37));

    const accepted = await id.graphql(ACCEPT, { i: { token, name: 'Ivy Invitee', password: goodPassword() } });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data.acceptInvitation).toMatchObject({ role: 'OPERATOR', user: { email, name: 'Ivy Invitee' }, organization: { id: owner.organization.id } });

    const again = await id.graphql(ACCEPT, { i: { token, name: 'Ivy Invitee', password: goodPassword() } });
    expect(errorOf(again)).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVITATION_USED', field: 'token' });
    const list = await id.graphql('{ invitations(includeClosed: true) { totalCount edges { node { email status } } } }', {}, { token: owner.accessToken });
    expect(list.data.invitations.edges).toContainEqual({ node: { email, status: 'ACCEPTED' } });
    expect(await id.auditEvents({ action: 'invitation.accept' })).toContainEqual(expect.objectContaining({ outcome: 'success', orgId: owner.organization.id }));
  });

  it('an existing account accepts with its own password and joins a second organization', async () => {
    const owner = await id.signUp();
    const other = await id.signUp();
    const invited = await id.graphql(INVITE, { i: { email: other.user.email, role: 'VIEWER' } }, { token: owner.accessToken });
    const wrong = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password: 'Not-Their-Password-9' } });
    expect(errorOf(wrong)).toEqual({ code: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    // An existing account joins other organizations only with a verified address (email-verification.test.ts).
    await id.verifyEmail(other.user.email);
    const ok = await id.graphql(ACCEPT, { i: { token: invited.data.inviteMember.token, password: other.password } });
    expect(ok.data.acceptInvitation).toMatchObject({ role: 'VIEWER', user: { id: other.user.id }, organization: { id: owner.organization.id } });
    const me = await id.graphql('{ me { memberships { role organization { id } } } }', {}, { token: ok.data.acceptInvitation.accessToken });
    expect(me.data.me.memberships).toHaveLength(2);
  });

  it('refuse expired, revoked and tampered tokens with their own reasons, writing nothing', async () => {
    const owner = await id.signUp();
    const a = (await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'VIEWER' } }, { token: owner.accessToken })).data.inviteMember;
    const b = (await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'VIEWER' } }, { token: owner.accessToken })).data.inviteMember;
    await id.pool.query("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1", [a.invitation.id]);
    const revoked = await id.graphql('mutation($id: ID!) { revokeInvitation(id: $id) { status } }', { id: b.invitation.id }, { token: owner.accessToken });
    expect(revoked.data.revokeInvitation.status).toBe('REVOKED');
    const users = await id.count('users');
    const input = (token: string) => ({ i: { token, name: 'Late Larry', password: goodPassword() } });
    expect(errorOf(await id.graphql(ACCEPT, input(a.token)))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVITATION_EXPIRED', field: 'token' });
    expect(errorOf(await id.graphql(ACCEPT, input(b.token)))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVITATION_REVOKED', field: 'token' });
    expect(errorOf(await id.graphql(ACCEPT, input(`${b.token.slice(0, -2)}zz`)))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVITATION_INVALID', field: 'token' });
    expect(errorOf(await id.graphql(ACCEPT, input('oin_nope')))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVITATION_INVALID', field: 'token' });
    expect(await id.count('users')).toBe(users);
  });

  it('a new account needs a name and a strong password', async () => {
    const owner = await id.signUp();
    const { token } = (await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'VIEWER' } }, { token: owner.accessToken })).data.inviteMember;
    expect(errorOf(await id.graphql(ACCEPT, { i: { token, password: goodPassword() } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'REQUIRED', field: 'name' });
    expect(errorOf(await id.graphql(ACCEPT, { i: { token, name: 'Wendy Weak', password: 'password123' } }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'WEAK_PASSWORD', field: 'password' });
  });

  it('refuse inviting a member, and only owners invite owners', async () => {
    const owner = await id.signUp();
    const admin = await join(owner, 'ADMIN');
    expect(errorOf(await id.graphql(INVITE, { i: { email: admin.user.email, role: 'VIEWER' } }, { token: owner.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'ALREADY_MEMBER', field: 'email' });
    expect(errorOf(await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'OWNER' } }, { token: admin.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'OWNER_ROLE_REQUIRED' });
    expect(errorOf(await id.graphql(INVITE, { i: { email: 'bad-address', role: 'VIEWER' } }, { token: admin.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email' });
    expect((await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'OWNER' } }, { token: owner.accessToken })).errors).toBeUndefined();
  });
});

// addMember asks for consent now: members/add-member.test.ts.

describe('roles', () => {
  it('viewers and operators can neither invite nor change roles', async () => {
    const owner = await id.signUp();
    const viewer = await join(owner, 'VIEWER');
    const operator = await join(owner, 'OPERATOR');
    for (const who of [viewer, operator]) {
      expect(errorOf(await id.graphql(INVITE, { i: { email: uniqueEmail(), role: 'VIEWER' } }, { token: who.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
      expect(errorOf(await id.graphql(CHANGE, { id: viewer.membershipId, role: 'ADMIN' }, { token: who.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    }
    expect(await id.count('invitations')).toBeGreaterThan(0);
    const refused = (await id.auditEvents({ action: 'member.change_role' })).filter((e) => e.outcome === 'FORBIDDEN');
    expect(refused.length).toBeGreaterThanOrEqual(2);
  });

  it('a role change makes the old access token stale; the next refresh carries the new role', async () => {
    const owner = await id.signUp();
    const member = await join(owner, 'VIEWER');
    const changed = await id.graphql(CHANGE, { id: member.membershipId, role: 'ADMIN' }, { token: owner.accessToken });
    expect(changed.data.changeMemberRole).toEqual({ id: member.membershipId, role: 'ADMIN' });
    expect(await rejectionOf(id.authenticate({ accessToken: member.accessToken }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    const refreshed = await id.graphql(REFRESH, { t: member.refreshToken });
    expect(refreshed.data.refreshToken.role).toBe('ADMIN');
    expect((await id.authenticate({ accessToken: refreshed.data.refreshToken.accessToken })).role).toBe('admin');
    const [event] = (await id.auditEvents({ action: 'member.change_role' })).filter((e) => e.targetId === member.membershipId && e.outcome === 'success');
    expect(event?.diff).toMatchObject({ before: { role: 'viewer' }, after: { role: 'admin' } });
  });

  it('only owners grant or take away the owner role', async () => {
    const owner = await id.signUp();
    const admin = await join(owner, 'ADMIN');
    const viewer = await join(owner, 'VIEWER');
    expect(errorOf(await id.graphql(CHANGE, { id: viewer.membershipId, role: 'OWNER' }, { token: admin.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'OWNER_ROLE_REQUIRED' });
    const promoted = await id.graphql(CHANGE, { id: viewer.membershipId, role: 'OWNER' }, { token: owner.accessToken });
    expect(promoted.data.changeMemberRole.role).toBe('OWNER');
    expect(errorOf(await id.graphql(CHANGE, { id: viewer.membershipId, role: 'VIEWER' }, { token: admin.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'OWNER_ROLE_REQUIRED' });
    expect(errorOf(await id.graphql(REMOVE, { id: viewer.membershipId }, { token: admin.accessToken }))).toEqual({ code: 'FORBIDDEN', reason: 'OWNER_ROLE_REQUIRED' });
  });

  it('the last owner can be neither demoted nor removed, by anyone', async () => {
    const owner = await id.signUp();
    const admin = await join(owner, 'ADMIN');
    const { data } = await id.graphql('{ me { memberships { id organization { id } } } }', {}, { token: owner.accessToken });
    const ownerMembership = data.me.memberships.find((m: any) => m.organization.id === owner.organization.id).id;
    expect(errorOf(await id.graphql(REMOVE, { id: ownerMembership }, { token: admin.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'LAST_OWNER' });
    expect(errorOf(await id.graphql(CHANGE, { id: ownerMembership, role: 'ADMIN' }, { token: owner.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'LAST_OWNER' });
    expect(errorOf(await id.graphql(REMOVE, { id: ownerMembership }, { token: owner.accessToken }))).toEqual({ code: 'CONFLICT', reason: 'LAST_OWNER' });
    const { rows } = await id.pool.query('SELECT role FROM memberships WHERE id = $1', [ownerMembership]);
    expect(rows).toEqual([{ role: 'owner' }]);
  });

  it('two owners demoting each other at the same time leave one owner', async () => {
    const owner = await id.signUp();
    const second = await join(owner, 'ADMIN');
    await id.graphql(CHANGE, { id: second.membershipId, role: 'OWNER' }, { token: owner.accessToken });
    const secondSession = (await id.graphql(REFRESH, { t: second.refreshToken })).data.refreshToken;
    const { data } = await id.graphql('{ me { memberships { id organization { id } } } }', {}, { token: owner.accessToken });
    const ownerMembership = data.me.memberships.find((m: any) => m.organization.id === owner.organization.id).id;
    const results = await Promise.all([
      id.graphql(CHANGE, { id: second.membershipId, role: 'ADMIN' }, { token: owner.accessToken }),
      id.graphql(CHANGE, { id: ownerMembership, role: 'ADMIN' }, { token: secondSession.accessToken }),
    ]);
    const { rows } = await id.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND role = 'owner'", [owner.organization.id]);
    expect(rows[0]!.n).toBe(1);
    expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
    expect(results.map(errorOf).filter((e) => e.code !== undefined)).toEqual([{ code: 'CONFLICT', reason: 'LAST_OWNER' }]);
  });

  it('removal ends the member\'s access and their next refresh', async () => {
    const owner = await id.signUp();
    const member = await join(owner, 'OPERATOR');
    const removed = await id.graphql(REMOVE, { id: member.membershipId }, { token: owner.accessToken });
    expect(removed.data.removeMember).toMatchObject({ id: member.membershipId, role: 'OPERATOR', user: { email: member.user.email } });
    expect(await rejectionOf(id.authenticate({ accessToken: member.accessToken }))).toMatchObject({ reason: 'TOKEN_REVOKED' });
    expect(errorOf(await id.graphql(REFRESH, { t: member.refreshToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'MEMBERSHIP_ENDED' });
    const login = await id.graphql(`mutation($i: LoginInput!) { login(input: $i) { ${AUTH_FIELDS} } }`, { i: { email: member.user.email, password: member.password } });
    expect(errorOf(login)).toEqual({ code: 'FORBIDDEN', reason: 'NO_MEMBERSHIP' });
    expect(errorOf(await id.graphql(REMOVE, { id: member.membershipId }, { token: owner.accessToken }))).toEqual({ code: 'NOT_FOUND', reason: 'MEMBERSHIP_NOT_FOUND' });
  });
});

describe('listing members and users', () => {
  it("removing an admin revokes the API keys they created, says so beforehand, and leaves others' keys alone (issue 9, item 5)", async () => {
    const owner = await id.signUp();
    const admin = await join(owner, 'ADMIN', 'Ada Admin');
    const viewer = await join(owner, 'VIEWER', 'Vic Viewer');
    const CREATE_KEY = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id } } }';
    const adminKey = (await id.graphql(CREATE_KEY, { i: { name: 'ci deploy', scopes: ['runs:read'] } }, { token: admin.accessToken })).data.createApiKey;
    const ownerKey = (await id.graphql(CREATE_KEY, { i: { name: 'owner key', scopes: ['runs:read'] } }, { token: owner.accessToken })).data.createApiKey;
    expect(adminKey).toBeDefined();
    await id.authenticate({ apiKey: adminKey.key });

    // Admins see, before removing, how many active keys go with the member; viewers may not ask.
    const COUNTS = '{ members { edges { node { id activeApiKeysCreated user { id } } } } }';
    const counts = await id.graphql(COUNTS, {}, { token: owner.accessToken });
    const countOf = (userId: string) => counts.data.members.edges.find((e: any) => e.node.user.id === userId).node.activeApiKeysCreated;
    expect(countOf(admin.user.id)).toBe(1);
    expect(countOf(viewer.user.id)).toBe(0);
    expect(errorOf(await id.graphql(COUNTS, {}, { token: viewer.accessToken })).code).toBe('FORBIDDEN');

    expect((await id.graphql(REMOVE, { id: admin.membershipId }, { token: owner.accessToken })).errors).toBeUndefined();
    expect(await rejectionOf(id.authenticate({ apiKey: adminKey.key }))).toMatchObject({ reason: 'API_KEY_REVOKED' });
    await id.authenticate({ apiKey: ownerKey.key });
    const revoked = (await id.auditEvents({ action: 'api_key.revoke' })).find((e) => e.targetId === adminKey.apiKey.id);
    expect(revoked).toMatchObject({ orgId: owner.organization.id, actor: { id: owner.user.id }, diff: { reason: 'CREATOR_REMOVED', createdBy: admin.user.id } });
    const removed = (await id.auditEvents({ action: 'member.remove' })).find((e) => e.targetId === admin.membershipId);
    expect(removed?.diff.apiKeysRevoked).toEqual([adminKey.apiKey.id]);
  });

  it('pages with cursors and searches by name or email', async () => {
    const owner = await id.signUp({ name: 'Zed Owner' });
    for (const name of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Barbara Liskov']) await join(owner, 'VIEWER', name);
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 3; page += 1) {
      const res = await id.graphql(MEMBERS, { first: 2, after }, { token: owner.accessToken });
      expect(res.errors).toBeUndefined();
      const { edges, pageInfo, totalCount } = res.data.members;
      expect(totalCount).toBe(5);
      seen.push(...edges.map((e: any) => e.node.user.email));
      expect(pageInfo.hasPreviousPage).toBe(after !== undefined);
      after = pageInfo.endCursor;
      if (!pageInfo.hasNextPage) break;
    }
    expect(seen).toHaveLength(5);
    expect(seen).toEqual([...seen].sort());

    const byName = await id.graphql(MEMBERS, { search: 'HOPPER' }, { token: owner.accessToken });
    expect(byName.data.members.edges.map((e: any) => e.node.user.name)).toEqual(['Grace Hopper']);
    const literal = await id.graphql(MEMBERS, { search: '%' }, { token: owner.accessToken });
    expect(literal.data.members.totalCount).toBe(0);
    const users = await id.graphql('query($s: String) { users(search: $s) { totalCount edges { node { name } } } }', { s: 'lovelace' }, { token: owner.accessToken });
    expect(users.data.users).toEqual({ totalCount: 1, edges: [{ node: { name: 'Ada Lovelace' } }] });
  });

  it('refuses a forged cursor and an out-of-range page size', async () => {
    const owner = await id.signUp();
    expect(errorOf(await id.graphql(MEMBERS, { after: 'bm9wZQ' }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_CURSOR', field: 'after' });
    expect(errorOf(await id.graphql(MEMBERS, { first: 1000 }, { token: owner.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'INVALID_PAGE_SIZE', field: 'first' });
  });
});

describe('organizations and profile', () => {
  it('admins rename the organization; members rename themselves', async () => {
    const owner = await id.signUp();
    const viewer = await join(owner, 'VIEWER');
    expect(errorOf(await id.graphql('mutation { updateOrganization(input: { name: "Nope" }) { name } }', {}, { token: viewer.accessToken })).reason).toBe('ROLE_TOO_LOW');
    expect((await id.graphql('mutation { updateOrganization(input: { name: "Renamed" }) { name } }', {}, { token: owner.accessToken })).data.updateOrganization.name).toBe('Renamed');
    expect((await id.graphql('mutation { updateProfile(input: { name: "Vera Viewer" }) { name } }', {}, { token: viewer.accessToken })).data.updateProfile.name).toBe('Vera Viewer');
    expect(errorOf(await id.graphql('mutation { updateProfile(input: { name: " " }) { name } }', {}, { token: viewer.accessToken }))).toEqual({ code: 'BAD_USER_INPUT', reason: 'REQUIRED', field: 'name' });
    expect((await id.graphql('{ organization { name } }', {}, { token: viewer.accessToken })).data.organization.name).toBe('Renamed');
  });
});
