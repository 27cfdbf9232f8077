import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { Pipeline } from 'ioredis';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * The connection BullMQ uses sends its commands without auto-pipelining (lib createQueueConnection):
 * BullMQ defines its ~64 Lua scripts on it, and ioredis copies every one onto each Pipeline it builds
 * (~40 µs of CPU each here). Counted on the real service: the Pipelines executed on the queue's
 * connections while one-step runs start, are dispatched and finish.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const orgId = randomUUID();
const operator = userPrincipal(orgId, 'operator');
const admin = userPrincipal(orgId, 'admin');

beforeAll(async () => {
  t = await startTestOrchestration();
  worker = await t.startWorker({ WORKER_SLOTS: '8' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
});

it('one-step runs started one at a time build no Pipeline on the queue connection', async () => {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'queue-pipelines', steps: [{ id: 'a', capability: 'noop' }] },
  });
  expect(created.errors).toBeUndefined();
  const workflowId = created.data!.createWorkflow.id;
  const exec = jest.spyOn(Pipeline.prototype, 'exec');
  const onQueue = () =>
    exec.mock.contexts.filter((p) => String((p as unknown as { redis: { options: { connectionName?: string } } }).redis.options.connectionName ?? '').startsWith('orchestration-queue')).length;
  try {
    const runs = 20;
    const ids: string[] = [];
    // One at a time: each start is its own transaction and enqueue, as a lone caller's would be.
    for (let n = 0; n < runs; n++) {
      const res = await t.graphql<{ startRun: { run: { id: string } } }>(operator, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId, input: { n } } });
      expect(res.errors).toBeUndefined();
      ids.push(res.data!.startRun.run.id);
    }
    await eventually(
      async () => (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`, [ids])).rows[0]!.n === runs,
      { what: 'the runs to succeed', timeoutMs: 30_000 },
    );
    // Auto-pipelined, each turn's commands were a Pipeline: 104 for these 20 runs (5.2 per run) when
    // measured. Without, only BullMQ's MULTIs were left: an addBulk per enqueue, 20, until an enqueue of
    // one attempt became a plain add: 0.
    expect(onQueue()).toBe(0);
  } finally {
    exec.mockRestore();
  }
});
