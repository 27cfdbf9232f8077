import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { setOrgQuotas } from '../flow-control/operator-commands';
import { startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from '../testing/harness';

/**
 * Wait steps and the quotas (issue 10, docs/decisions.md): a task of a wait step (approval, event,
 * sleepUntil) holds no slot and no queue place, so it does not count toward queuedTasks; waits are
 * bounded by their own quota, waitingTasks (default ORG_WAITING_TASKS), checked when runs start.
 * Both sides: waits do not use up queuedTasks, and waits past waitingTasks are refused with
 * QUOTA_EXCEEDED naming it, nothing written.
 */

let t: TestOrchestration;

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const LIMITS = `{ organizationLimits { queuedTasks waitingTasks usage { queuedTasks waitingTasks } } }`;

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });

beforeAll(async () => {
  t = await startTestOrchestration();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

it('wait steps do not count toward queuedTasks, and are bounded by waitingTasks', async () => {
  const org = randomUUID();
  const admin = userPrincipal(org, 'admin');
  await setOrgQuotas(t.pool, t.service.engine.config, org, { queuedTasks: 1, waitingTasks: 2 }, 'olga');
  // A pool no worker serves: a queued task stays queued.
  await t.grantPool(org, 'nobody-serves');
  const workflow = async (steps: unknown[]) => {
    const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name: `wf-${randomUUID().slice(0, 8)}`, steps } });
    expect(res.errors).toBeUndefined();
    return res.data!.createWorkflow.id;
  };
  const approval = await workflow([{ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'go?' } }]);
  const work = await workflow([{ id: 'work', capability: 'noop', pool: 'nobody-serves' }]);
  const start = (workflowId: string) => t.graphql<{ startRun: { run: { id: string } } }>(admin, START_RUN, { i: { workflowId } });
  const runsOf = async () => (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM runs WHERE org_id = $1', [org])).rows[0]!.n;

  // Two approvals wait: more than queuedTasks (1) allows, but they are not queued work.
  const first = await start(approval);
  expect(first.errors).toBeUndefined();
  expect((await start(approval)).errors).toBeUndefined();
  const limits = await t.graphql<{ organizationLimits: { queuedTasks: number; waitingTasks: number; usage: { queuedTasks: number; waitingTasks: number } } }>(admin, LIMITS);
  expect(limits.data!.organizationLimits).toEqual({ queuedTasks: 1, waitingTasks: 2, usage: { queuedTasks: 0, waitingTasks: 2 } });

  // The queued-work quota is still whole: one task for a worker fits, a second does not.
  expect((await start(work)).errors).toBeUndefined();
  const queuedRefused = await start(work);
  expect(errorOf(queuedRefused)).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', quota: 'queuedTasks', limit: 1 });

  // A third wait is past waitingTasks: refused, naming it, nothing written.
  const before = await runsOf();
  const refused = await start(approval);
  expect(errorOf(refused)).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', quota: 'waitingTasks', limit: 2, used: 2 });
  expect(errorOf(refused).message).toMatch(/^quota waitingTasks exceeded: the organization has 2 wait steps waiting/);
  expect(await runsOf()).toBe(before);

  // A decided approval stops waiting: room for another.
  const taskId = await eventually(
    async () => (await t.pool.query<{ id: string }>(`SELECT id FROM tasks WHERE run_id = $1 AND wait_reason ->> 'kind' = 'APPROVAL'`, [first.data!.startRun.run.id])).rows[0]?.id,
    { timeoutMs: 20_000, what: 'the first approval to wait' },
  );
  expect((await t.graphql(admin, `mutation($t: ID!) { approveTask(taskId: $t) { id } }`, { t: taskId })).errors).toBeUndefined();
  expect((await start(approval)).errors).toBeUndefined();

  // Another organization's waits are its own: a fresh organization (the default, 100,000) is not refused.
  const other = userPrincipal(randomUUID(), 'admin');
  const otherWorkflow = await t.graphql<{ createWorkflow: { id: string } }>(other, CREATE, { i: { name: 'w', steps: [{ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'go?' } }] } });
  expect((await t.graphql(other, START_RUN, { i: { workflowId: otherWorkflow.data!.createWorkflow.id } })).errors).toBeUndefined();
  expect((await t.graphql<{ organizationLimits: { waitingTasks: number; usage: { waitingTasks: number } } }>(other, LIMITS)).data!.organizationLimits).toMatchObject({ waitingTasks: 100_000, usage: { waitingTasks: 1 } });
}, 120_000);
