import { randomUUID } from 'node:crypto';
import { TEST_DATABASE_URL, type Principal } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { runFlowLimits } from './limits-cli';
import { changePoolGrant, setOrgQuotas } from './operator-commands';

/**
 * Rate limits (admins' CRUD), the organization's limits operators set (quotas, pool grants) and
 * what a workflow may name of them, through GraphQL as the gateway signs it; each checked for
 * another organization's access.
 */

let t: TestOrchestration;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const viewerA = userPrincipal(orgA, 'viewer');
const adminB = userPrincipal(orgB, 'admin');

const LIMIT_FIELDS = 'id name limit per used createdBy';
const CREATE_LIMIT = `mutation($i: CreateRateLimitInput!) { createRateLimit(input: $i) { ${LIMIT_FIELDS} } }`;
const UPDATE_LIMIT = `mutation($id: ID!, $i: UpdateRateLimitInput!) { updateRateLimit(id: $id, input: $i) { ${LIMIT_FIELDS} } }`;
const DELETE_LIMIT = `mutation($id: ID!) { deleteRateLimit(id: $id) { id name } }`;
const LIMITS = `{ rateLimits { ${LIMIT_FIELDS} } }`;
const CREATE_WORKFLOW = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) {
  id latestVersion { priority concurrency { key limit onLimit } steps { id pool priority concurrency { key limit onLimit } rateLimits { name units } forEach { items maxParallel onItemFailure } } }
} }`;
const ORG_LIMITS = `{ organizationLimits { runningTasksPerPool runsStartedPerMinute queuedTasks weight pools usage { runsStartedLastMinute queuedTasks runningTasks { pool running } } } }`;

type Errors = Array<{ message: string; extensions?: Record<string, unknown> }> | undefined;
const errorOf = (errors: Errors) => ({ ...errors?.[0]?.extensions, message: errors?.[0]?.message });

async function createLimit(principal: Principal, name: string, limit: number, per: string) {
  const res = await t.graphql<{ createRateLimit: { id: string; name: string; limit: number; per: string; used: number; createdBy: string } }>(principal, CREATE_LIMIT, { i: { name, limit, per } });
  expect(res.errors).toBeUndefined();
  return res.data!.createRateLimit;
}

const auditActions = async (orgId: string): Promise<string[]> =>
  (await t.pool.query<{ action: string }>(`SELECT event ->> 'action' AS action FROM audit_outbox WHERE org_id = $1 ORDER BY created_at, id`, [orgId])).rows.map((r) => r.action);

beforeAll(async () => {
  t = await startTestOrchestration({ ORG_QUEUED_TASKS: '50000' });
});
afterAll(async () => {
  await t?.stop();
});

describe('rate limits', () => {
  it('are created, listed, changed and deleted by admins, each audited, and only seen by their organization', async () => {
    const created = await createLimit(adminA, 'openai', 5, 'SECOND');
    expect(created).toMatchObject({ name: 'openai', limit: 5, per: 'SECOND', used: 0, createdBy: adminA.display });
    await createLimit(adminA, 'crm.writes', 100, 'HOUR');
    expect((await t.graphql<{ rateLimits: Array<{ name: string }> }>(viewerA, LIMITS)).data?.rateLimits.map((l) => l.name)).toEqual(['crm.writes', 'openai']);

    const changed = await t.graphql<{ updateRateLimit: { limit: number; per: string } }>(adminA, UPDATE_LIMIT, { id: created.id, i: { limit: 10, per: 'MINUTE' } });
    expect(changed.data?.updateRateLimit).toMatchObject({ limit: 10, per: 'MINUTE' });

    // Another organization sees none of them and cannot change or delete them by id.
    expect((await t.graphql<{ rateLimits: unknown[] }>(adminB, LIMITS)).data?.rateLimits).toEqual([]);
    expect(errorOf((await t.graphql(adminB, UPDATE_LIMIT, { id: created.id, i: { limit: 1 } })).errors)).toMatchObject({ code: 'NOT_FOUND' });
    expect(errorOf((await t.graphql(adminB, DELETE_LIMIT, { id: created.id })).errors)).toMatchObject({ code: 'NOT_FOUND' });
    // The same name is free in another organization.
    await createLimit(adminB, 'openai', 1, 'SECOND');

    const deleted = await t.graphql<{ deleteRateLimit: { name: string } }>(adminA, DELETE_LIMIT, { id: created.id });
    expect(deleted.data?.deleteRateLimit.name).toBe('openai');
    expect(await auditActions(orgA)).toEqual(['rate_limit.create', 'rate_limit.create', 'rate_limit.update', 'rate_limit.delete']);
  });

  it('refuse bad input naming the field, a duplicate name, and anyone below admin', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'zero', limit: 0, per: 'SECOND' }, 'input.limit', 'OUT_OF_RANGE'],
      [{ name: 'huge', limit: 2_000_000, per: 'SECOND' }, 'input.limit', 'OUT_OF_RANGE'],
      [{ name: 'has space', limit: 1, per: 'SECOND' }, 'input.name', 'INVALID_RATE_LIMIT'],
    ];
    for (const [i, field, reason] of cases) {
      expect(errorOf((await t.graphql(adminA, CREATE_LIMIT, { i })).errors)).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    await createLimit(adminA, 'dup', 1, 'MINUTE');
    expect(errorOf((await t.graphql(adminA, CREATE_LIMIT, { i: { name: 'dup', limit: 2, per: 'MINUTE' } })).errors)).toMatchObject({ code: 'CONFLICT', reason: 'RATE_LIMIT_EXISTS', field: 'input.name' });
    expect(errorOf((await t.graphql(viewerA, CREATE_LIMIT, { i: { name: 'mine', limit: 2, per: 'MINUTE' } })).errors)).toMatchObject({ code: 'FORBIDDEN' });
    expect(errorOf((await t.graphql(userPrincipal(orgA, 'operator'), CREATE_LIMIT, { i: { name: 'mine', limit: 2, per: 'MINUTE' } })).errors)).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('are named by steps only when they exist with enough units, and then cannot be deleted or lowered below them', async () => {
    const limit = await createLimit(adminA, 'scraper', 4, 'MINUTE');
    const step = (rateLimits: unknown) => ({ name: `wf-${randomUUID().slice(0, 8)}`, steps: [{ id: 'call', capability: 'noop', rateLimits }] });
    expect(errorOf((await t.graphql(adminA, CREATE_WORKFLOW, { i: step([{ name: 'nope' }]) })).errors)).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'UNKNOWN_RATE_LIMIT',
      field: 'input.steps[0].rateLimits[0].name',
      message: 'step "call": the organization has no rate limit "nope" (create it first)',
    });
    // Another organization's limit of that name does not count.
    expect(errorOf((await t.graphql(adminB, CREATE_WORKFLOW, { i: step([{ name: 'scraper' }]) })).errors)).toMatchObject({ reason: 'UNKNOWN_RATE_LIMIT' });
    expect(errorOf((await t.graphql(adminA, CREATE_WORKFLOW, { i: step([{ name: 'scraper', units: 5 }]) })).errors)).toMatchObject({
      reason: 'UNITS_ABOVE_LIMIT',
      field: 'input.steps[0].rateLimits[0].units',
    });
    const ok = await t.graphql<{ createWorkflow: { latestVersion: { steps: Array<{ rateLimits: unknown }> } } }>(adminA, CREATE_WORKFLOW, { i: step([{ name: 'scraper', units: 3 }]) });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.createWorkflow.latestVersion.steps[0]?.rateLimits).toEqual([{ name: 'scraper', units: 3 }]);

    expect(errorOf((await t.graphql(adminA, DELETE_LIMIT, { id: limit.id })).errors)).toMatchObject({ code: 'CONFLICT', reason: 'RATE_LIMIT_IN_USE' });
    expect(errorOf((await t.graphql(adminA, UPDATE_LIMIT, { id: limit.id, i: { limit: 2 } })).errors)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'LIMIT_BELOW_UNITS', field: 'input.limit' });
    expect((await t.graphql(adminA, UPDATE_LIMIT, { id: limit.id, i: { limit: 3 } })).errors).toBeUndefined();
  });
});

describe('flow fields of a workflow', () => {
  it('are stored with the version and shown', async () => {
    const res = await t.graphql<{ createWorkflow: { latestVersion: Record<string, unknown> } }>(adminA, CREATE_WORKFLOW, {
      i: {
        name: 'per-customer',
        priority: 4,
        concurrency: { key: '{{ input.customerId }}', limit: 2 },
        steps: [
          { id: 'list', capability: 'noop' },
          { id: 'each', capability: 'noop', dependsOn: ['list'], priority: 5, forEach: { items: '{{ steps.list.output.files }}', maxParallel: 50, onItemFailure: 'CONTINUE' }, concurrency: { key: 'all', limit: 3, onLimit: 'CANCEL_OLDEST' } },
        ],
      },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data?.createWorkflow.latestVersion).toEqual({
      priority: 4,
      concurrency: { key: '{{ input.customerId }}', limit: 2, onLimit: 'QUEUE' },
      steps: [
        { id: 'list', pool: 'default', priority: null, concurrency: null, rateLimits: [], forEach: null },
        {
          id: 'each',
          pool: 'default',
          priority: 5,
          concurrency: { key: 'all', limit: 3, onLimit: 'CANCEL_OLDEST' },
          rateLimits: [],
          forEach: { items: '{{ steps.list.output.files }}', maxParallel: 50, onItemFailure: 'CONTINUE' },
        },
      ],
    });
  });

  it('refuse limit 0, a key that reads a step, maxParallel out of range and a bad priority, naming the field, writing nothing', async () => {
    const before = (await t.pool.query('SELECT count(*)::int AS n FROM workflows')).rows[0].n as number;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ concurrency: { key: '{{ input.c }}', limit: 0 }, steps: [{ id: 'a', capability: 'noop' }] }, 'input.concurrency.limit', 'OUT_OF_RANGE'],
      [{ steps: [{ id: 'a', capability: 'noop', concurrency: { key: '{{ steps.a.output }}', limit: 1 } }] }, 'input.steps[0].concurrency.key', 'INVALID_CONCURRENCY_KEY'],
      [{ steps: [{ id: 'a', capability: 'noop' }, { id: 'b', capability: 'noop', dependsOn: ['a'], forEach: { items: '{{ steps.a.output }}', maxParallel: 0 } }] }, 'input.steps[1].forEach.maxParallel', 'OUT_OF_RANGE'],
      [{ steps: [{ id: 'a', capability: 'noop' }, { id: 'b', capability: 'noop', dependsOn: ['a'], forEach: { items: '{{ steps.a.output }}', maxParallel: 5000 } }] }, 'input.steps[1].forEach.maxParallel', 'OUT_OF_RANGE'],
      [{ priority: 9, steps: [{ id: 'a', capability: 'noop' }] }, 'input.priority', 'OUT_OF_RANGE'],
    ];
    for (const [input, field, reason] of cases) {
      const res = await t.graphql(adminA, CREATE_WORKFLOW, { i: { name: `bad-${randomUUID().slice(0, 8)}`, ...input } });
      expect(errorOf(res.errors)).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    expect((await t.pool.query('SELECT count(*)::int AS n FROM workflows')).rows[0].n).toBe(before);
  });
});

describe('pools and quotas set by operators', () => {
  it('refuse a step in a pool not granted (POOL_NOT_ALLOWED), allow it once granted, to that organization only', async () => {
    const gpuStep = (name: string) => ({ name, steps: [{ id: 'prep', capability: 'noop' }, { id: 'infer', capability: 'noop', pool: 'gpu-a100', dependsOn: ['prep'] }] });
    const refused = await t.graphql(adminA, CREATE_WORKFLOW, { i: gpuStep('on-gpus') });
    expect(errorOf(refused.errors)).toMatchObject({ code: 'FORBIDDEN', reason: 'POOL_NOT_ALLOWED', field: 'input.steps[1].pool', pool: 'gpu-a100' });
    expect(refused.errors?.[0]?.message).toMatch(/pool "gpu-a100" is not granted to this organization/);

    expect(await changePoolGrant(t.pool, orgA, 'gpu-a100', true, 'olga')).toBe(true);
    expect(await changePoolGrant(t.pool, orgA, 'gpu-a100', true, 'olga')).toBe(false);
    expect((await t.graphql(adminA, CREATE_WORKFLOW, { i: gpuStep('on-gpus') })).errors).toBeUndefined();
    expect(errorOf((await t.graphql(adminB, CREATE_WORKFLOW, { i: gpuStep('on-gpus') })).errors)).toMatchObject({ reason: 'POOL_NOT_ALLOWED' });
    expect((await t.graphql<{ organizationLimits: { pools: string[] } }>(adminA, ORG_LIMITS)).data?.organizationLimits.pools).toEqual(['default', 'gpu-a100']);
    expect((await t.graphql<{ organizationLimits: { pools: string[] } }>(adminB, ORG_LIMITS)).data?.organizationLimits.pools).toEqual(['default']);

    expect(await changePoolGrant(t.pool, orgA, 'gpu-a100', false, 'olga')).toBe(true);
    expect(errorOf((await t.graphql(adminA, CREATE_WORKFLOW, { i: gpuStep('on-gpus-again') })).errors)).toMatchObject({ reason: 'POOL_NOT_ALLOWED' });
    const actions = await auditActions(orgA);
    expect(actions).toContain('org.pool.grant');
    expect(actions).toContain('org.pool.revoke');
  });

  it("are shown to the organization's admins (the platform default where none is set), not to viewers", async () => {
    const org = randomUUID();
    const admin = userPrincipal(org, 'admin');
    const before = await t.graphql<{ organizationLimits: Record<string, unknown> }>(admin, ORG_LIMITS);
    expect(before.data?.organizationLimits).toEqual({
      runningTasksPerPool: null,
      runsStartedPerMinute: null,
      queuedTasks: 50_000,
      weight: 1,
      pools: ['default'],
      usage: { runsStartedLastMinute: 0, queuedTasks: 0, runningTasks: [] },
    });
    const report = await setOrgQuotas(t.pool, t.service.engine.config, org, { runningTasksPerPool: 4, runsStartedPerMinute: 30, weight: 2 }, 'olga');
    expect(report.effective).toEqual({ runningTasksPerPool: 4, runsStartedPerMinute: 30, queuedTasks: 50_000, waitingTasks: 100_000, weight: 2 });
    expect((await t.graphql<{ organizationLimits: Record<string, unknown> }>(admin, ORG_LIMITS)).data?.organizationLimits).toMatchObject({ runningTasksPerPool: 4, runsStartedPerMinute: 30, queuedTasks: 50_000, weight: 2 });
    // Another organization keeps the defaults; a viewer may not look.
    expect((await t.graphql<{ organizationLimits: Record<string, unknown> }>(adminB, ORG_LIMITS)).data?.organizationLimits).toMatchObject({ runningTasksPerPool: null, weight: 1 });
    expect(errorOf((await t.graphql(userPrincipal(org, 'viewer'), ORG_LIMITS)).errors)).toMatchObject({ code: 'FORBIDDEN' });
    await expect(setOrgQuotas(t.pool, t.service.engine.config, org, { weight: 0 }, 'olga')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'weight' });
    await expect(setOrgQuotas(t.pool, t.service.engine.config, org, { slots: 3 }, 'olga')).rejects.toMatchObject({ reason: 'UNKNOWN_QUOTA' });
    expect(await auditActions(org)).toEqual(['org.quotas.update']);
  });

  it('are set with the flow-limits command, and a tenant cannot write them', async () => {
    const org = randomUUID();
    const run = async (...args: string[]) => {
      const output = { stdout: '', stderr: '' };
      const code = await runFlowLimits(args, { DATABASE_URL: TEST_DATABASE_URL, DB_SCHEMA: t.schema, OPERATOR: 'olga', LOG_LEVEL: 'error' }, { out: (s) => (output.stdout += s), err: (s) => (output.stderr += s) });
      return { code, ...output };
    };
    const set = await run('set', org, 'queuedTasks=100', 'runsStartedPerMinute=default');
    expect(set.stdout).toContain(`organization ${org}`);
    expect(set.stdout).toMatch(/queuedTasks\s+100\n/);
    await run('grant', org, 'browsers');
    const shown = await run('show', org);
    expect(shown.stdout).toMatch(/pools\s+default, browsers/);
    expect(set.code).toBe(0);
    expect(await run('set', org, 'weight=0')).toMatchObject({ code: 1, stderr: expect.stringContaining('weight must be an integer between 1 and 100') });
    expect(await run('grant', 'not-an-org', 'x')).toMatchObject({ code: 1, stderr: expect.stringContaining('an organization id is a UUID') });
    expect(await run('frobnicate', org)).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: npm run flow-limits') });
    expect((await run('revoke', org, 'browsers')).stdout).toBe(`pool "browsers" revoked from ${org}\n`);
    // Row-level security: the organization's own transactions may read its quotas, never write them.
    await expect(t.service.engine.inTenant(userPrincipal(org, 'owner'), (tx) => tx.query('UPDATE org_quotas SET queued_tasks = 1000000 WHERE org_id = $1', [org]))).resolves.toMatchObject({ rowCount: 0 });
    await expect(t.service.engine.inTenant(userPrincipal(org, 'owner'), (tx) => tx.query(`INSERT INTO pool_grants (org_id, pool, granted_by) VALUES ($1, 'gpu', 'me')`, [org]))).rejects.toThrow(/row-level security/);
  });
});
