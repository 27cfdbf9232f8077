import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from '../testing/harness';

/**
 * Wait steps (issue 10) on the real service (PostgreSQL, Redis, a worker over gRPC for the steps
 * around them): approve, reject, each timeout outcome, role checks, another organization, racing
 * approvers, event waits resumed by emitEvent with correlation and a filter, sleepUntil, a waiting
 * run through an orchestration restart, a cancelled run's wait, and bad definitions refused.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const operator = userPrincipal(orgId, 'operator');
const viewer = userPrincipal(orgId, 'viewer');
const otherAdmin = userPrincipal(randomUUID(), 'admin');

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id latestVersion { steps { id wait { kind roles message timeoutSeconds onTimeout onReject } } } } }`;
const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const RUN = `query($id: ID!) { run(id: $id) { status output error { code message }
  tasks { id stepId status output error { code message } waitReason { kind message details }
          approval { id status message roles canDecide decision decidedBy comment decidedAt onTimeout } } } }`;
const APPROVE = `mutation($t: ID!, $c: String) { approveTask(taskId: $t, comment: $c) { id status output } }`;
const REJECT = `mutation($t: ID!, $c: String) { rejectTask(taskId: $t, comment: $c) { id status output } }`;
const PENDING = `query { pendingApprovals(first: 100) { totalCount edges { node { id stepId message roles canDecide waitingSince task { id } run { id } } } } }`;
const EMIT = `mutation($n: String!, $p: JSON, $k: String) { emitEvent(name: $n, payload: $p, idempotencyKey: $k) { resumedWaits } }`;

interface TaskView {
  id: string;
  stepId: string;
  status: string;
  output: unknown;
  error: { code: string; message: string } | null;
  waitReason: { kind: string; message: string; details: Record<string, unknown> } | null;
  approval: { id: string; status: string; message: string | null; roles: string[]; canDecide: boolean; decision: string | null; decidedBy: string | null; comment: string | null; onTimeout: string } | null;
}
interface RunView {
  status: string;
  output: unknown;
  error: { code: string; message: string } | null;
  tasks: TaskView[];
}

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });

beforeAll(async () => {
  t = await startTestOrchestration({ WAIT_TICK_INTERVAL_MS: '100' });
  await t.startWorker({ WORKER_SLOTS: '8' });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function createWorkflow(steps: unknown[]): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name: `wait-${randomUUID().slice(0, 8)}`, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function startRun(workflowId: string, input: Record<string, unknown> = {}): Promise<string> {
  const res = await t.graphql<{ startRun: { run: { id: string } } }>(admin, START_RUN, { i: { workflowId, input } });
  expect(res.errors).toBeUndefined();
  return res.data!.startRun.run.id;
}

const runOf = async (id: string): Promise<RunView> => {
  const res = await t.graphql<{ run: RunView }>(admin, RUN, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
};

const ended = (id: string, timeoutMs = 30_000) =>
  eventually(
    async () => {
      const run = await runOf(id);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined;
    },
    { timeoutMs, what: `run ${id} to end` },
  );

/** The run's task of `stepId` once it waits for `kind`. */
const waiting = (runId: string, stepId: string, kind = 'APPROVAL') =>
  eventually(
    async () => {
      const task = (await runOf(runId)).tasks.find((x) => x.stepId === stepId);
      return task?.status === 'QUEUED' && task.waitReason?.kind === kind ? task : undefined;
    },
    { timeoutMs: 20_000, what: `step ${stepId} of run ${runId} to wait for ${kind}` },
  );

const approvalStep = (wait: Record<string, unknown> = {}) => ({ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'Ship order {{ input.orderId }}?', ...wait } });
const after = { id: 'after', capability: 'noop', dependsOn: ['approve'], input: { decision: '{{ steps.approve.output.decision }}', comment: '{{ steps.approve.output.comment }}' } };

describe('approval', () => {
  test('an operator approves: the wait held no queue entry, the downstream step reads the decision, a second decision is refused', async () => {
    const workflowId = await createWorkflow([approvalStep(), after]);
    const runId = await startRun(workflowId, { orderId: 'A-17' });
    const task = await waiting(runId, 'approve');
    expect(task.waitReason?.message).toContain('Ship order A-17?');
    expect(task.approval).toMatchObject({ status: 'WAITING', message: 'Ship order A-17?', roles: ['operator', 'admin', 'owner'], canDecide: true, onTimeout: 'FAIL' });
    expect((await runOf(runId)).status).toBe('RUNNING');
    // No worker slot, no queue: the attempt never entered the dispatch outbox.
    const outbox = await t.pool.query('SELECT 1 FROM dispatch_outbox WHERE task_id = $1', [task.id]);
    expect(outbox.rowCount).toBe(0);

    const pending = await t.graphql<{ pendingApprovals: { totalCount: number; edges: Array<{ node: { stepId: string; message: string; task: { id: string }; run: { id: string } } }> } }>(operator, PENDING);
    expect(pending.errors).toBeUndefined();
    expect(pending.data!.pendingApprovals.edges.map((e) => e.node.task.id)).toContain(task.id);

    const approved = await t.graphql<{ approveTask: { status: string; output: Record<string, unknown> } }>(operator, APPROVE, { t: task.id, c: 'looks good' });
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveTask.status).toBe('SUCCEEDED');
    expect(approved.data!.approveTask.output).toMatchObject({ decision: 'APPROVED', comment: 'looks good', decidedBy: operator.display });

    const again = await t.graphql(admin, REJECT, { t: task.id, c: 'too late' });
    expect(errorOf(again)).toMatchObject({ code: 'CONFLICT', reason: 'APPROVAL_ALREADY_DECIDED' });
    expect(errorOf(again).message).toContain(`already approved by ${operator.display}`);

    const run = await ended(runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.find((x) => x.stepId === 'after')?.output).toEqual({ decision: 'APPROVED', comment: 'looks good' });
    expect(run.tasks.find((x) => x.stepId === 'approve')?.approval).toMatchObject({ status: 'APPROVED', decision: 'APPROVED', decidedBy: operator.display, comment: 'looks good' });
    const notified = await t.pool.query(`SELECT event FROM notification_outbox WHERE event->>'type' = 'approval.waiting' AND event->'data'->>'taskId' = $1`, [task.id]);
    expect(notified.rowCount).toBe(1);
  });

  test('a rejection fails the run (APPROVAL_REJECTED), or with onReject CONTINUE the run goes on with decision REJECTED', async () => {
    const failing = await startRun(await createWorkflow([approvalStep(), after]), { orderId: 'B-1' });
    const t1 = await waiting(failing, 'approve');
    const rejected = await t.graphql(admin, REJECT, { t: t1.id, c: 'no stock' });
    expect(rejected.errors).toBeUndefined();
    const run = await ended(failing);
    expect(run.status).toBe('FAILED');
    expect(run.error?.code).toBe('APPROVAL_REJECTED');
    expect(run.error?.message).toContain('no stock');
    expect(run.tasks.find((x) => x.stepId === 'after')?.status).toBe('CANCELLED');

    const going = await startRun(await createWorkflow([approvalStep({ onReject: 'CONTINUE' }), after]), { orderId: 'B-2' });
    const t2 = await waiting(going, 'approve');
    expect((await t.graphql(admin, REJECT, { t: t2.id })).errors).toBeUndefined();
    const run2 = await ended(going);
    expect(run2.status).toBe('SUCCEEDED');
    expect(run2.tasks.find((x) => x.stepId === 'after')?.output).toEqual({ decision: 'REJECTED', comment: null });
  });

  test('a viewer cannot approve; roles limit who may decide and whose pending list shows it', async () => {
    const runId = await startRun(await createWorkflow([approvalStep({ roles: ['admin'] }), after]), { orderId: 'C-1' });
    const task = await waiting(runId, 'approve');
    expect(errorOf(await t.graphql(viewer, APPROVE, { t: task.id }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(errorOf(await t.graphql(viewer, PENDING))).toMatchObject({ code: 'FORBIDDEN' });
    const byOperator = await t.graphql(operator, APPROVE, { t: task.id });
    expect(errorOf(byOperator)).toMatchObject({ code: 'FORBIDDEN', reason: 'APPROVAL_ROLE_REQUIRED' });
    expect(errorOf(byOperator).message).toContain('may be decided by admin');
    const operatorsList = await t.graphql<{ pendingApprovals: { edges: Array<{ node: { task: { id: string } } }> } }>(operator, PENDING);
    expect(operatorsList.data!.pendingApprovals.edges.map((e) => e.node.task.id)).not.toContain(task.id);
    const adminsList = await t.graphql<{ pendingApprovals: { edges: Array<{ node: { task: { id: string }; canDecide: boolean } }> } }>(admin, PENDING);
    expect(adminsList.data!.pendingApprovals.edges.find((e) => e.node.task.id === task.id)?.node.canDecide).toBe(true);
    expect((await runOf(runId)).tasks[0]?.status).toBe('QUEUED');
    expect((await t.graphql(admin, APPROVE, { t: task.id })).errors).toBeUndefined();
    expect((await ended(runId)).status).toBe('SUCCEEDED');
  });

  test('another organization can neither see nor decide an approval', async () => {
    const runId = await startRun(await createWorkflow([approvalStep(), after]), { orderId: 'D-1' });
    const task = await waiting(runId, 'approve');
    const theirs = await t.graphql<{ pendingApprovals: { totalCount: number } }>(otherAdmin, PENDING);
    expect(theirs.data!.pendingApprovals.totalCount).toBe(0);
    expect(errorOf(await t.graphql(otherAdmin, APPROVE, { t: task.id }))).toMatchObject({ code: 'NOT_FOUND' });
    expect((await runOf(runId)).tasks[0]?.status).toBe('QUEUED');
    await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId });
  });

  test('two approvers racing: one decides, the other gets APPROVAL_ALREADY_DECIDED', async () => {
    const runId = await startRun(await createWorkflow([approvalStep(), after]), { orderId: 'E-1' });
    const task = await waiting(runId, 'approve');
    const answers = await Promise.all([t.graphql(admin, APPROVE, { t: task.id, c: 'a' }), t.graphql(operator, REJECT, { t: task.id, c: 'b' })]);
    const won = answers.filter((a) => a.errors === undefined);
    const lost = answers.filter((a) => a.errors !== undefined);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(errorOf(lost[0]!)).toMatchObject({ code: 'CONFLICT', reason: 'APPROVAL_ALREADY_DECIDED' });
    const attempts = await t.pool.query(`SELECT status FROM task_attempts WHERE task_id = $1`, [task.id]);
    expect(attempts.rowCount).toBe(1);
  });

  test('a cancelled run stops waiting: its approval is CANCELLED and no longer pending', async () => {
    const runId = await startRun(await createWorkflow([approvalStep(), after]), { orderId: 'F-1' });
    const task = await waiting(runId, 'approve');
    expect((await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId })).errors).toBeUndefined();
    const run = await runOf(runId);
    expect(run.tasks[0]?.approval?.status).toBe('CANCELLED');
    const list = await t.graphql<{ pendingApprovals: { edges: Array<{ node: { task: { id: string } } }> } }>(admin, PENDING);
    expect(list.data!.pendingApprovals.edges.map((e) => e.node.task.id)).not.toContain(task.id);
    expect(errorOf(await t.graphql(admin, APPROVE, { t: task.id }))).toMatchObject({ code: 'CONFLICT', reason: 'APPROVAL_ALREADY_DECIDED' });
  });
});

describe('timeouts', () => {
  test.each([
    ['FAIL', 'FAILED', 'WAIT_TIMED_OUT', undefined],
    ['APPROVE', 'SUCCEEDED', null, 'APPROVED'],
    ['REJECT', 'FAILED', 'APPROVAL_REJECTED', undefined],
  ])('an approval whose timeout runs out with onTimeout %s: the run %s', async (onTimeout, status, code, decision) => {
    const runId = await startRun(await createWorkflow([approvalStep({ timeoutSeconds: 1, onTimeout }), after]), { orderId: 'T' });
    const run = await ended(runId);
    expect(run.status).toBe(status);
    expect(run.error?.code ?? null).toBe(code);
    if (decision) expect(run.tasks.find((x) => x.stepId === 'after')?.output).toEqual({ decision, comment: null });
    expect(run.tasks[0]?.approval?.status).toBe('TIMED_OUT');
  });

  test('an event wait whose timeout runs out with onTimeout CONTINUE succeeds with a null output', async () => {
    const runId = await startRun(await createWorkflow([{ id: 'wait', capability: 'wait', wait: { kind: 'EVENT', event: 'never.comes', timeoutSeconds: 1, onTimeout: 'CONTINUE' } }]));
    const run = await ended(runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks[0]?.output).toBeNull();
  });
});

describe('event waits', () => {
  test('emitEvent resumes the run whose correlation matches and whose filter passes, with the payload as output; others keep waiting', async () => {
    const workflowId = await createWorkflow([
      { id: 'paid', capability: 'wait', wait: { kind: 'EVENT', event: 'order.paid', filter: [{ path: '/status', equals: 'ok' }], correlation: { key: '{{ input.orderId }}', path: '/orderId' } } },
      { id: 'ship', capability: 'noop', dependsOn: ['paid'], input: { amount: '{{ steps.paid.output.amount }}' } },
    ]);
    const runA = await startRun(workflowId, { orderId: 'A' });
    const runB = await startRun(workflowId, { orderId: 'B' });
    await waiting(runA, 'paid', 'EVENT');
    const waitB = await waiting(runB, 'paid', 'EVENT');
    expect(waitB.waitReason?.message).toContain('with /orderId = "B"');

    const wrongOrder = await t.graphql<{ emitEvent: { resumedWaits: number } }>(operator, EMIT, { n: 'order.paid', p: { orderId: 'C', status: 'ok', amount: 1 } });
    expect(wrongOrder.data!.emitEvent.resumedWaits).toBe(0);
    const filteredOut = await t.graphql<{ emitEvent: { resumedWaits: number } }>(operator, EMIT, { n: 'order.paid', p: { orderId: 'B', status: 'pending', amount: 2 } });
    expect(filteredOut.data!.emitEvent.resumedWaits).toBe(0);
    const otherOrg = await t.graphql<{ emitEvent: { resumedWaits: number } }>(otherAdmin, EMIT, { n: 'order.paid', p: { orderId: 'B', status: 'ok', amount: 3 } });
    expect(otherOrg.data!.emitEvent.resumedWaits).toBe(0);

    const matching = await t.graphql<{ emitEvent: { resumedWaits: number } }>(operator, EMIT, { n: 'order.paid', p: { orderId: 'B', status: 'ok', amount: 42 }, k: 'pay-B' });
    expect(matching.errors).toBeUndefined();
    expect(matching.data!.emitEvent.resumedWaits).toBe(1);
    const b = await ended(runB);
    expect(b.status).toBe('SUCCEEDED');
    expect(b.tasks.find((x) => x.stepId === 'paid')?.output).toEqual({ orderId: 'B', status: 'ok', amount: 42 });
    expect(b.tasks.find((x) => x.stepId === 'ship')?.output).toEqual({ amount: 42 });
    // The same event again resumes nothing (B's wait is over, A's does not match).
    const replay = await t.graphql<{ emitEvent: { resumedWaits: number } }>(operator, EMIT, { n: 'order.paid', p: { orderId: 'B', status: 'ok', amount: 42 }, k: 'pay-B' });
    expect(replay.data!.emitEvent.resumedWaits).toBe(0);
    expect((await runOf(runA)).tasks[0]?.status).toBe('QUEUED');

    expect((await t.graphql<{ emitEvent: { resumedWaits: number } }>(operator, EMIT, { n: 'order.paid', p: { orderId: 'A', status: 'ok', amount: 7 } })).data!.emitEvent.resumedWaits).toBe(1);
    expect((await ended(runA)).status).toBe('SUCCEEDED');
  });

  test('a correlation key that does not resolve for the run fails its task with WAIT_TEMPLATE_ERROR', async () => {
    const runId = await startRun(await createWorkflow([{ id: 'paid', capability: 'wait', wait: { kind: 'EVENT', event: 'order.paid', correlation: { key: '{{ input.orderId }}', path: '/orderId' } } }]), { other: 1 });
    const run = await ended(runId);
    expect(run.status).toBe('FAILED');
    expect(run.error?.code).toBe('WAIT_TEMPLATE_ERROR');
    expect(run.error?.message).toContain('orderId');
  });
});

describe('sleepUntil', () => {
  test('the step sleeps until the time its template reads, then the run goes on with { until }', async () => {
    const until = new Date(Date.now() + 1_500).toISOString();
    const startedAt = Date.now();
    const runId = await startRun(await createWorkflow([{ id: 'nap', capability: 'wait', wait: { kind: 'SLEEP_UNTIL', until: '{{ input.at }}' } }, { id: 'then', capability: 'noop', dependsOn: ['nap'], input: { woke: '{{ steps.nap.output.until }}' } }]), { at: until });
    const task = await waiting(runId, 'nap', 'SCHEDULE');
    expect(task.waitReason?.details).toMatchObject({ until });
    const run = await ended(runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_400);
    expect(run.tasks.find((x) => x.stepId === 'then')?.output).toEqual({ woke: until });
  });

  test('a time more than a year ahead fails the task with WAIT_UNTIL_TOO_FAR', async () => {
    const runId = await startRun(await createWorkflow([{ id: 'nap', capability: 'wait', wait: { kind: 'SLEEP_UNTIL', until: '{{ input.at }}' } }]), { at: '2099-01-01T00:00:00Z' });
    const run = await ended(runId);
    expect(run.error?.code).toBe('WAIT_UNTIL_TOO_FAR');
  });
});

test("a waiting run survives an orchestration restart, then is approved (and the new process's wait ticker goes on)", async () => {
  // No worker step here: the test's worker heartbeats to the old process's gRPC port, which a restart does not keep.
  const steps = [approvalStep(), { id: 'nap', capability: 'wait', dependsOn: ['approve'], wait: { kind: 'SLEEP_UNTIL', until: '{{ steps.approve.output.decidedAt }}' } }];
  const runId = await startRun(await createWorkflow(steps), { orderId: 'R-1' });
  const task = await waiting(runId, 'approve');
  await t.restart();
  expect((await runOf(runId)).tasks[0]).toMatchObject({ status: 'QUEUED', approval: { status: 'WAITING' } });
  const approved = await t.graphql(operator, APPROVE, { t: task.id, c: 'after restart' });
  expect(approved.errors).toBeUndefined();
  const run = await ended(runId);
  expect(run.status).toBe('SUCCEEDED');
  expect(run.tasks.find((x) => x.stepId === 'approve')?.output).toMatchObject({ decision: 'APPROVED', comment: 'after restart' });
  expect(run.tasks.find((x) => x.stepId === 'nap')?.status).toBe('SUCCEEDED');
}, 60_000);

test('two replicas end each due wait once', async () => {
  await t.startReplica();
  const workflowId = await createWorkflow([{ id: 'nap', capability: 'wait', wait: { kind: 'SLEEP_UNTIL', until: '{{ input.at }}' } }]);
  const at = new Date(Date.now() + 800).toISOString();
  const runs = await Promise.all(Array.from({ length: 6 }, () => startRun(workflowId, { at })));
  for (const id of runs) expect((await ended(id)).status).toBe('SUCCEEDED');
  const { rows } = await t.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM run_events WHERE run_id = ANY($1::uuid[]) AND kind = 'TASK_STATUS' AND event->>'taskStatus' = 'SUCCEEDED'`,
    [runs],
  );
  expect(rows[0]?.n).toBe(runs.length);
}, 60_000);

describe('bad definitions are refused with clear codes', () => {
  test.each([
    ['capability wait without wait', [{ id: 'w', capability: 'wait' }], 'INVALID_WAIT_STEP', 'input.steps[0].wait'],
    ['wait on another capability', [{ id: 'w', capability: 'noop', wait: { kind: 'APPROVAL' } }], 'INVALID_WAIT_STEP', 'input.steps[0].capability'],
    ['a viewer as a decider', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', roles: ['viewer'] } }], 'INVALID_WAIT_ROLES', 'input.steps[0].wait.roles[0]'],
    ['no roles', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', roles: [] } }], 'INVALID_WAIT_ROLES', 'input.steps[0].wait.roles'],
    ['CONTINUE on an approval timeout', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', onTimeout: 'CONTINUE' } }], 'INVALID_WAIT_TIMEOUT_OUTCOME', 'input.steps[0].wait.onTimeout'],
    ['APPROVE on an event timeout', [{ id: 'w', capability: 'wait', wait: { kind: 'EVENT', event: 'x', onTimeout: 'APPROVE' } }], 'INVALID_WAIT_TIMEOUT_OUTCOME', 'input.steps[0].wait.onTimeout'],
    ['an event name on an approval', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', event: 'x' } }], 'WAIT_FIELD_NOT_ALLOWED', 'input.steps[0].wait.event'],
    ['an event wait without a name', [{ id: 'w', capability: 'wait', wait: { kind: 'EVENT' } }], 'INVALID_EVENT_NAME', 'input.steps[0].wait.event'],
    ['a bad filter', [{ id: 'w', capability: 'wait', wait: { kind: 'EVENT', event: 'x', filter: [{ path: 'no-slash', equals: 1 }] } }], 'INVALID_EVENT_FILTER', 'input.steps[0].wait.filter[0].path'],
    ['a time that is not one', [{ id: 'w', capability: 'wait', wait: { kind: 'SLEEP_UNTIL', until: 'tomorrow' } }], 'INVALID_WAIT_UNTIL', 'input.steps[0].wait.until'],
    ['a timeout of 0', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', timeoutSeconds: 0 } }], 'OUT_OF_RANGE', 'input.steps[0].wait.timeoutSeconds'],
    ['a timeout over a year', [{ id: 'w', capability: 'wait', wait: { kind: 'EVENT', event: 'x', timeoutSeconds: 40_000_000 } }], 'OUT_OF_RANGE', 'input.steps[0].wait.timeoutSeconds'],
    ['a secret in the message', [{ id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', message: 'key {{ secrets.API_KEY }}' } }], 'WAIT_READS_SECRET', 'input.steps[0].wait.message'],
    ['a step that is not upstream', [{ id: 'a', capability: 'noop' }, { id: 'w', capability: 'wait', wait: { kind: 'APPROVAL', message: '{{ steps.a.output.x }}' } }], 'REFERENCE_NOT_UPSTREAM', 'input.steps[1].wait'],
    ['forEach on a wait', [{ id: 'w', capability: 'wait', forEach: { items: '{{ input.list }}' }, wait: { kind: 'APPROVAL' } }], 'INVALID_WAIT_STEP', 'input.steps[0].forEach'],
  ])('%s', async (_what, steps, reason, field) => {
    const res = await t.graphql(admin, CREATE, { i: { name: `bad-${randomUUID().slice(0, 8)}`, steps } });
    expect(errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', reason, field });
    expect(res.data ?? null).toBeNull();
  });

  test('the definition reads back as given, with defaults', async () => {
    const res = await t.graphql<{ createWorkflow: { latestVersion: { steps: Array<{ wait: Record<string, unknown> }> } } }>(admin, CREATE, { i: { name: `ok-${randomUUID().slice(0, 8)}`, steps: [approvalStep({ roles: ['admin', 'operator'] })] } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.createWorkflow.latestVersion.steps[0]?.wait).toEqual({ kind: 'APPROVAL', roles: ['operator', 'admin'], message: 'Ship order {{ input.orderId }}?', timeoutSeconds: 604800, onTimeout: 'FAIL', onReject: 'FAIL_RUN' });
  });
});
