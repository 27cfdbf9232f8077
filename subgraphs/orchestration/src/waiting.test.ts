import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Task.waitReason: why a task that has not started waits, set by what makes it wait (here the retry
 * delay and the dispatcher finding no worker or no free slot), gone once it runs.
 */

let t: TestOrchestration;
let site: Server;
let siteUrl: string;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const viewer = userPrincipal(orgId, 'viewer');
const otherOrg = userPrincipal(randomUUID(), 'admin');

const TASKS = `query($id: ID!) { run(id: $id) { status tasks { id stepId status waitReason { kind message since details } } } }`;
interface TaskView {
  id: string;
  stepId: string;
  status: string;
  waitReason: { kind: string; message: string; since: string; details: Record<string, unknown> | null } | null;
}

async function runWorkflow(name: string, steps: unknown[]): Promise<string> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, { i: { name, steps } });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, {
    i: { workflowId: created.data!.createWorkflow.id },
  });
  expect(started.errors).toBeUndefined();
  return started.data!.startRun.run.id;
}

const tasksOf = async (runId: string, principal = viewer): Promise<{ status: string; tasks: TaskView[] }> => {
  const res = await t.graphql<{ run: { status: string; tasks: TaskView[] } }>(principal, TASKS, { id: runId });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
};

const waitingFor = (runId: string, kind: string) =>
  eventually(
    async () => {
      const task = (await tasksOf(runId)).tasks[0];
      return task?.waitReason?.kind === kind ? task : undefined;
    },
    { timeoutMs: 10_000, what: `a task of run ${runId} to wait for ${kind}` },
  );

beforeAll(async () => {
  // A remote website that is always down (the retry test's step calls it).
  site = createServer((_req, res) => res.writeHead(503).end('down for maintenance'));
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestOrchestration();
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('why a task waits', () => {
  it('says no worker can run it, and nothing once one joins and runs it', async () => {
    const pool = `lonely-${randomUUID().slice(0, 8)}`;
    await t.grantPool(orgId, pool);
    const runId = await runWorkflow('needs-a-worker', [{ id: 'nap', capability: 'sleep', pool, input: { ms: 10 } }]);
    const noWorker = await waitingFor(runId, 'NO_WORKER');
    expect(noWorker.status).toBe('QUEUED');
    expect(noWorker.waitReason!.message).toBe(`no live worker of pool "${pool}" runs sleep`);
    expect(noWorker.waitReason!.details).toEqual({ pool, capability: 'sleep' });

    // Another organization cannot read it.
    const foreign = await t.graphql<{ task: unknown }>(otherOrg, `query($id: ID!) { task(id: $id) { waitReason { kind } } }`, { id: noWorker.id });
    expect(foreign.data?.task).toBeNull();

    const worker = await t.startWorker({ WORKER_POOL: pool, WORKER_SLOTS: '1' });
    await eventually(() => worker.registered, { what: 'the worker to register' });
    await eventually(async () => ((await tasksOf(runId)).status === 'SUCCEEDED' ? true : undefined), { what: 'the run to finish' });
    const { rows } = await t.pool.query('SELECT wait_reason FROM tasks WHERE id = $1', [noWorker.id]);
    expect(rows[0].wait_reason).toBeNull();
  });

  it('says every worker that can run it is busy while they are', async () => {
    // A worker with one slot for sleep (and one that only runs noop, so the pool has two slots):
    // the first run takes the sleep slot, a second run waits for it. The first naps long enough that a
    // loaded machine still dispatches the second while it runs (at 2 s it could end first).
    const pool = `busy-${randomUUID().slice(0, 8)}`;
    await t.grantPool(orgId, pool);
    const sleeper = await t.startWorker({ WORKER_POOL: pool, WORKER_SLOTS: '1', WORKER_CAPABILITIES: 'sleep' });
    const other = await t.startWorker({ WORKER_POOL: pool, WORKER_SLOTS: '1', WORKER_CAPABILITIES: 'noop' });
    await eventually(() => sleeper.registered && other.registered, { what: 'the workers to register' });
    await eventually(() => t.log.lines.some((l) => l['pool'] === pool && (l['msg'] === 'pool concurrency changed' || l['msg'] === 'dispatching pool') && l['concurrency'] === 2), {
      what: 'the dispatcher to take two jobs of the pool at once',
    });
    const first = await runWorkflow('holds-the-slot', [{ id: 'nap', capability: 'sleep', pool, input: { ms: 8_000 } }]);
    await eventually(async () => ((await tasksOf(first)).tasks[0]?.status === 'RUNNING' ? true : undefined), { what: 'the first run to start' });
    expect((await tasksOf(first)).tasks[0]!.waitReason).toBeNull();

    const second = await runWorkflow('needs-the-slot', [{ id: 'nap', capability: 'sleep', pool, input: { ms: 10 } }]);
    const busy = await waitingFor(second, 'NO_FREE_SLOT');
    expect(busy.waitReason!.message).toBe(`every worker of pool "${pool}" that runs sleep is busy`);
    await eventually(async () => ((await tasksOf(second)).status === 'SUCCEEDED' ? true : undefined), { timeoutMs: 30_000, what: 'the second run to finish' });
    expect((await tasksOf(second)).tasks[0]!.waitReason).toBeNull();
  });

  it('says when a retry starts while the task waits out its retry delay', async () => {
    const worker = await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true' });
    await eventually(() => worker.registered, { what: 'the worker to register' });
    // A delay of up to an hour (full jitter): the retry does not come during the test.
    const runId = await runWorkflow('retries-later', [
      { id: 'call', capability: 'http.request', input: { url: `${siteUrl}/status` }, retry: { maxAttempts: 2, initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 } },
    ]);
    const task = await waitingFor(runId, 'RETRY_BACKOFF');
    expect(task.status).toBe('QUEUED');
    expect(task.waitReason!.message).toMatch(/^attempt 2 starts after its retry delay \(\d+ ms\)$/);
    const until = Date.parse(task.waitReason!.details!['until'] as string);
    expect(until).toBeGreaterThan(Date.parse(task.waitReason!.since));
    expect(task.waitReason!.details!['attempt']).toBe(2);
    await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId });
    expect((await tasksOf(runId)).tasks[0]).toMatchObject({ status: 'CANCELLED', waitReason: null });
  });
});
