import { Metadata } from '@grpc/grpc-js';
import { createPrincipalSigner, generatePrincipalKeys, newRequestId, TEST_INTERNAL_TOKEN, unaryCall, withTenantTransaction, type Principal } from '@orchestra/lib';
import { TENANT_ROLE } from './deps';
import { errorOf, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness, type SignedIn } from './testing/harness';

let id: IdentityHarness;
let a: SignedIn;
let b: SignedIn;
let bApiKey: string;
let bInvitation: string;

beforeAll(async () => {
  id = await startIdentity({ SIGNING_KEY_ROTATE_AFTER_SECONDS: '3600' });
  a = await id.signUp({ name: 'Alice A', organizationName: 'Org A' });
  b = await id.signUp({ name: 'Bob B', organizationName: 'Org B' });
  bApiKey = (await id.graphql('mutation { createApiKey(input: { name: "b key", scopes: ["runs:read"] }) { apiKey { id } } }', {}, { token: b.accessToken })).data.createApiKey.apiKey.id;
  bInvitation = (await id.graphql('mutation($e: String!) { inviteMember(input: { email: $e, role: VIEWER }) { invitation { id } } }', { e: uniqueEmail('b-invitee') }, { token: b.accessToken })).data.inviteMember.invitation.id;
});

afterAll(async () => {
  await id.stop();
});

const userPrincipal = (who: SignedIn, orgId = who.organization.id): Principal => ({
  kind: 'user',
  id: who.user.id,
  userId: who.user.id,
  orgId,
  role: 'owner',
  scopes: [],
  requestId: newRequestId(),
});

describe('the gateway signature', () => {
  it.each([
    ['no header', undefined, 'PRINCIPAL_MISSING'],
    ['a garbage header', 'garbage', 'PRINCIPAL_INVALID'],
  ])('is required for every operation, _entities and _service included (%s)', async (_what, header, reason) => {
    for (const query of ['{ me { role } }', '{ _service { sdl } }', `{ _entities(representations: [{ __typename: "User", id: "${a.user.id}" }]) { ... on User { email } } }`]) {
      const res = await id.service.http.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...(header ? { 'x-orchestra-principal': header } : {}) }, payload: { query } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED', reason } }] });
    }
  });

  it('signed by another key is refused too', async () => {
    const forged = await createPrincipalSigner(generatePrincipalKeys().privateKeyPem).sign(userPrincipal(a));
    const res = await id.graphql('{ me { role } }', {}, undefined, forged);
    expect(res.status).toBe(401);
    expect(errorOf(res)).toEqual({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
  });

  it('leaves /healthz, /readyz, /metrics and the JWKS open', async () => {
    expect((await id.service.http.inject({ url: '/readyz' })).json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    expect((await id.service.http.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await id.service.http.inject({ url: '/metrics' })).body).toContain('orchestra_identity_sign_ins_total');
    expect((await id.service.http.inject({ url: '/.well-known/jwks.json' })).statusCode).toBe(200);
  });
});

describe('tenant isolation', () => {
  it('a user of org A reads nothing of org B through any query', async () => {
    const asA = { token: a.accessToken };
    const members = await id.graphql('{ members(first: 100) { edges { node { user { id } } } } }', {}, asA);
    expect(members.data.members.edges.map((e: any) => e.node.user.id)).toEqual([a.user.id]);
    const users = await id.graphql('{ users(first: 100, search: "Bob") { totalCount } }', {}, asA);
    expect(users.data.users.totalCount).toBe(0);
    const invitations = await id.graphql('{ invitations(includeClosed: true) { edges { node { id } } } }', {}, asA);
    expect(JSON.stringify(invitations.data)).not.toContain(bInvitation);
    const keys = await id.graphql('{ apiKeys(includeRevoked: true) { edges { node { id } } } }', {}, asA);
    expect(JSON.stringify(keys.data)).not.toContain(bApiKey);
    const entities = await id.graphql(
      `{ _entities(representations: [{ __typename: "User", id: "${b.user.id}" }, { __typename: "Organization", id: "${b.organization.id}" }, { __typename: "User", id: "${a.user.id}" }]) { ... on User { email } ... on Organization { name } } }`,
      {},
      asA,
    );
    expect(entities.data._entities).toEqual([null, null, { email: a.user.email }]);
    const me = await id.graphql('{ me { memberships { organization { id } } } }', {}, asA);
    expect(me.data.me.memberships).toEqual([{ organization: { id: a.organization.id } }]);
  });

  it('mutations cannot reach another organization\'s rows', async () => {
    const asA = { token: a.accessToken };
    const bMembership = (await id.graphql('{ members { edges { node { id } } } }', {}, { token: b.accessToken })).data.members.edges[0].node.id;
    expect(errorOf(await id.graphql('mutation($id: ID!) { changeMemberRole(id: $id, role: VIEWER) { id } }', { id: bMembership }, asA))).toEqual({ code: 'NOT_FOUND', reason: 'MEMBERSHIP_NOT_FOUND' });
    expect(errorOf(await id.graphql('mutation($id: ID!) { removeMember(id: $id) { id } }', { id: bMembership }, asA))).toEqual({ code: 'NOT_FOUND', reason: 'MEMBERSHIP_NOT_FOUND' });
    expect(errorOf(await id.graphql('mutation($id: ID!) { revokeInvitation(id: $id) { id } }', { id: bInvitation }, asA))).toEqual({ code: 'NOT_FOUND', reason: 'INVITATION_NOT_FOUND' });
    expect(errorOf(await id.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: bApiKey }, asA))).toEqual({ code: 'NOT_FOUND', reason: 'API_KEY_NOT_FOUND' });
    // A principal that claims org B (a forged token would be needed) still finds no membership of A's user there.
    expect(errorOf(await id.graphql('{ me { role } }', {}, userPrincipal(a, b.organization.id)))).toEqual({ code: 'FORBIDDEN', reason: 'NOT_A_MEMBER' });
  });

  it('row-level security holds whatever the SQL asks for', async () => {
    const scope = { orgId: a.organization.id, userId: a.user.id };
    const seen = await withTenantTransaction(id.pool, TENANT_ROLE, scope, async (tx) => ({
      users: (await tx.query('SELECT id FROM users')).rows.map((r) => r.id),
      memberships: (await tx.query('SELECT org_id FROM memberships WHERE org_id = $1', [b.organization.id])).rowCount,
      organizations: (await tx.query('SELECT id FROM organizations')).rows.map((r) => r.id),
      invitations: (await tx.query('SELECT 1 FROM invitations')).rowCount,
      apiKeys: (await tx.query('SELECT 1 FROM api_keys WHERE org_id = $1', [b.organization.id])).rowCount,
      passwords: (await tx.query('SELECT 1 FROM user_passwords')).rowCount,
      refreshTokens: (await tx.query('SELECT 1 FROM refresh_tokens')).rowCount,
      signingKeys: (await tx.query('SELECT 1 FROM signing_keys')).rowCount,
      otherSessions: (await tx.query('SELECT 1 FROM sessions WHERE user_id = $1', [b.user.id])).rowCount,
      bumpForeign: (await tx.query('SELECT bump_member_token_version($1) AS v', [b.user.id])).rows[0].v,
    }));
    expect(seen).toEqual({ users: [a.user.id], memberships: 0, organizations: [a.organization.id], invitations: 0, apiKeys: 0, passwords: 0, refreshTokens: 0, signingKeys: 0, otherSessions: 0, bumpForeign: null });
    await expect(
      withTenantTransaction(id.pool, TENANT_ROLE, scope, (tx) => tx.query("INSERT INTO memberships (id, org_id, user_id, role) VALUES (gen_random_uuid(), $1, $2, 'owner')", [b.organization.id, a.user.id])),
    ).rejects.toThrow(/row-level security/);
    await expect(withTenantTransaction(id.pool, TENANT_ROLE, scope, (tx) => tx.query("UPDATE users SET name = 'pwned' WHERE id = $1", [b.user.id]))).resolves.toMatchObject({ rowCount: 0 });
  });
});

describe('IdentityService.GetUsers', () => {
  const getUsers = (ids: string[], principalHeader?: string) =>
    unaryCall(id.grpcClient, id.grpcClient.getUsers.bind(id.grpcClient), { ids }, { internalToken: TEST_INTERNAL_TOKEN }, principalHeader === undefined ? {} : { principalHeader });

  it('looks users up in one batch, leaving unknown and malformed ids out', async () => {
    const { users } = await getUsers([a.user.id, b.user.id, '01900000-0000-7000-8000-000000000000', 'nope', a.user.id]);
    expect(users.map((u) => u.email).sort()).toEqual([a.user.email, b.user.email].sort());
    expect(users.find((u) => u.id === a.user.id)).toMatchObject({ name: 'Alice A', createdAt: expect.any(Date) });
  });

  it('for a forwarded end-user principal, answers only members of its organization', async () => {
    const { users } = await getUsers([a.user.id, b.user.id], await id.signPrincipal(userPrincipal(a)));
    expect(users.map((u) => u.id)).toEqual([a.user.id]);
    const foreign = await createPrincipalSigner(generatePrincipalKeys().privateKeyPem).sign(userPrincipal(a));
    expect(await rejectionOf(getUsers([a.user.id], foreign))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_INVALID' });
  });

  it('needs the service token', async () => {
    const md = new Metadata();
    const error = await new Promise<any>((resolve) => id.grpcClient.getUsers({ ids: [a.user.id] }, md, (err) => resolve(err)));
    expect(error.metadata.get('x-orchestra-error-reason')).toEqual(['SERVICE_TOKEN_INVALID']);
  });
});

describe('notification events', () => {
  it('an API key created and a member invited are in the notification outbox, written with them', async () => {
    const { rows } = await id.pool.query<{ type: string; data: Record<string, unknown> }>(
      "SELECT event->>'type' AS type, event->'data' AS data FROM notification_outbox WHERE org_id = $1 ORDER BY created_at, id",
      [b.organization.id],
    );
    expect(rows).toEqual([
      { type: 'api_key.created', data: { apiKeyId: bApiKey, name: 'b key', scopes: ['runs:read'], createdBy: b.user.email } },
      { type: 'member.invited', data: { invitationId: bInvitation, email: expect.stringContaining('b-invitee'), role: 'viewer', invitedBy: b.user.email } },
    ]);
  });
});

describe('IdentityService.ListMembers', () => {
  const listMembers = (orgId: string, roles: string[] = [], principalHeader?: string) =>
    unaryCall(id.grpcClient, id.grpcClient.listMembers.bind(id.grpcClient), { orgId, roles }, { internalToken: TEST_INTERNAL_TOKEN }, principalHeader === undefined ? {} : { principalHeader });

  it("lists one organization's members with e-mail and role, filtered by role", async () => {
    const { members } = await listMembers(a.organization.id);
    expect(members).toEqual([{ userId: a.user.id, email: a.user.email, name: 'Alice A', role: 'owner' }]);
    expect((await listMembers(a.organization.id, ['viewer'])).members).toEqual([]);
    expect((await listMembers(b.organization.id, ['owner', 'admin'])).members.map((m) => m.userId)).toEqual([b.user.id]);
  });

  it("refuses another organization for a forwarded principal, and bad input by field", async () => {
    expect(await rejectionOf(listMembers(b.organization.id, [], await id.signPrincipal(userPrincipal(a))))).toMatchObject({ code: 'FORBIDDEN', reason: 'OTHER_ORGANIZATION' });
    expect(await rejectionOf(listMembers('nope'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'org_id' });
    expect(await rejectionOf(listMembers(a.organization.id, ['king']))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles' });
  });
});

describe('maintenance', () => {
  it('rotates the signing key by age and deletes sessions nothing can continue', async () => {
    const kidBefore = (await id.service.keyRing.jwks()).keys.map((k) => k.kid);
    await id.pool.query("UPDATE signing_keys SET created_at = now() - interval '2 hours'");
    const stale = await id.signUp();
    await id.pool.query("UPDATE refresh_tokens SET expires_at = now() - interval '2 days' WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)", [stale.user.id]);
    await id.service.runMaintenance();
    const kidAfter = (await id.service.keyRing.jwks()).keys.map((k) => k.kid);
    expect(kidAfter.filter((k) => !kidBefore.includes(k))).toHaveLength(1);
    expect((await id.pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [stale.user.id])).rowCount).toBe(0);
    expect(id.log.lines.some((l) => l['msg'] === 'signing key rotated (age limit reached)')).toBe(true);
  });
});

