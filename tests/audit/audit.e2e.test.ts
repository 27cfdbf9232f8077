import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Auth, type Platform } from '../src/platform';

/**
 * The audit trail across services: identity, orchestration and audit as child processes, each
 * service's outbox relay delivering over real gRPC, the gateway in front. Audit is stopped and
 * started again on the same ports to show that events wait in the producer's outbox and arrive
 * exactly once.
 */

let platform: Platform;
const password = `pw-${randomBytes(12).toString('hex')}`;
const ownerEmail = `owner-${randomBytes(4).toString('hex')}@audit.test`;
let owner: Auth;
let ownerUserId: string;
let orgId: string;
const archiveDir = mkdtempSync(join(tmpdir(), 'orchestra-audit-e2e-archive-'));

async function must<T = any>(query: string, variables: Record<string, unknown>, auth?: Auth): Promise<T> {
  const { data, errors } = await platform.graphql<T>(query, variables, auth);
  if (errors) throw new Error(`${query.slice(0, 80)}... failed: ${JSON.stringify(errors)}`);
  return data!;
}

/** Audit events stored for an action on a target, straight from the audit service's table. */
async function storedEvents(action: string, targetId: string): Promise<Array<{ id: string; service: string; actor_id: string; outcome: string }>> {
  const { rows } = await platform.pool.query(
    `SELECT id, service, actor_id, outcome FROM "${platform.schemas.audit}".audit_events WHERE action = $1 AND target_id = $2 ORDER BY chain_seq`,
    [action, targetId],
  );
  return rows;
}

/** The producing service's outbox rows for an action on a target. */
async function outboxRows(service: 'identity' | 'orchestration', action: string, targetId: string): Promise<Array<{ id: string; delivered_at: Date | null; attempts: number }>> {
  const { rows } = await platform.pool.query(
    `SELECT id, delivered_at, attempts FROM "${platform.schemas[service]}".audit_outbox WHERE event->>'action' = $1 AND event->>'targetId' = $2`,
    [action, targetId],
  );
  return rows;
}

const RENAME = 'mutation ($name: String!) { updateOrganization(input: { name: $name }) { id name } }';
const CREATE_WORKFLOW = 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }';
const UPDATE_WORKFLOW = 'mutation ($id: ID!, $input: UpdateWorkflowInput!) { updateWorkflow(id: $id, input: $input) { id } }';
const workflowInput = (name: string) => ({ name, steps: [{ id: 'wait', capability: 'noop' }] });

beforeAll(async () => {
  platform = await startPlatform({
    services: ['audit', 'identity', 'orchestration'],
    env: {
      identity: { ADMIN_EMAIL: ownerEmail, ADMIN_PASSWORD: password, ADMIN_ORG_NAME: 'Audited Org' },
      audit: { AUDIT_ARCHIVE_DIR: archiveDir },
    },
  });
  const { login } = await must(`mutation ($input: LoginInput!) { login(input: $input) { accessToken user { id } organization { id } } }`, { input: { email: ownerEmail, password } });
  owner = { token: login.accessToken };
  ownerUserId = login.user.id;
  orgId = login.organization.id;
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(archiveDir, { recursive: true, force: true });
});

describe('audit events across services', () => {
  it('an identity mutation produces exactly one audit event', async () => {
    await must(RENAME, { name: 'Audited Org (renamed)' }, owner);
    const [event] = await eventually(async () => {
      const rows = await storedEvents('organization.update', orgId);
      return rows.length > 0 ? rows : undefined;
    }, { timeoutMs: 20_000, what: 'the organization.update event in audit' });
    // The outbox row is marked delivered, so no relay sends it again; audit holds it once.
    await eventually(async () => (await outboxRows('identity', 'organization.update', orgId)).every((r) => r.delivered_at !== null), { what: 'outbox marked delivered' });
    expect(await outboxRows('identity', 'organization.update', orgId)).toHaveLength(1);
    expect(await storedEvents('organization.update', orgId)).toEqual([{ id: event!.id, service: 'identity', actor_id: ownerUserId, outcome: 'success' }]);
  });

  it('an identity mutation made while audit is down is delivered, once, after audit comes back', async () => {
    await platform.stopService('audit');
    await must(RENAME, { name: 'Renamed while audit was down' }, owner);
    const pending = await outboxRows('identity', 'organization.update', orgId);
    expect(pending).toHaveLength(2);
    const waiting = pending.find((r) => r.delivered_at === null);
    expect(waiting).toBeDefined();
    // The relay keeps trying (and failing) while audit is away.
    await eventually(async () => ((await outboxRows('identity', 'organization.update', orgId)).find((r) => r.id === waiting!.id)?.attempts ?? 0) >= 1, {
      timeoutMs: 20_000,
      what: 'a failed delivery attempt',
    });
    expect((await storedEvents('organization.update', orgId)).map((e) => e.id)).not.toContain(waiting!.id);

    await platform.startService('audit');
    await eventually(async () => (await storedEvents('organization.update', orgId)).some((e) => e.id === waiting!.id), { timeoutMs: 60_000, what: 'delivery after audit came back' });
    const stored = await storedEvents('organization.update', orgId);
    expect(stored).toHaveLength(2);
    expect(new Set(stored.map((e) => e.id)).size).toBe(2);
  });

  it('an orchestration mutation produces exactly one audit event', async () => {
    const { createWorkflow } = await must(CREATE_WORKFLOW, { input: workflowInput('audited-workflow') }, owner);
    const workflowId: string = createWorkflow.id;
    await eventually(async () => (await storedEvents('workflow.create', workflowId)).length > 0, { timeoutMs: 20_000, what: 'the workflow.create event in audit' });
    await eventually(async () => (await outboxRows('orchestration', 'workflow.create', workflowId)).every((r) => r.delivered_at !== null), { what: 'outbox marked delivered' });
    expect(await outboxRows('orchestration', 'workflow.create', workflowId)).toHaveLength(1);
    expect(await storedEvents('workflow.create', workflowId)).toEqual([expect.objectContaining({ service: 'orchestration', actor_id: ownerUserId, outcome: 'success' })]);
  });

  it('an orchestration mutation made while audit is down is delivered, once, after audit comes back', async () => {
    const { createWorkflow } = await must(CREATE_WORKFLOW, { input: workflowInput('changed-while-audit-is-down') }, owner);
    const workflowId: string = createWorkflow.id;
    await eventually(async () => (await storedEvents('workflow.create', workflowId)).length === 1, { timeoutMs: 20_000, what: 'workflow.create delivered' });

    await platform.stopService('audit');
    await must(UPDATE_WORKFLOW, { id: workflowId, input: { description: 'edited while audit was down' } }, owner);
    const [waiting] = await outboxRows('orchestration', 'workflow.update', workflowId);
    expect(waiting).toMatchObject({ delivered_at: null });
    await eventually(async () => ((await outboxRows('orchestration', 'workflow.update', workflowId))[0]?.attempts ?? 0) >= 1, { timeoutMs: 20_000, what: 'a failed delivery attempt' });
    expect(await storedEvents('workflow.update', workflowId)).toEqual([]);

    await platform.startService('audit');
    await eventually(async () => (await storedEvents('workflow.update', workflowId)).length > 0, { timeoutMs: 60_000, what: 'delivery after audit came back' });
    await eventually(async () => (await outboxRows('orchestration', 'workflow.update', workflowId))[0]?.delivered_at != null, { what: 'outbox marked delivered' });
    expect(await storedEvents('workflow.update', workflowId)).toEqual([expect.objectContaining({ id: waiting!.id, service: 'orchestration', outcome: 'success' })]);
  });

  it('shows the trail through the gateway to an owner, verifies it, and lists User.activity', async () => {
    const { auditLog } = await must(
      `query { auditLog(filter: { action: "organization.update" }) { edges { node { id service action outcome actor { kind id display } targetId } } } }`,
      {},
      owner,
    );
    expect(auditLog.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ service: 'identity', action: 'organization.update', outcome: 'success', targetId: orgId, actor: { kind: 'USER', id: ownerUserId, display: ownerEmail } }),
      expect.objectContaining({ action: 'organization.update' }),
    ]);
    const { verifyAuditChain } = await must('query { verifyAuditChain { ok checkedEvents break { reason } } }', {}, owner);
    expect(verifyAuditChain).toMatchObject({ ok: true, break: null });
    expect(verifyAuditChain.checkedEvents).toBeGreaterThanOrEqual(3);
    // Federation: identity's User, extended by audit.
    const { me } = await must('query { me { user { id activity(filter: { action: "organization.*" }) { edges { node { action } } } } } }', {}, owner);
    expect(me.user.activity.edges.map((e: any) => e.node.action)).toEqual(['organization.update', 'organization.update']);
  });

  it('refuses the audit log to a viewer', async () => {
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@audit.test`;
    const { inviteMember } = await must('mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }', { input: { email: viewerEmail, role: 'VIEWER' } }, owner);
    const { acceptInvitation } = await must('mutation ($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { accessToken } }', {
      input: { token: inviteMember.token, name: 'Vi Ewer', password },
    });
    const viewer = { token: acceptInvitation.accessToken };
    for (const query of ['query { auditLog { edges { node { id } } } }', 'query { verifyAuditChain { ok } }', 'query { auditLogExport(format: CSV) { content } }']) {
      const { errors } = await platform.graphql(query, {}, viewer);
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});
