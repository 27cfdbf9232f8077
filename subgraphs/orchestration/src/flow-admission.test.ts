import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { setOrgQuotas } from './flow-control/operator-commands';
import { startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from './testing/harness';

/**
 * Flow control enforced by the claim (issue 10): concurrency keys of a workflow and of a step, each
 * strategy, checked from the attempts' timestamps in PostgreSQL, with real workers over gRPC.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUNS = `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`;
const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const RUN = `query($id: ID!) { run(id: $id) { status tasks { stepId status priority concurrencyKey waitReason { kind message details } } } }`;

interface RunView {
  status: string;
  tasks: Array<{ stepId: string; status: string; priority: number; concurrencyKey: string | null; waitReason: { kind: string; message: string; details: Record<string, unknown> | null } | null }>;
}

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });

async function createWorkflow(input: Record<string, unknown>): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name: `wf-${randomUUID().slice(0, 8)}`, ...input } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

/** Starts runs of `workflowId` in one call, one per customer given (in that order). */
async function startRuns(workflowId: string, customers: readonly string[]): Promise<string[]> {
  const res = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(admin, START_RUNS, { i: customers.map((c) => ({ workflowId, input: { customerId: c } })) });
  expect(res.errors).toBeUndefined();
  return res.data!.startRuns.runs.map((r) => r.run.id);
}

const runOf = async (id: string): Promise<RunView> => {
  const res = await t.graphql<{ run: RunView }>(admin, RUN, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
};

const statusOf = async (ids: readonly string[]): Promise<string[]> => {
  const { rows } = await t.pool.query<{ id: string; status: string }>('SELECT id, status FROM runs WHERE id = ANY($1::uuid[])', [ids]);
  const by = new Map(rows.map((r) => [r.id, r.status]));
  return ids.map((id) => by.get(id) as string);
};

const allEnded = (ids: readonly string[], timeoutMs = 60_000) =>
  eventually(async () => ((await statusOf(ids)).every((s) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(s)) ? true : undefined), { timeoutMs, what: `runs ${ids.length} to end` });

interface Interval {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
}

/** The attempts that started, of these runs, with when they started and ended. */
async function attemptIntervals(runIds: readonly string[]): Promise<Interval[]> {
  const { rows } = await t.pool.query<{ run_id: string; started_at: Date; finished_at: Date | null }>(
    `SELECT run_id, started_at, finished_at FROM task_attempts WHERE run_id = ANY($1::uuid[]) AND started_at IS NOT NULL ORDER BY started_at`,
    [runIds],
  );
  return rows.map((r) => ({ runId: r.run_id, startedAt: r.started_at, finishedAt: r.finished_at ?? new Date(8.64e15) }));
}

/** The most attempts that ran at once (an attempt ending at the instant another starts does not overlap it). */
function mostAtOnce(intervals: readonly Interval[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.startedAt.getTime(), d: 1 },
    { at: i.finishedAt.getTime(), d: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const p of points) {
    now += p.d;
    most = Math.max(most, now);
  }
  return most;
}

beforeAll(async () => {
  // Attempt timestamps are the evidence here: a worker must not be presumed lost (and its task run
  // again beside itself) because a loaded CI machine delayed its heartbeats past the harness's 1.5 s.
  t = await startTestOrchestration({ WORKER_LEASE_TTL_MS: '15000' });
  // Enough slots for every run at once: only the concurrency keys hold runs back.
  await t.startWorker({ WORKER_SLOTS: '12' });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('a workflow concurrency key', () => {
  it('QUEUE: at most `limit` runs per key at once, the others wait in order with the reason shown', async () => {
    const workflowId = await createWorkflow({ concurrency: { key: '{{ input.customerId }}', limit: 1 }, steps: [{ id: 'work', capability: 'sleep', input: { ms: 400 } }] });
    const customers = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const ids = await startRuns(workflowId, customers);
    // While the first of a key runs, the next waits, saying for what.
    const waiting = await eventually(
      async () => {
        const task = (await runOf(ids[2] as string)).tasks[0];
        return task?.waitReason?.kind === 'CONCURRENCY_KEY' ? task : undefined;
      },
      { timeoutMs: 20_000, what: 'the second run of customer a to wait for its key' },
    );
    expect(waiting.concurrencyKey).toBe(null);
    expect(waiting.waitReason).toMatchObject({ details: { key: 'a', limit: 1, scope: 'run' } });
    expect(waiting.waitReason?.message).toMatch(/the workflow's concurrency key "a" is at its limit \(1 at once/);
    await allEnded(ids);
    expect(await statusOf(ids)).toEqual(customers.map(() => 'SUCCEEDED'));
    for (const key of ['a', 'b']) {
      const ofKey = ids.filter((_, i) => customers[i] === key);
      const intervals = await attemptIntervals(ofKey);
      expect(intervals).toHaveLength(5);
      expect(mostAtOnce(intervals)).toBe(1);
      // In the order they came.
      expect(intervals.map((i) => i.runId)).toEqual(ofKey);
    }
  }, 90_000);

  it('CANCEL_NEWEST: the first run goes on, the later ones of its key are cancelled', async () => {
    const workflowId = await createWorkflow({ concurrency: { key: '{{ input.customerId }}', limit: 1, onLimit: 'CANCEL_NEWEST' }, steps: [{ id: 'work', capability: 'sleep', input: { ms: 60_000 } }] });
    const customers = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const ids = await startRuns(workflowId, customers);
    const firsts = [ids[0] as string, ids[1] as string];
    const rest = ids.slice(2);
    await eventually(async () => ((await statusOf(firsts)).every((s) => s === 'RUNNING') && (await statusOf(rest)).every((s) => s === 'CANCELLED') ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first run of each key to run and the others to be cancelled',
    });
    const { rows } = await t.pool.query<{ cancel_reason: string }>('SELECT cancel_reason FROM runs WHERE id = $1', [ids[2]]);
    expect(rows[0]?.cancel_reason).toMatch(/concurrency key "a" was at its limit \(1\) and its policy cancels the newest/);
    for (const id of firsts) await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id });
    await allEnded(ids);
    for (const key of ['a', 'b']) expect(mostAtOnce(await attemptIntervals(ids.filter((_, i) => customers[i] === key)))).toBe(1);
  }, 60_000);

  it('CANCEL_OLDEST: a newer run takes the place of the oldest, never more than the limit at once', async () => {
    const workflowId = await createWorkflow({ concurrency: { key: '{{ input.customerId }}', limit: 1, onLimit: 'CANCEL_OLDEST' }, steps: [{ id: 'work', capability: 'sleep', input: { ms: 60_000 } }] });
    const customers = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const ids = await startRuns(workflowId, customers);
    const lasts = [ids[8] as string, ids[9] as string];
    const rest = ids.slice(0, 8);
    await eventually(async () => ((await statusOf(lasts)).every((s) => s === 'RUNNING') && (await statusOf(rest)).every((s) => s === 'CANCELLED') ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the last run of each key to run and the others to be cancelled',
    });
    // One started later on its own, after the first ones ran: it takes the place of the one running.
    const [later] = await startRuns(workflowId, ['a']);
    await eventually(async () => ((await statusOf([later as string, ids[8] as string])).join() === 'RUNNING,CANCELLED' ? true : undefined), { timeoutMs: 20_000, what: 'the later run to replace the running one' });
    const { rows } = await t.pool.query<{ cancel_reason: string }>('SELECT cancel_reason FROM runs WHERE id = $1', [ids[8]]);
    expect(rows[0]?.cancel_reason).toMatch(/a newer run took its place under the workflow's concurrency key "a"/);
    for (const id of [later as string, ids[9] as string]) await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id });
    await allEnded([...ids, later as string]);
    for (const key of ['a', 'b']) {
      const ofKey = [...ids, later as string].filter((_, i) => (i < ids.length ? customers[i] : 'a') === key);
      expect(mostAtOnce(await attemptIntervals(ofKey))).toBe(1);
    }
  }, 60_000);

  it('refuses a run whose input lacks the field its key reads, naming it, starting nothing', async () => {
    const workflowId = await createWorkflow({ concurrency: { key: 'tenant-{{ input.customerId }}', limit: 2 }, steps: [{ id: 'work', capability: 'noop' }] });
    const before = (await t.pool.query('SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1', [workflowId])).rows[0].n as number;
    const res = await t.graphql(admin, START_RUN, { i: { workflowId, input: { customer: 'a' } } });
    expect(errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'MISSING_RUN_INPUT', field: 'input.input' });
    expect(errorOf(res).message).toMatch(/the workflow: the concurrency key "tenant-\{\{ input.customerId \}\}" does not fit the run input/);
    const many = await t.graphql(admin, START_RUNS, { i: [{ workflowId, input: { customerId: 'x' } }, { workflowId, input: {} }] });
    expect(errorOf(many)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs[1].input' });
    expect((await t.pool.query('SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1', [workflowId])).rows[0].n).toBe(before);
  });
});

describe('a step concurrency key', () => {
  it('holds tasks of the step across runs to its limit, while the other steps run freely', async () => {
    const workflowId = await createWorkflow({
      steps: [
        { id: 'free', capability: 'sleep', input: { ms: 50 } },
        { id: 'call', capability: 'sleep', input: { ms: 300 }, dependsOn: ['free'], concurrency: { key: 'provider-{{ input.customerId }}', limit: 2 } },
      ],
    });
    const ids = await startRuns(
      workflowId,
      Array.from({ length: 6 }, () => 'x'),
    );
    await allEnded(ids);
    expect(await statusOf(ids)).toEqual(ids.map(() => 'SUCCEEDED'));
    const { rows } = await t.pool.query<{ started_at: Date; finished_at: Date; run_id: string }>(
      `SELECT a.started_at, a.finished_at, a.run_id FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.run_id = ANY($1::uuid[]) AND t.step_id = 'call' AND a.started_at IS NOT NULL`,
      [ids],
    );
    expect(rows).toHaveLength(6);
    expect(mostAtOnce(rows.map((r) => ({ runId: r.run_id, startedAt: r.started_at, finishedAt: r.finished_at })))).toBeLessThanOrEqual(2);
    const run = await runOf(ids[0] as string);
    expect(run.tasks.find((x) => x.stepId === 'call')).toMatchObject({ concurrencyKey: 'provider-x', priority: 3 });
  }, 60_000);
});

describe('priority', () => {
  it('with one slot and a backlog, priority 5 work starts before priority 1 work queued earlier', async () => {
    await t.grantPool(orgId, 'one-slot');
    await t.startWorker({ WORKER_SLOTS: '1', WORKER_POOL: 'one-slot' });
    const step = { id: 'work', capability: 'sleep', pool: 'one-slot', input: { ms: 200 } };
    const workflowId = await createWorkflow({ steps: [step] });
    // The blocker holds the slot long enough for both backlogs to be queued behind it on a loaded machine.
    const blockerWorkflowId = await createWorkflow({ steps: [{ ...step, input: { ms: 4_000 } }] });
    const start = async (priority: number, n: number, workflow = workflowId): Promise<string[]> => {
      const res = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(admin, START_RUNS, { i: Array.from({ length: n }, () => ({ workflowId: workflow, priority })) });
      expect(res.errors).toBeUndefined();
      return res.data!.startRuns.runs.map((r) => r.run.id);
    };
    // The slot is taken; then a backlog of priority 1, then priority 5 work.
    const [blocker] = await start(3, 1, blockerWorkflowId);
    await eventually(async () => ((await statusOf([blocker as string]))[0] === 'RUNNING' ? true : undefined), { timeoutMs: 20_000, what: 'the first run to take the slot' });
    const low = await start(1, 5);
    const high = await start(5, 3);
    expect((await runOf(high[0] as string)).tasks[0]?.priority).toBe(5);
    await allEnded([blocker as string, ...low, ...high]);
    const order = (await attemptIntervals([...low, ...high])).map((i) => i.runId);
    expect(order.slice(0, 3).sort()).toEqual([...high].sort());
    expect(order.slice(3)).toEqual(low);
  }, 60_000);
});

describe('quotas of an organization', () => {
  const orgOf = async (quotas: Record<string, number>) => {
    const org = randomUUID();
    await setOrgQuotas(t.pool, t.service.engine.config, org, quotas, 'olga');
    const principal = userPrincipal(org, 'admin');
    const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { i: { name: 'q', steps: [{ id: 'work', capability: 'sleep', input: { ms: 300 } }] } });
    expect(created.errors).toBeUndefined();
    return { org, principal, workflowId: created.data!.createWorkflow.id };
  };
  const countRuns = async (org: string) => (await t.pool.query('SELECT count(*)::int AS n FROM runs WHERE org_id = $1', [org])).rows[0].n as number;

  it('refuse a start past runs started per minute with QUOTA_EXCEEDED naming it, writing nothing', async () => {
    const { org, principal, workflowId } = await orgOf({ runsStartedPerMinute: 3 });
    const two = await t.graphql(principal, START_RUNS, { i: [{ workflowId }, { workflowId }] });
    expect(two.errors).toBeUndefined();
    // All or nothing: two more do not fit, so neither starts.
    const refused = await t.graphql(principal, START_RUNS, { i: [{ workflowId }, { workflowId }] });
    expect(errorOf(refused)).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', quota: 'runsStartedPerMinute', limit: 3 });
    expect(errorOf(refused).message).toMatch(/quota runsStartedPerMinute exceeded/);
    expect(await countRuns(org)).toBe(2);
    expect((await t.graphql(principal, START_RUN, { i: { workflowId } })).errors).toBeUndefined();
    expect(errorOf(await t.graphql(principal, START_RUN, { i: { workflowId } }))).toMatchObject({ reason: 'QUOTA_EXCEEDED', quota: 'runsStartedPerMinute' });
    expect(await countRuns(org)).toBe(3);
  });

  it('refuse a start past queued tasks in all', async () => {
    const org = randomUUID();
    await setOrgQuotas(t.pool, t.service.engine.config, org, { queuedTasks: 2 }, 'olga');
    await t.grantPool(org, 'nobody-runs-this');
    const principal = userPrincipal(org, 'admin');
    const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { i: { name: 'stuck', steps: [{ id: 'work', capability: 'noop', pool: 'nobody-runs-this' }] } });
    expect(created.errors).toBeUndefined();
    const workflowId = created.data!.createWorkflow.id;
    for (let i = 0; i < 2; i += 1) expect((await t.graphql(principal, START_RUN, { i: { workflowId } })).errors).toBeUndefined();
    expect(errorOf(await t.graphql(principal, START_RUN, { i: { workflowId } }))).toMatchObject({ code: 'RATE_LIMITED', reason: 'QUOTA_EXCEEDED', quota: 'queuedTasks', limit: 2, used: 2 });
    expect(await countRuns(org)).toBe(2);
  });

  it('hold tasks past running tasks per pool, saying so', async () => {
    const { principal, workflowId } = await orgOf({ runningTasksPerPool: 1 });
    const res = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(principal, START_RUNS, { i: [{ workflowId }, { workflowId }, { workflowId }] });
    expect(res.errors).toBeUndefined();
    const ids = res.data!.startRuns.runs.map((r) => r.run.id);
    await eventually(
      async () => {
        const { rows } = await t.pool.query<{ wait_reason: { kind: string; message: string } | null }>(`SELECT wait_reason FROM tasks WHERE run_id = ANY($1::uuid[]) AND wait_reason ->> 'kind' = 'QUOTA'`, [ids]);
        return rows[0]?.wait_reason?.message.match(/^quota runningTasksPerPool: the organization runs 1 tasks in pool "default", its quota is 1$/) ? true : undefined;
      },
      { timeoutMs: 20_000, what: 'a task to wait for the quota' },
    );
    await allEnded(ids);
    expect(await statusOf(ids)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(mostAtOnce(await attemptIntervals(ids))).toBe(1);
  }, 60_000);
});
