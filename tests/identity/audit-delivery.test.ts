import { randomBytes } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Platform } from '../src/platform';

/**
 * identity's audit events reach the audit service: written to identity's outbox in the mutation's
 * transaction, delivered by the relay identity starts, readable through the gateway's auditLog.
 */

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ services: ['identity', 'audit'] });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

interface AuditLog {
  auditLog: { edges: Array<{ node: { action: string; outcome: string; targetId: string; actor: { kind: string; id: string; display: string | null } } }> };
}

it('delivers sign-up, API key and member events once each, with their actor', async () => {
  const email = `audited.${randomBytes(4).toString('hex')}@example.com`;
  const signUp = await platform.graphql<{ signUp: { accessToken: string; user: { id: string }; organization: { id: string } } }>(
    'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken user { id } organization { id } } }',
    { i: { email, password: `Quiet-Harbor-${randomBytes(4).toString('hex')}`, name: 'Audrey Audited', organizationName: 'Audited Org' } },
  );
  expect(signUp.errors).toBeUndefined();
  const { accessToken, user, organization } = signUp.data!.signUp;
  const key = await platform.graphql<{ createApiKey: { apiKey: { id: string } } }>('mutation { createApiKey(input: { name: "audited key", scopes: ["apps:read"] }) { apiKey { id } } }', {}, { token: accessToken });
  const refused = await platform.graphql('mutation { inviteMember(input: { email: "bad", role: VIEWER }) { token } }', {}, { token: accessToken });
  expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

  const log = await eventually(
    async () => {
      const res = await platform.graphql<AuditLog>('{ auditLog(first: 50) { edges { node { action outcome targetId actor { kind id display } } } } }', {}, { token: accessToken });
      const nodes = res.data?.auditLog.edges.map((e) => e.node) ?? [];
      return nodes.some((n) => n.action === 'invitation.create') && nodes.some((n) => n.action === 'api_key.create') ? nodes : undefined;
    },
    { what: 'identity events in the audit log', timeoutMs: 20_000 },
  );
  expect(log.filter((n) => n.action === 'organization.sign_up')).toEqual([
    { action: 'organization.sign_up', outcome: 'success', targetId: organization.id, actor: { kind: 'USER', id: user.id, display: email } },
  ]);
  expect(log.filter((n) => n.action === 'api_key.create')).toEqual([
    expect.objectContaining({ outcome: 'success', targetId: key.data!.createApiKey.apiKey.id, actor: expect.objectContaining({ id: user.id }) }),
  ]);
  expect(log.filter((n) => n.action === 'invitation.create')).toEqual([expect.objectContaining({ outcome: 'BAD_USER_INPUT' })]);
  const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${platform.schemas.identity}".audit_outbox WHERE org_id = $1 AND delivered_at IS NULL`, [organization.id]);
  expect(rows[0]!.n).toBe(0);
});
