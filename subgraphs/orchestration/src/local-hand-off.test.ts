import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { Queue } from 'bullmq';
import { queueNameOf } from './engine/task-queues';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Ready attempts handed to this process's dispatcher in memory (engine/dispatch/local-hand-off.ts),
 * on the real service with a real worker over gRPC, PostgreSQL and Redis: with a free slot no BullMQ
 * job is added for the attempt; with every slot busy it goes through BullMQ as before; a hand-off lost
 * between commit and claim is enqueued by the reconciler from its outbox row; a handed-off attempt
 * whose claim says wait lands on BullMQ delayed.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

/** Counts queue adds (addBulk per job) by attempt id, and each one's delay, from now until `restore`. */
function countAdds(): { ids: string[]; delays: Map<string, number>; restore: () => void } {
  const ids: string[] = [];
  const delays = new Map<string, number>();
  const seen = (opts: { jobId?: string; delay?: number } | undefined) => {
    if (opts?.jobId === undefined) return;
    ids.push(opts.jobId);
    delays.set(opts.jobId, opts.delay ?? 0);
  };
  // Spies that call through: the jobs are added as ever.
  const add = jest.spyOn(Queue.prototype, 'add');
  const addBulk = jest.spyOn(Queue.prototype, 'addBulk');
  return {
    ids,
    delays,
    restore: () => {
      for (const call of add.mock.calls) seen(call[2]);
      for (const call of addBulk.mock.calls) for (const job of call[0]) seen(job.opts);
      add.mockRestore();
      addBulk.mockRestore();
    },
  };
}

/** The default pool's queue, on a connection of its own, closed after `use` (BullMQ does not close a connection it is given). */
async function withQueue<T>(use: (queue: Queue) => Promise<T>): Promise<T> {
  const connection = t.redis.duplicate();
  const queue = new Queue(queueNameOf('default'), { connection, prefix: t.prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

const handOffs = async (): Promise<number> => {
  const metric = t.service.engine.metrics.registry.getSingleMetric('orchestra_task_attempts_enqueued_total');
  const values = metric ? (await metric.get()).values : [];
  return values.filter((v) => v.labels.source === 'local').reduce((sum, v) => sum + v.value, 0);
};

async function createWorkflow(input: Record<string, unknown>): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, { i: { name: `hand-off-${randomUUID().slice(0, 8)}`, ...input } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function startRun(workflowId: string, input: Record<string, unknown> = {}): Promise<string> {
  const res = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId, input } });
  expect(res.errors).toBeUndefined();
  return res.data!.startRun.run.id;
}

const statusOf = async (runId: string) => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status;
const succeeded = (runId: string, timeoutMs = 30_000) => eventually(async () => (await statusOf(runId)) === 'SUCCEEDED', { what: `run ${runId} to succeed`, timeoutMs });
const attemptsOf = async (runId: string) =>
  (await t.pool.query<{ id: string; status: string; dispatcher_id: string | null }>('SELECT id, status, dispatcher_id FROM task_attempts WHERE run_id = $1 ORDER BY attempt', [runId])).rows;
const outboxOf = async (attemptId: string) => (await t.pool.query<{ enqueued_at: Date | null }>('SELECT enqueued_at FROM dispatch_outbox WHERE attempt_id = $1', [attemptId])).rows;

beforeAll(async () => {
  // The reconciler runs only when a test calls it.
  t = await startTestOrchestration({ RECONCILE_INTERVAL_MS: '600000' });
  worker = await t.startWorker({ WORKER_SLOTS: '2' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
  await eventually(() => t.service.dispatcher.concurrency('default') === 2, { what: 'the dispatcher to see both slots' });
  // Hand-offs are made while the pool's calls are short (local-hand-off.ts): a first call tells.
  const warmUp = await startRun(await createWorkflow({ steps: [{ id: 'only', capability: 'noop' }] }));
  await succeeded(warmUp);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

afterEach(() => {
  jest.restoreAllMocks();
  // Every test ends with the service's own hand-off wired, as the service wires it.
  t.service.engine.queues.handOffTo((entry) => t.service.dispatcher.handOff(entry));
});

it('runs a one-step run started with a free slot without adding a BullMQ job for it', async () => {
  const workflowId = await createWorkflow({ steps: [{ id: 'only', capability: 'noop' }] });
  const adds = countAdds();
  const before = await handOffs();
  const runId = await startRun(workflowId);
  await succeeded(runId);
  adds.restore();
  const attempts = await attemptsOf(runId);
  // The outcome is the same as through the queue: one attempt, run by this process's dispatcher.
  expect(attempts).toEqual([{ id: expect.any(String), status: 'SUCCEEDED', dispatcher_id: t.service.dispatcherId }]);
  expect(adds.ids).not.toContain(attempts[0]!.id);
  expect(adds.ids).toEqual([]);
  expect(await handOffs()).toBe(before + 1);
  // Its claim deleted its outbox row.
  expect(await outboxOf(attempts[0]!.id)).toEqual([]);
  // No job of it in Redis, in any state.
  await withQueue(async (queue) => expect(await queue.getJobState(attempts[0]!.id)).toBe('unknown'));
});

it('sends an attempt through BullMQ as before when every slot is busy', async () => {
  const sleeper = await createWorkflow({ steps: [{ id: 'hold', capability: 'sleep', input: { ms: 600 } }] });
  const quick = await createWorkflow({ steps: [{ id: 'only', capability: 'noop' }] });
  const adds = countAdds();
  const holders = [await startRun(sleeper), await startRun(sleeper)];
  // Both slots are held here by the sleeps (handed off themselves).
  await eventually(async () => (await Promise.all(holders.map(attemptsOf))).every((a) => a[0]?.status === 'RUNNING'), { what: 'both sleeps to run' });
  const queued = await startRun(quick);
  await succeeded(queued);
  await Promise.all(holders.map((id) => succeeded(id)));
  adds.restore();
  const [attempt] = await attemptsOf(queued);
  expect(attempt?.status).toBe('SUCCEEDED');
  // It went on the queue, and was not handed off (the sleeps were).
  expect(adds.ids).toContain(attempt!.id);
  const holderAttempts = (await Promise.all(holders.map(attemptsOf))).flat().map((a) => a.id);
  for (const id of holderAttempts) expect(adds.ids).not.toContain(id);
});

it('loses nothing when a hand-off is dropped between commit and claim: the reconciler enqueues its outbox row', async () => {
  const workflowId = await createWorkflow({ steps: [{ id: 'only', capability: 'noop' }] });
  const taken: string[] = [];
  // A hand-off that takes the attempt and then dies with its process (nothing runs it).
  t.service.engine.queues.handOffTo((entry) => {
    taken.push(entry.attemptId);
    return true;
  });
  const runId = await startRun(workflowId);
  const [attempt] = await attemptsOf(runId);
  expect(taken).toEqual([attempt!.id]);
  expect(attempt?.status).toBe('QUEUED');
  // Its outbox row stays, not marked enqueued: what the reconciler looks for.
  await new Promise((r) => setTimeout(r, 500));
  expect(await outboxOf(attempt!.id)).toEqual([{ enqueued_at: null }]);
  // The process is gone; a live one's reconciler (grace period over) puts it back on the way to a worker.
  t.service.engine.queues.handOffTo((entry) => t.service.dispatcher.handOff(entry));
  const report = await eventually(
    async () => {
      const r = await t.service.reconciler.reconcileOnce();
      return r.enqueued > 0 ? r : undefined;
    },
    { what: 'the reconciler to enqueue the outbox row', timeoutMs: 15_000, intervalMs: 500 },
  );
  expect(report.enqueued).toBe(1);
  await succeeded(runId);
  expect(await attemptsOf(runId)).toEqual([{ id: attempt!.id, status: 'SUCCEEDED', dispatcher_id: t.service.dispatcherId }]);
});

it('puts a handed-off attempt whose claim says wait on BullMQ delayed', async () => {
  // One at a time per customer: the second run's claim waits for flow control while slots are free.
  const workflowId = await createWorkflow({ concurrency: { key: '{{ input.customerId }}', limit: 1 }, steps: [{ id: 'work', capability: 'sleep', input: { ms: 600 } }] });
  const adds = countAdds();
  const before = await handOffs();
  const first = await startRun(workflowId, { customerId: 'a' });
  await eventually(async () => (await attemptsOf(first))[0]?.status === 'RUNNING', { what: 'the first run to start' });
  const second = await startRun(workflowId, { customerId: 'a' });
  const [waiting] = await attemptsOf(second);
  // Handed off (a slot was free), its claim said wait: it is on the queue, delayed, its outbox row marked.
  await withQueue((queue) => eventually(async () => (await queue.getJobState(waiting!.id)) === 'delayed', { what: 'the waiting attempt to be delayed on the queue' }));
  expect(await handOffs()).toBe(before + 2);
  await eventually(async () => (await outboxOf(waiting!.id))[0]?.enqueued_at instanceof Date, { what: 'its outbox row to be marked enqueued' });
  await succeeded(first);
  await succeeded(second);
  adds.restore();
  expect(adds.ids.filter((id) => id === waiting!.id).length).toBeGreaterThanOrEqual(1);
  expect(adds.delays.get(waiting!.id)).toBeGreaterThan(0);
  expect((await attemptsOf(second)).map((a) => a.status)).toEqual(['SUCCEEDED']);
});
