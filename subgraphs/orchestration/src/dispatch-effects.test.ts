import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { createDispatcher, type Dispatcher } from './engine/dispatcher';
import type { Engine } from './engine/engine';
import { touchDispatcher } from './store/dispatchers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * What follows a claim's commit (publishing its RUNNING events to Redis) fails once. The claim has
 * committed: the attempt must run once, on the claim that was made, and the run succeed. (Applying
 * the committed batch again one claim at a time found the attempt RUNNING under this dispatcher but
 * not executing here, gave it up as lost and queued a second attempt.)
 *
 * The dispatcher is a real one (createDispatcher, its own BullMQ consumer) over the service's engine,
 * whose first commit's after-commit effects fail; the service's own dispatcher is stopped so that this
 * one takes the job.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
let dispatcher: Dispatcher | undefined;
let connection: ReturnType<TestOrchestration['redis']['duplicate']> | undefined;
let beat: NodeJS.Timeout | undefined;
const admin = userPrincipal(randomUUID(), 'admin');

beforeAll(async () => {
  t = await startTestOrchestration({ RECONCILE_INTERVAL_MS: '600000' });
  worker = await t.startWorker({ WORKER_SLOTS: '2' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  clearInterval(beat);
  await dispatcher?.stop();
  await connection?.quit();
  await t?.stop();
});

it('runs a claimed attempt once when the effects after its claim committed fail', async () => {
  await t.service.dispatcher.stop();
  const dispatcherId = `effects-fail-${randomUUID()}`;
  const real = t.service.engine;
  let failed = 0;
  const failFirst = async (effects: Promise<void>) => {
    await effects;
    if (failed === 0) {
      failed += 1;
      throw new Error('Redis went away after the commit');
    }
  };
  const engine: Engine = {
    ...real,
    change: async (principal, fn) => {
      const { result, effects } = await real.changeCommitted(principal, fn);
      await failFirst(effects);
      return result;
    },
    changeCommitted: async (principal, fn, first) => {
      const committed = await real.changeCommitted(principal, fn, first);
      return { result: committed.result, effects: failFirst(committed.effects) };
    },
  };
  const touch = () => void real.inSystem((tx) => touchDispatcher(tx, dispatcherId));
  touch();
  beat = setInterval(touch, 500);
  connection = t.redis.duplicate({ maxRetriesPerRequest: null });
  dispatcher = createDispatcher({ engine, connection, prefix: t.prefix, dispatcherId });
  dispatcher.ensurePool('default');

  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'once', steps: [{ id: 'only', capability: 'noop' }] },
  });
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId: created.data!.createWorkflow.id } });
  const runId = started.data!.startRun.run.id;
  await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'SUCCEEDED', { what: 'the run to succeed', timeoutMs: 30_000 });

  expect(failed).toBe(1);
  const attempts = await t.pool.query<{ status: string; dispatcher_id: string }>('SELECT a.status, a.dispatcher_id FROM task_attempts a WHERE a.run_id = $1 ORDER BY a.attempt', [runId]);
  expect(attempts.rows).toEqual([{ status: 'SUCCEEDED', dispatcher_id: dispatcherId }]);
}, 120_000);
