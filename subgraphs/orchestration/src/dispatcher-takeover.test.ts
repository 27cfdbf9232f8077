import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * A dispatcher that dies (issue 9 item 17): its running attempts are taken over by a live replica on
 * the heartbeat (DISPATCHER_HEARTBEAT_MS), not at the next reconcile pass. The reconcile interval is
 * set to ten minutes here, so only the heartbeat can do it. The dead dispatcher is a row of the real
 * `dispatchers` table last seen an hour ago, holding a real running attempt.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const admin = userPrincipal(randomUUID(), 'admin');

beforeAll(async () => {
  t = await startTestOrchestration({ RECONCILE_INTERVAL_MS: '600000', DISPATCHER_HEARTBEAT_MS: '200', DISPATCHER_LEASE_TTL_MS: '1000' });
  worker = await t.startWorker({ WORKER_SLOTS: '4' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
});

it('takes over the running attempts of a dispatcher that stopped heartbeating, once, and runs the task again', async () => {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'long', steps: [{ id: 'wait', capability: 'sleep', input: { ms: 1_500 } }] },
  });
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId: created.data!.createWorkflow.id } });
  const runId = started.data!.startRun.run.id;
  const attemptsOf = async () =>
    (await t.pool.query<{ id: string; status: string; code: string | null; dispatcher_id: string | null }>(
      `SELECT a.id, a.status, a.error->>'code' AS code, a.dispatcher_id FROM task_attempts a JOIN tasks k ON k.id = a.task_id WHERE k.run_id = $1 ORDER BY a.attempt`,
      [runId],
    )).rows;
  const first = await eventually(async () => (await attemptsOf()).find((a) => a.status === 'RUNNING'), { what: 'the attempt to run', timeoutMs: 20_000 });
  // Its dispatcher dies: the attempt is now held by one last seen an hour ago.
  await t.pool.query(`INSERT INTO dispatchers (id, last_seen_at) VALUES ('dead-dispatcher', now() - interval '1 hour')`);
  await t.pool.query(`UPDATE task_attempts SET dispatcher_id = 'dead-dispatcher' WHERE id = $1`, [first.id]);

  await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'SUCCEEDED', { what: 'the run to succeed', timeoutMs: 30_000 });
  const attempts = await attemptsOf();
  expect(attempts[0]).toMatchObject({ id: first.id, status: 'LOST', code: 'DISPATCHER_LOST' });
  expect(attempts.slice(1)).toEqual([expect.objectContaining({ status: 'SUCCEEDED', dispatcher_id: t.service.dispatcherId })]);
});
