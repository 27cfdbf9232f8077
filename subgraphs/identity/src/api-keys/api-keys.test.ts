import { API_KEY_PATTERN, apiKeyRevokedChannel, createRedis, createMemoryLogger, eventually, TEST_REDIS_URL, type Redis } from '@orchestra/lib';
import { errorOf, goodPassword, rejectionOf, startIdentity, uniqueEmail, type IdentityHarness, type SignedIn } from '../testing/harness';

let id: IdentityHarness;
let owner: SignedIn;

beforeAll(async () => {
  id = await startIdentity({ API_KEY_LAST_USED_INTERVAL_SECONDS: '60', API_KEY_USE_AUDIT_INTERVAL_SECONDS: '600', API_KEY_CACHE_TTL_SECONDS: '30' });
  owner = await id.signUp();
});

afterAll(async () => {
  await id.stop();
});

const CREATE = 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id name scopes status expiresAt lastUsedAt createdBy { id } organization { id } } } }';
const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id status revokedAt } }';

async function createKey(input: Record<string, unknown> = {}, as: Pick<SignedIn, 'accessToken'> = owner) {
  const res = await id.graphql(CREATE, { i: { name: 'CI pipeline', scopes: ['runs:read', 'runs:write'], ...input } }, { token: as.accessToken });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createApiKey as { key: string; apiKey: { id: string; scopes: string[]; status: string } };
}

describe('creating API keys', () => {
  it('returns the key once, in the orc_<id>_<secret> format, and keeps only a hash', async () => {
    const { key, apiKey } = await createKey({ scopes: ['runs:write', 'runs:read', 'runs:read'] });
    expect(key).toMatch(API_KEY_PATTERN);
    expect(key.slice(4, 16)).toBe(apiKey.id);
    expect(apiKey).toMatchObject({ name: 'CI pipeline', scopes: ['runs:read', 'runs:write'], status: 'ACTIVE', createdBy: { id: owner.user.id }, organization: { id: owner.organization.id } });
    const { rows } = await id.pool.query('SELECT * FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(JSON.stringify(rows)).not.toContain(key.slice(17));
    const listed = await id.graphql('{ apiKeys { totalCount edges { node { id } } } }', {}, { token: owner.accessToken });
    expect(JSON.stringify(listed.data)).not.toContain(key);
    const [event] = (await id.auditEvents({ action: 'api_key.create' })).filter((e) => e.targetId === apiKey.id);
    expect(event).toMatchObject({ outcome: 'success', diff: { name: 'CI pipeline', scopes: ['runs:read', 'runs:write'] } });
    expect(JSON.stringify(event)).not.toContain(key.slice(17));
  });

  it.each([
    ['an unknown scope, naming it', { scopes: ['runs:read', 'admin:everything'] }, 'scopes[1]', 'UNKNOWN_SCOPE', 'admin:everything'],
    ['no scope', { scopes: [] }, 'scopes', 'SCOPES_REQUIRED', 'at least one scope'],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', 'EXPIRES_AT_IN_PAST', 'future'],
    ['an empty name', { name: '  ' }, 'name', 'REQUIRED', 'name is required'],
  ])('refuses %s, writing nothing', async (_what, input, field, reason, message) => {
    const before = await id.count('api_keys');
    const res = await id.graphql(CREATE, { i: { name: 'k', scopes: ['runs:read'], ...input } }, { token: owner.accessToken });
    expect(errorOf(res)).toEqual({ code: 'BAD_USER_INPUT', reason, field });
    expect(res.errors?.[0]?.message).toContain(message);
    expect(await id.count('api_keys')).toBe(before);
  });

  it('refuses a malformed expiry date', async () => {
    const res = await id.graphql(CREATE, { i: { name: 'k', scopes: ['runs:read'], expiresAt: 'next tuesday' } }, { token: owner.accessToken });
    expect(errorOf(res).code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('ISO 8601');
  });

  it('is for admins: operators are refused', async () => {
    // An operator of the owner's organization, joined by accepting an invitation (addMember asks for consent).
    const invited = await id.graphql('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email: uniqueEmail('operator'), role: 'OPERATOR' } }, { token: owner.accessToken });
    expect(invited.errors).toBeUndefined();
    const accepted = await id.graphql('mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken role } }', { i: { token: invited.data.inviteMember.token, name: 'Otto Operator', password: goodPassword() } });
    expect(accepted.data.acceptInvitation.role).toBe('OPERATOR');
    const asOperator = accepted.data.acceptInvitation;
    const res = await id.graphql(CREATE, { i: { name: 'k', scopes: ['runs:read'] } }, { token: asOperator.accessToken });
    expect(errorOf(res)).toEqual({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
  });

  it('lists the scope catalog', async () => {
    const res = await id.graphql('{ apiKeyScopes { name description } }', {}, { token: owner.accessToken });
    expect(res.data.apiKeyScopes.map((s: { name: string }) => s.name)).toEqual(['runs:read', 'runs:write', 'approvals:write', 'workflows:read', 'apps:read']);
  });
});

describe('authenticating API keys (IdentityService.Authenticate)', () => {
  it('answers the key principal of its own organization, with its scopes', async () => {
    const { key, apiKey } = await createKey({ scopes: ['workflows:read'] });
    const principal = await id.authenticate({ apiKey: key });
    expect(principal).toMatchObject({ kind: 'apiKey', id: apiKey.id, apiKeyId: apiKey.id, orgId: owner.organization.id, scopes: ['workflows:read'], display: 'CI pipeline' });
    // It acts with its creator's role (the owner here) where a role decides (approvals).
    expect(principal.role).toBe('owner');
    expect(principal.userId).toBeUndefined();
  });

  it("carries its creator's current role, and none once its creator is not a member", async () => {
    const invited = await id.graphql('mutation($i: InviteMemberInput!) { inviteMember(input: $i) { token } }', { i: { email: uniqueEmail('admin'), role: 'ADMIN' } }, { token: owner.accessToken });
    expect(invited.errors).toBeUndefined();
    const accepted = await id.graphql('mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken role user { id } } }', {
      i: { token: invited.data.inviteMember.token, name: 'Ada Admin', password: goodPassword() },
    });
    const admin = accepted.data.acceptInvitation as { accessToken: string; user: { id: string } };
    const { key } = await createKey({ scopes: ['approvals:write'] }, admin);
    expect((await id.authenticate({ apiKey: key })).role).toBe('admin');
    await id.pool.query(`UPDATE memberships SET role = 'operator' WHERE user_id = $1 AND org_id = $2`, [admin.user.id, owner.organization.id]);
    expect((await id.authenticate({ apiKey: key })).role).toBe('operator');
    // (Removing a member revokes their keys; a key whose creator's membership is gone otherwise has no role.)
    await id.pool.query(`DELETE FROM memberships WHERE user_id = $1 AND org_id = $2`, [admin.user.id, owner.organization.id]);
    expect((await id.authenticate({ apiKey: key })).role).toBeUndefined();
  });

  it('refuses invalid, tampered, revoked and expired keys with their own reasons', async () => {
    const { key, apiKey } = await createKey();
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(await rejectionOf(id.authenticate({ apiKey: tampered }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_INVALID' });
    expect(await rejectionOf(id.authenticate({ apiKey: 'orc_nope' }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_INVALID' });
    expect(await rejectionOf(id.authenticate({ apiKey: `orc_AAAAAAAAAAAA_${key.slice(17)}` }))).toMatchObject({ reason: 'API_KEY_INVALID' });

    const expiring = await createKey({ expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await id.pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [expiring.apiKey.id]);
    expect(await rejectionOf(id.authenticate({ apiKey: expiring.key }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_EXPIRED' });

    expect((await id.graphql(REVOKE, { id: apiKey.id }, { token: owner.accessToken })).data.revokeApiKey.status).toBe('REVOKED');
    expect(await rejectionOf(id.authenticate({ apiKey: key }))).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_REVOKED' });
  });

  it('caps the cache time at the configured TTL and at the key expiry', async () => {
    const { key } = await createKey();
    const soon = await createKey({ expiresAt: new Date(Date.now() + 5_000).toISOString() });
    const answer = async (apiKey: string) => (await id.authenticateRaw({ apiKey })).cacheTtlMs;
    expect(await answer(key)).toBe(30_000);
    expect(await answer(soon.key)).toBeLessThanOrEqual(5_000);
  });

  it('records last use and an "api_key.use" audit event, each at most once per interval', async () => {
    const { key, apiKey } = await createKey();
    for (let i = 0; i < 5; i += 1) await id.authenticate({ apiKey: key });
    const { rows } = await id.pool.query<{ last_used_at: Date | null; last_used_ip: string }>('SELECT last_used_at, last_used_ip FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(rows[0]!.last_used_at).not.toBeNull();
    expect(rows[0]!.last_used_ip).toBe('127.0.0.1');
    const uses = (await id.auditEvents({ action: 'api_key.use' })).filter((e) => e.targetId === apiKey.id);
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({ orgId: owner.organization.id, actor: { kind: 'apiKey', id: apiKey.id } });
    // Once the interval has passed (moved back in the database), the next use is recorded again.
    await id.pool.query("UPDATE api_keys SET last_used_at = now() - interval '2 minutes', last_use_audited_at = now() - interval '11 minutes' WHERE id = $1", [apiKey.id]);
    await id.authenticate({ apiKey: key });
    expect((await id.auditEvents({ action: 'api_key.use' })).filter((e) => e.targetId === apiKey.id)).toHaveLength(2);
    const listed = await id.graphql('{ apiKeys { edges { node { id lastUsedAt } } } }', {}, { token: owner.accessToken });
    expect(listed.data.apiKeys.edges.find((e: { node: { id: string } }) => e.node.id === apiKey.id).node.lastUsedAt).not.toBeNull();
  });
});

describe('revoking API keys', () => {
  let subscriber: Redis;
  const received: string[] = [];

  beforeAll(async () => {
    subscriber = createRedis({ url: TEST_REDIS_URL, name: 'identity-test-subscriber', log: createMemoryLogger() });
    await subscriber.subscribe(apiKeyRevokedChannel(id.config.REDIS_PREFIX));
    subscriber.on('message', (_channel: string, keyId: string) => received.push(keyId));
  });

  afterAll(async () => {
    await subscriber.quit();
  });

  it('announces the key id to gateways at once; revoking again changes nothing but is recorded', async () => {
    const { apiKey } = await createKey();
    const res = await id.graphql(REVOKE, { id: apiKey.id }, { token: owner.accessToken });
    expect(res.data.revokeApiKey).toMatchObject({ id: apiKey.id, status: 'REVOKED' });
    await eventually(() => received.includes(apiKey.id), { what: 'revocation message' });
    const again = await id.graphql(REVOKE, { id: apiKey.id }, { token: owner.accessToken });
    expect(again.data.revokeApiKey.revokedAt).toBe(res.data.revokeApiKey.revokedAt);
    const events = (await id.auditEvents({ action: 'api_key.revoke' })).filter((e) => e.targetId === apiKey.id && e.outcome === 'success');
    expect(events.map((e) => e.diff)).toEqual([{ before: { revokedAt: null }, after: { revokedAt: expect.any(String) } }, { alreadyRevoked: true }]);
  });

  it('cannot revoke another organization\'s key (NOT_FOUND), and lists hide revoked keys by default', async () => {
    const { apiKey } = await createKey();
    const stranger = await id.signUp();
    expect(errorOf(await id.graphql(REVOKE, { id: apiKey.id }, { token: stranger.accessToken }))).toEqual({ code: 'NOT_FOUND', reason: 'API_KEY_NOT_FOUND' });
    expect((await id.authenticate({ apiKey: (await createKey()).key })).orgId).toBe(owner.organization.id);
    const active = await id.graphql('{ apiKeys { edges { node { status } } } }', {}, { token: owner.accessToken });
    expect(active.data.apiKeys.edges.every((e: { node: { status: string } }) => e.node.status !== 'REVOKED')).toBe(true);
    const all = await id.graphql('{ apiKeys(includeRevoked: true) { totalCount } }', {}, { token: owner.accessToken });
    expect(all.data.apiKeys.totalCount).toBeGreaterThan(active.data.apiKeys.edges.length);
  });
});

describe('an API key acting', () => {
  it('sees itself through currentApiKey and its organization, nothing else', async () => {
    const { key, apiKey } = await createKey({ name: 'Reporter', scopes: ['runs:read'] });
    const me = await id.graphql('{ currentApiKey { id name scopes status organization { id name } } }', {}, { apiKey: key });
    expect(me.data.currentApiKey).toEqual({ id: apiKey.id, name: 'Reporter', scopes: ['runs:read'], status: 'ACTIVE', organization: { id: owner.organization.id, name: owner.organization.name } });
    expect(errorOf(await id.graphql('{ members { totalCount } }', {}, { apiKey: key }))).toEqual({ code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' });
    expect(errorOf(await id.graphql('mutation { logoutEverywhere }', {}, { apiKey: key }))).toEqual({ code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' });
    // A user sees null there.
    expect((await id.graphql('{ currentApiKey { id } }', {}, { token: owner.accessToken })).data).toEqual({ currentApiKey: null });
  });

  it('pages the key list newest first', async () => {
    const org = await id.signUp();
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) made.push((await createKey({ name: `key ${i}` }, org)).apiKey.id);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const res = await id.graphql('query($a: String) { apiKeys(first: 2, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id } } } }', { a: after }, { token: org.accessToken });
      seen.push(...res.data.apiKeys.edges.map((e: { node: { id: string } }) => e.node.id));
      after = res.data.apiKeys.pageInfo.hasNextPage ? res.data.apiKeys.pageInfo.endCursor : undefined;
    } while (after);
    expect(seen).toEqual([...made].reverse());
  });
});
