import { randomUUID } from 'node:crypto';
import { withTenantTransaction } from '@orchestra/lib';
import { TENANT_ROLE } from '../engine/engine';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { setOrgQuotas } from './operator-commands';

/**
 * Quota notices (issue 13): a quota that refuses starts of runs (QUOTA_EXCEEDED) writes one
 * quota.exceeded event to the notification outbox per quota per notice window, for the refused
 * organization only, whether the refusals came from startRun (batched, the refusing transaction
 * commits) or startRuns (all or nothing: the notice is written apart).
 */

let t: TestOrchestration;

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const START_RUNS = `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`;

beforeAll(async () => {
  t = await startTestOrchestration();
});

afterAll(async () => {
  await t?.stop();
});

/** A new organization with these quotas and a workflow whose one step waits in a pool nobody serves. */
async function orgWith(quotas: Record<string, number>) {
  const org = randomUUID();
  await setOrgQuotas(t.pool, t.service.engine.config, org, quotas, 'olga');
  await t.grantPool(org, 'nobody-serves-this');
  const principal = userPrincipal(org, 'admin');
  const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { i: { name: 'q', steps: [{ id: 'work', capability: 'noop', pool: 'nobody-serves-this' }] } });
  expect(created.errors).toBeUndefined();
  return { org, principal, workflowId: created.data!.createWorkflow.id };
}

const noticesOf = async (org: string) =>
  (
    await t.pool.query<{ event: { type: string; orgId: string; service: string; data: Record<string, unknown> } }>(
      "SELECT event FROM notification_outbox WHERE org_id = $1 AND event->>'type' = 'quota.exceeded' ORDER BY created_at, id",
      [org],
    )
  ).rows.map((r) => r.event);

describe('a quota refusing starts notifies the organization once per window', () => {
  it('a burst of 50 refused startRun calls writes one notice; another organization gets none', async () => {
    const a = await orgWith({ runsStartedPerMinute: 2 });
    const b = await orgWith({ runsStartedPerMinute: 100 });
    for (let i = 0; i < 2; i += 1) expect((await t.graphql(a.principal, START_RUN, { i: { workflowId: a.workflowId } })).errors).toBeUndefined();
    expect((await t.graphql(b.principal, START_RUN, { i: { workflowId: b.workflowId } })).errors).toBeUndefined();

    const burst = await Promise.all(Array.from({ length: 50 }, () => t.graphql(a.principal, START_RUN, { i: { workflowId: a.workflowId } })));
    expect(burst.map((r) => r.errors?.[0]?.extensions?.['reason'])).toEqual(Array(50).fill('QUOTA_EXCEEDED'));

    const notices = await noticesOf(a.org);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      type: 'quota.exceeded',
      orgId: a.org,
      service: 'orchestration',
      data: { quota: 'runsStartedPerMinute', limit: 2, used: 2, quietMinutes: 60, message: expect.stringMatching(/^quota runsStartedPerMinute exceeded/) as unknown },
    });
    expect(await noticesOf(b.org)).toEqual([]);

    // The window over, the next refusal is news again.
    await t.pool.query("UPDATE quota_notices SET notified_at = now() - interval '2 hours' WHERE org_id = $1", [a.org]);
    expect((await t.graphql(a.principal, START_RUN, { i: { workflowId: a.workflowId } })).errors?.[0]?.extensions?.['reason']).toBe('QUOTA_EXCEEDED');
    expect((await t.graphql(a.principal, START_RUN, { i: { workflowId: a.workflowId } })).errors?.[0]?.extensions?.['reason']).toBe('QUOTA_EXCEEDED');
    expect(await noticesOf(a.org)).toHaveLength(2);
  });

  it('a refused startRuns (all or nothing) is announced too, once, and each quota has its own notice', async () => {
    const c = await orgWith({ queuedTasks: 1, runsStartedPerMinute: 3 });
    for (let i = 0; i < 3; i += 1) {
      const refused = await t.graphql(c.principal, START_RUNS, { i: [{ workflowId: c.workflowId }, { workflowId: c.workflowId }] });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ reason: 'QUOTA_EXCEEDED', quota: 'queuedTasks' });
    }
    expect((await t.pool.query('SELECT count(*)::int AS n FROM runs WHERE org_id = $1', [c.org])).rows[0].n).toBe(0);
    expect((await noticesOf(c.org)).map((n) => n.data['quota'])).toEqual(['queuedTasks']);

    // One run fits the queue; then the runs-per-minute quota is not what refuses, queuedTasks is again: still one notice.
    expect((await t.graphql(c.principal, START_RUN, { i: { workflowId: c.workflowId } })).errors).toBeUndefined();
    expect((await t.graphql(c.principal, START_RUN, { i: { workflowId: c.workflowId } })).errors?.[0]?.extensions).toMatchObject({ quota: 'queuedTasks' });
    expect((await noticesOf(c.org)).map((n) => n.data['quota'])).toEqual(['queuedTasks']);

    // Another quota refusing is its own news.
    await setOrgQuotas(t.pool, t.service.engine.config, c.org, { queuedTasks: 100, runsStartedPerMinute: 1 }, 'olga');
    expect((await t.graphql(c.principal, START_RUN, { i: { workflowId: c.workflowId } })).errors?.[0]?.extensions).toMatchObject({ quota: 'runsStartedPerMinute' });
    expect((await noticesOf(c.org)).map((n) => n.data['quota'])).toEqual(['queuedTasks', 'runsStartedPerMinute']);
  });

  it("keeps each organization's notice state to itself under row-level security", async () => {
    const d = await orgWith({ runsStartedPerMinute: 1 });
    expect((await t.graphql(d.principal, START_RUN, { i: { workflowId: d.workflowId } })).errors).toBeUndefined();
    expect((await t.graphql(d.principal, START_RUN, { i: { workflowId: d.workflowId } })).errors?.[0]?.extensions?.['reason']).toBe('QUOTA_EXCEEDED');
    const other = randomUUID();
    const asOther = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => withTenantTransaction(t.pool, TENANT_ROLE, { orgId: other }, (tx) => tx.query<T>(sql, params));
    expect((await asOther('SELECT * FROM quota_notices WHERE org_id = $1', [d.org])).rows).toEqual([]);
    expect((await asOther("UPDATE quota_notices SET notified_at = now() - interval '1 day' WHERE org_id = $1", [d.org])).rowCount).toBe(0);
    await expect(asOther("INSERT INTO quota_notices (org_id, quota) VALUES ($1, 'queuedTasks')", [d.org])).rejects.toThrow(/row-level security/);
    expect((await t.pool.query('SELECT quota FROM quota_notices WHERE org_id = $1', [d.org])).rows).toEqual([{ quota: 'runsStartedPerMinute' }]);
  });
});
