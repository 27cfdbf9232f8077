import { randomBytes } from 'node:crypto';
import { createPrincipalSigner, generatePrincipalKeys, newRequestId, PRINCIPAL_HEADER } from '@orchestra/lib';
import { startPlatform, type GraphQLResponse, type Platform } from '../src/platform';

/** Issue 2's RBAC and tenant isolation list for identity, end to end through the gateway. */

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

const AUTH = 'accessToken refreshToken role user { id email } organization { id name }';

interface Session {
  accessToken: string;
  refreshToken: string;
  role: string;
  user: { id: string; email: string };
  organization: { id: string; name: string };
}

const email = (label: string) => `${label}.${randomBytes(4).toString('hex')}@example.com`;
const password = () => `Green-Teapot-${randomBytes(5).toString('hex')}`;
const errorOf = (res: GraphQLResponse<unknown>) => {
  const ext = res.errors?.[0]?.extensions ?? {};
  return { code: ext.code, reason: ext.reason };
};

async function signUp(organizationName: string): Promise<Session> {
  const res = await platform.graphql<{ signUp: Session }>(`mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`, {
    i: { email: email('owner'), password: password(), name: 'Olga Owner', organizationName },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.signUp;
}

/** Invites `role` into the owner's organization and accepts it as a new account. */
async function member(owner: Session, role: 'ADMIN' | 'OPERATOR' | 'VIEWER'): Promise<Session & { membershipId: string }> {
  const invited = await platform.graphql<{ inviteMember: { token: string } }>(
    'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }',
    { i: { email: email(role.toLowerCase()), role } },
    { token: owner.accessToken },
  );
  expect(invited.errors).toBeUndefined();
  const accepted = await platform.graphql<{ acceptInvitation: Session }>(`mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { ${AUTH} } }`, {
    i: { token: invited.data!.inviteMember.token, name: `Max ${role}`, password: password() },
  });
  expect(accepted.errors).toBeUndefined();
  const session = accepted.data!.acceptInvitation;
  const found = await platform.graphql<{ members: { edges: Array<{ node: { id: string } }> } }>(
    'query($s: String) { members(search: $s) { edges { node { id } } } }',
    { s: session.user.email },
    { token: owner.accessToken },
  );
  return { ...session, membershipId: found.data!.members.edges[0]!.node.id };
}

const membershipIdOf = async (who: Session): Promise<string> => {
  const res = await platform.graphql<{ members: { edges: Array<{ node: { id: string } }> } }>('query($s: String) { members(search: $s) { edges { node { id } } } }', { s: who.user.email }, { token: who.accessToken });
  return res.data!.members.edges[0]!.node.id;
};

describe('roles', () => {
  it('a viewer can neither invite nor change roles', async () => {
    const owner = await signUp('Roles Org');
    const viewer = await member(owner, 'VIEWER');
    const other = await member(owner, 'OPERATOR');
    const invitationsBefore = await platform.pool.query(`SELECT count(*)::int AS n FROM "${platform.schemas.identity}".invitations`);

    const invite = await platform.graphql('mutation { inviteMember(input: { email: "someone@example.com", role: VIEWER }) { token } }', {}, { token: viewer.accessToken });
    expect(errorOf(invite)).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    const change = await platform.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: ADMIN) { role } }', { id: other.membershipId }, { token: viewer.accessToken });
    expect(errorOf(change)).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    const self = await platform.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: OWNER) { role } }', { id: viewer.membershipId }, { token: viewer.accessToken });
    expect(errorOf(self)).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });

    expect((await platform.pool.query(`SELECT count(*)::int AS n FROM "${platform.schemas.identity}".invitations`)).rows).toEqual(invitationsBefore.rows);
    const { rows } = await platform.pool.query(`SELECT role FROM "${platform.schemas.identity}".memberships WHERE id = ANY($1::uuid[]) ORDER BY role`, [[viewer.membershipId, other.membershipId]]);
    expect(rows).toEqual([{ role: 'operator' }, { role: 'viewer' }]);
  });

  it('an admin cannot remove (or demote) the last owner', async () => {
    const owner = await signUp('Last Owner Org');
    const admin = await member(owner, 'ADMIN');
    const ownerMembership = await membershipIdOf(owner);
    const removal = await platform.graphql('mutation($id: ID!) { removeMember(id: $id) { id } }', { id: ownerMembership }, { token: admin.accessToken });
    expect(errorOf(removal)).toEqual({ code: 'CONFLICT', reason: 'LAST_OWNER' });
    const demotion = await platform.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: VIEWER) { id } }', { id: ownerMembership }, { token: admin.accessToken });
    expect(errorOf(demotion)).toEqual({ code: 'CONFLICT', reason: 'LAST_OWNER' });
    const { rows } = await platform.pool.query(`SELECT role FROM "${platform.schemas.identity}".memberships WHERE id = $1`, [ownerMembership]);
    expect(rows).toEqual([{ role: 'owner' }]);
  });

  it('a role change takes effect on the next refresh; the old access token is refused at once', async () => {
    const owner = await signUp('Promotion Org');
    const viewer = await member(owner, 'VIEWER');
    await platform.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: ADMIN) { role } }', { id: viewer.membershipId }, { token: owner.accessToken });
    expect(errorOf(await platform.graphql('{ me { role } }', {}, { token: viewer.accessToken }))).toEqual({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    const refreshed = await platform.graphql<{ refreshToken: Session }>(`mutation($t: String!) { refreshToken(refreshToken: $t) { ${AUTH} } }`, { t: viewer.refreshToken });
    expect(refreshed.data!.refreshToken.role).toBe('ADMIN');
    const invite = await platform.graphql('mutation { inviteMember(input: { email: "new.hire@example.com", role: VIEWER }) { token } }', {}, { token: refreshed.data!.refreshToken.accessToken });
    expect(invite.errors).toBeUndefined();
  });
});

describe('tenant isolation', () => {
  it("a user of org A cannot read org B's members through any query", async () => {
    const a = await signUp('Org A');
    const b = await signUp('Org B');
    await member(b, 'VIEWER');
    const asA = { token: a.accessToken };
    const bUserIds = [b.user.id];

    const members = await platform.graphql<{ members: { totalCount: number; edges: Array<{ node: { user: { id: string } } }> } }>('{ members(first: 100) { totalCount edges { node { user { id } } } } }', {}, asA);
    expect(members.data!.members.edges.map((e) => e.node.user.id)).toEqual([a.user.id]);
    const users = await platform.graphql<{ users: { totalCount: number } }>('{ users(first: 100, search: "Max") { totalCount } }', {}, asA);
    expect(users.data!.users.totalCount).toBe(0);
    const me = await platform.graphql<{ me: { memberships: Array<{ organization: { id: string } }> } }>('{ me { memberships { organization { id } } } }', {}, asA);
    expect(me.data!.me.memberships.map((m) => m.organization.id)).toEqual([a.organization.id]);
    const org = await platform.graphql<{ organization: { id: string } }>('{ organization { id } }', {}, asA);
    expect(org.data!.organization.id).toBe(a.organization.id);
    // Switching into B is refused, and login into B too.
    const sw = await platform.graphql(`mutation($o: ID!) { switchOrganization(organizationId: $o) { ${AUTH} } }`, { o: b.organization.id }, asA);
    expect(errorOf(sw)).toEqual({ code: 'FORBIDDEN', reason: 'NOT_A_MEMBER' });
    // Nothing of B leaked in any read (the refusal above only echoes the id the caller sent).
    const everything = JSON.stringify([members, users, me, org]);
    for (const idOfB of [...bUserIds, b.organization.id]) expect(everything).not.toContain(idOfB);
  });

  it('an API key of org A acts for org A only', async () => {
    const a = await signUp('Keyed Org A');
    const b = await signUp('Keyed Org B');
    const created = await platform.graphql<{ createApiKey: { key: string } }>('mutation { createApiKey(input: { name: "a key", scopes: ["runs:read"] }) { key } }', {}, { token: a.accessToken });
    const { key } = created.data!.createApiKey;
    const self = await platform.graphql<{ currentApiKey: { organization: { id: string } } }>('{ currentApiKey { name organization { id name } } }', {}, { apiKey: key });
    expect(self.data!.currentApiKey).toEqual({ name: 'a key', organization: { id: a.organization.id, name: 'Keyed Org A' } });
    // Outside the public schema nothing answers to an API key, in any organization.
    for (const query of ['{ members { totalCount } }', '{ organization { id } }', `mutation { switchOrganization(organizationId: "${b.organization.id}") { accessToken } }`]) {
      const res = await platform.graphql(query, {}, { apiKey: key });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(res)).not.toContain(b.user.id);
    }
    // The principal identity hands the gateway for this key is bound to org A.
    const { rows } = await platform.pool.query(`SELECT org_id FROM "${platform.schemas.identity}".api_keys WHERE id = $1`, [key.slice(4, 16)]);
    expect(rows).toEqual([{ org_id: a.organization.id }]);
  });
});

describe('the identity subgraph reached directly', () => {
  const direct = (query: string, header?: string) =>
    fetch(`${platform.services.identity!.httpUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header === undefined ? {} : { [PRINCIPAL_HEADER]: header }) },
      body: JSON.stringify({ query }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { data: unknown; errors?: Array<{ extensions: { code: string; reason: string } }> } }));

  it('rejects requests without a valid gateway signature, _entities and _service included', async () => {
    const owner = await signUp('Direct Org');
    const forged = await createPrincipalSigner(generatePrincipalKeys().privateKeyPem).sign({
      kind: 'user',
      id: owner.user.id,
      userId: owner.user.id,
      orgId: owner.organization.id,
      role: 'owner',
      scopes: [],
      requestId: newRequestId(),
    });
    const queries = ['{ me { role } }', '{ _service { sdl } }', `{ _entities(representations: [{ __typename: "User", id: "${owner.user.id}" }]) { ... on User { email } } }`];
    for (const header of [undefined, 'not-a-signature', forged]) {
      for (const query of queries) {
        const res = await direct(query, header);
        expect(res.status).toBe(401);
        expect(res.body.data).toBeNull();
        expect(res.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
        expect(JSON.stringify(res.body)).not.toContain(owner.user.email);
      }
    }
  });

  it('serves its JWKS to anyone (public keys only)', async () => {
    const res = await fetch(`${platform.services.identity!.httpUrl}/.well-known/jwks.json`);
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(res.status).toBe(200);
    expect(body.keys.length).toBeGreaterThan(0);
    expect(body.keys.every((k) => k['d'] === undefined && typeof k['kid'] === 'string')).toBe(true);
  });
});
