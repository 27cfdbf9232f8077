import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import { waitReason } from './domain/wait-reasons';
import { insertItemTasks } from './store/for-each';
import { startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from './testing/harness';

/**
 * forEach fan-out (issue 10) with real workers over gRPC: items expanded from an upstream output,
 * at most maxParallel at once (checked from the attempts' timestamps), results in item order for the
 * downstream step, item failures per policy, a list that is not one at run time, bad definitions.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUN = `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`;
const RUN = `query($id: ID!, $after: String) { run(id: $id) { status error { code message }
  tasks { id stepId status input output error { code message } itemIndex
          itemCounts { total pending queued running succeeded failed cancelled }
          items(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { itemIndex status output parent { stepId } } } } } } }`;

interface TaskView {
  id: string;
  stepId: string;
  status: string;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  itemIndex: number | null;
  itemCounts: { total: number; pending: number; queued: number; running: number; succeeded: number; failed: number; cancelled: number } | null;
  items: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { itemIndex: number; status: string; output: unknown; parent: { stepId: string } } }> };
}
interface RunView {
  status: string;
  error: { code: string; message: string } | null;
  tasks: TaskView[];
}

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });

beforeAll(async () => {
  t = await startTestOrchestration({ WORKER_LEASE_TTL_MS: '15000' });
  await t.startWorker({ WORKER_SLOTS: '64' });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function createWorkflow(steps: unknown[]): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name: `fe-${randomUUID().slice(0, 8)}`, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function startRun(workflowId: string, input: Record<string, unknown>): Promise<string> {
  const res = await t.graphql<{ startRun: { run: { id: string } } }>(admin, START_RUN, { i: { workflowId, input } });
  expect(res.errors).toBeUndefined();
  return res.data!.startRun.run.id;
}

const runOf = async (id: string, after?: string): Promise<RunView> => {
  const res = await t.graphql<{ run: RunView }>(admin, RUN, { id, after });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
};

const ended = (id: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const { rows } = await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [id]);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(rows[0]?.status ?? '') ? rows[0]!.status : undefined;
    },
    { timeoutMs, what: `run ${id} to end` },
  );

/** The most item attempts of a run that ran at once (from their timestamps). */
async function mostItemsAtOnce(runId: string): Promise<number> {
  const { rows } = await t.pool.query<{ started_at: Date; finished_at: Date }>(
    `SELECT a.started_at, a.finished_at FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.run_id = $1 AND t.parent_task_id IS NOT NULL AND a.started_at IS NOT NULL`,
    [runId],
  );
  const points = rows.flatMap((r) => [
    { at: r.started_at.getTime(), d: 1 },
    { at: r.finished_at.getTime(), d: -1 },
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

const step = (id: string, capability: string, input: unknown, more: Record<string, unknown> = {}) => ({ id, capability, input, ...more });

describe('forEach', () => {
  it('runs 2,000 items at most 50 at once and hands the downstream step their results in item order', async () => {
    const files = Array.from({ length: 2_000 }, (_, i) => `file-${i}`);
    const workflowId = await createWorkflow([
      step('list', 'transform', { value: { files: '{{ input.files }}' } }),
      step('each', 'transform', { value: { name: '{{ item }}', at: '{{ itemIndex }}' } }, { dependsOn: ['list'], forEach: { items: '{{ steps.list.output.files }}', maxParallel: 50 } }),
      step('collect', 'noop', { results: '{{ steps.each.output }}' }, { dependsOn: ['each'] }),
    ]);
    const runId = await startRun(workflowId, { files });
    expect(await ended(runId, 240_000)).toBe('SUCCEEDED');
    const run = await runOf(runId);
    // The run page lists the steps' own tasks; the items are counted and paged under their step.
    expect(run.tasks.map((x) => [x.stepId, x.status, x.itemIndex])).toEqual([
      ['list', 'SUCCEEDED', null],
      ['each', 'SUCCEEDED', null],
      ['collect', 'SUCCEEDED', null],
    ]);
    const [, each, collect] = run.tasks as [TaskView, TaskView, TaskView];
    const expected = files.map((name, at) => ({ name, at }));
    expect(each.output).toEqual(expected);
    expect(collect.input).toEqual({ results: expected });
    expect(each.itemCounts).toEqual({ total: 2_000, pending: 0, queued: 0, running: 0, succeeded: 2_000, failed: 0, cancelled: 0 });
    expect(each.items.totalCount).toBe(2_000);
    expect(each.items.edges.map((e) => e.node)).toEqual([0, 1, 2].map((i) => ({ itemIndex: i, status: 'SUCCEEDED', output: { name: `file-${i}`, at: i }, parent: { stepId: 'each' } })));
    const next = (await runOf(runId, each.items.pageInfo.endCursor ?? undefined)).tasks[1] as TaskView;
    expect(next.items.edges.map((e) => e.node.itemIndex)).toEqual([3, 4, 5]);
    expect(run.tasks[0]?.itemCounts).toBeNull();
    // maxParallel held, from the attempts' timestamps.
    expect(await mostItemsAtOnce(runId)).toBeLessThanOrEqual(50);
    expect(await mostItemsAtOnce(runId)).toBeGreaterThan(1);
    // Expanding again (a redelivered claim, a crash after the statement) adds nothing: one task per item.
    const added = await insertItemTasks(t.pool, { id: each.id }, files.map(() => randomUUID()), files, waitReason('MAX_PARALLEL', 'again'));
    expect(added).toBe(0);
    const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks WHERE parent_task_id = $1', [each.id]);
    expect(rows[0]?.n).toBe(2_000);
  }, 300_000);

  const itemsWithABadOne = [{ n: 0 }, { n: 1 }, { bad: true }, { n: 3 }];
  const failingEach = (onItemFailure: string) => [
    step('each', 'transform', { value: '{{ item }}', operations: [{ op: 'select', fields: { n: '/n' } }] }, { forEach: { items: '{{ input.items }}', maxParallel: 1, onItemFailure }, retry: { maxAttempts: 2, initialDelayMs: 0 } }),
    step('after', 'noop', { got: '{{ steps.each.output }}' }, { dependsOn: ['each'] }),
  ];

  it('FAIL_RUN: an item that fails after its retries fails its step and the run; later items are cancelled', async () => {
    const runId = await startRun(await createWorkflow(failingEach('FAIL_RUN')), { items: itemsWithABadOne });
    expect(await ended(runId)).toBe('FAILED');
    const run = await runOf(runId);
    const [each, after] = run.tasks as [TaskView, TaskView];
    expect(each.status).toBe('FAILED');
    expect(each.error?.message).toMatch(/^item 2 failed: /);
    expect(run.error?.message).toMatch(/^step "each" failed: item 2 failed: /);
    expect(after.status).toBe('CANCELLED');
    expect(each.itemCounts).toMatchObject({ total: 4, succeeded: 2, failed: 1, cancelled: 1 });
  }, 60_000);

  it('retryRun runs a failed forEach step again: its succeeded items keep their results, the others run again', async () => {
    const runId = await startRun(await createWorkflow(failingEach('FAIL_RUN')), { items: itemsWithABadOne });
    expect(await ended(runId)).toBe('FAILED');
    const retried = await t.graphql(admin, `mutation($id: ID!) { retryRun(id: $id) { status } }`, { id: runId });
    expect(retried.errors).toBeUndefined();
    await eventually(
      async () => {
        const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.run_id = $1 AND t.item_index = 2`, [runId]);
        return (rows[0]?.n ?? 0) >= 2 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'item 2 to run again' },
    );
    expect(await ended(runId)).toBe('FAILED');
    const { rows } = await t.pool.query<{ item_index: number; status: string; attempts: number }>(
      `SELECT t.item_index, t.status, (SELECT count(*)::int FROM task_attempts a WHERE a.task_id = t.id) AS attempts FROM tasks t WHERE t.run_id = $1 AND t.parent_task_id IS NOT NULL ORDER BY t.item_index`,
      [runId],
    );
    expect(rows).toEqual([
      { item_index: 0, status: 'SUCCEEDED', attempts: 1 },
      { item_index: 1, status: 'SUCCEEDED', attempts: 1 },
      { item_index: 2, status: 'FAILED', attempts: 2 },
      { item_index: 3, status: 'CANCELLED', attempts: 0 },
    ]);
  }, 90_000);

  it('CONTINUE: the other items go on, and the failed one leaves null in its place', async () => {
    const runId = await startRun(await createWorkflow(failingEach('CONTINUE')), { items: itemsWithABadOne });
    expect(await ended(runId)).toBe('SUCCEEDED');
    const [each, after] = (await runOf(runId)).tasks as [TaskView, TaskView];
    expect(each.output).toEqual([{ n: 0 }, { n: 1 }, null, { n: 3 }]);
    expect(after.input).toEqual({ got: [{ n: 0 }, { n: 1 }, null, { n: 3 }] });
    expect(each.itemCounts).toMatchObject({ total: 4, succeeded: 3, failed: 1 });
  }, 60_000);

  it('an empty list succeeds at once with an empty result', async () => {
    const runId = await startRun(await createWorkflow(failingEach('FAIL_RUN')), { items: [] });
    expect(await ended(runId)).toBe('SUCCEEDED');
    const [each, after] = (await runOf(runId)).tasks as [TaskView, TaskView];
    expect(each.output).toEqual([]);
    expect(after.input).toEqual({ got: [] });
  }, 60_000);

  it('a list that is not one at run time fails that step with a clear error, not the steps that ran', async () => {
    const workflowId = await createWorkflow([
      step('list', 'transform', { value: { files: '{{ input.files }}' } }),
      step('each', 'noop', { f: '{{ item }}' }, { dependsOn: ['list'], forEach: { items: '{{ steps.list.output.files }}' } }),
    ]);
    const runId = await startRun(workflowId, { files: 'not-a-list.txt' });
    expect(await ended(runId)).toBe('FAILED');
    const run = await runOf(runId);
    const [list, each] = run.tasks as [TaskView, TaskView];
    expect(list.status).toBe('SUCCEEDED');
    expect(each).toMatchObject({ status: 'FAILED', error: { code: 'FOR_EACH_NOT_A_LIST', message: 'step "each": forEach.items "{{ steps.list.output.files }}" is a string, not a list' } });
    expect(each.itemCounts).toBeNull();
    expect(run.error?.code).toBe('FOR_EACH_NOT_A_LIST');
  }, 60_000);

  it('refuses bad definitions at createWorkflow, naming the field, writing nothing', async () => {
    const before = (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows WHERE org_id = $1', [orgId])).rows[0]!.n;
    const bad = async (forEach: Record<string, unknown>) =>
      errorOf(await t.graphql(admin, CREATE, { i: { name: `bad-${randomUUID().slice(0, 8)}`, steps: [step('list', 'noop', {}), step('each', 'noop', {}, { dependsOn: ['list'], forEach })] } }));
    expect(await bad({ items: '{{ steps.list.output }}', maxParallel: 0 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[1].forEach.maxParallel', reason: 'OUT_OF_RANGE' });
    expect(await bad({ items: '{{ steps.list.output }}', maxParallel: 1_001 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[1].forEach.maxParallel', reason: 'OUT_OF_RANGE' });
    expect(await bad({ items: 'steps.list.output' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[1].forEach.items', reason: 'INVALID_FOR_EACH' });
    expect(await bad({ items: 'all of {{ steps.list.output }}' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[1].forEach.items', reason: 'INVALID_FOR_EACH' });
    expect((await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows WHERE org_id = $1', [orgId])).rows[0]!.n).toBe(before);
  });

  it("is not readable by another organization", async () => {
    const runId = await startRun(await createWorkflow(failingEach('CONTINUE')), { items: [{ n: 1 }] });
    await ended(runId);
    const other = userPrincipal(randomUUID(), 'admin');
    const res = await t.graphql<{ run: unknown }>(other, RUN, { id: runId });
    expect(res.data?.run ?? null).toBeNull();
    const { rows } = await t.pool.query<{ id: string }>(`SELECT id FROM tasks WHERE run_id = $1 AND parent_task_id IS NOT NULL`, [runId]);
    const task = await t.graphql<{ _entities: unknown[] }>(other, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Task { id itemIndex } } }`, { r: [{ __typename: 'Task', id: rows[0]!.id }] });
    expect(task.data?._entities).toEqual([null]);
  }, 60_000);
});
