import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { createDispatcher, type Dispatcher } from './engine/dispatcher';
import type { Engine } from './engine/engine';
import { touchDispatcher } from './store/dispatchers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * A dispatcher that dies after its worker finished an attempt but before it recorded the result
 * (issue 9 item 18): the takeover asks the worker, which keeps the results of the attempts it ran,
 * and records that result. The task is never run a second time.
 *
 * The dying dispatcher is a real dispatcher (createDispatcher, its own BullMQ consumer) over the
 * service's engine, whose every database transaction hangs from the moment it "dies": it claims the
 * attempt and calls the worker, the worker finishes and answers, and the answer is never recorded;
 * its heartbeat stops with it. The service's own dispatcher is stopped so that the dying one takes the
 * job; a replica started afterwards is the surviving dispatcher.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
let victim: Dispatcher | undefined;
let victimStopped: Promise<void> | undefined;
let victimConnection: ReturnType<TestOrchestration['redis']['duplicate']> | undefined;
let victimBeat: NodeJS.Timeout | undefined;
let die: (error: Error) => void = () => undefined;
const admin = userPrincipal(randomUUID(), 'admin');

beforeAll(async () => {
  // The dead dispatcher is found by the heartbeat only (the reconcile pass is ten minutes away), 3 s after its last beat.
  t = await startTestOrchestration({ RECONCILE_INTERVAL_MS: '600000', DISPATCHER_HEARTBEAT_MS: '200', DISPATCHER_LEASE_TTL_MS: '3000' });
  worker = await t.startWorker({ WORKER_SLOTS: '2' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  clearInterval(victimBeat);
  die(new Error('the dispatcher died'));
  await (victimStopped ?? victim?.stop());
  await victimConnection?.quit();
  await t?.stop();
});

it('records the result the worker kept for an attempt whose dispatcher died before recording it, and runs the task once', async () => {
  await t.service.dispatcher.stop();
  const victimId = `dying-dispatcher-${randomUUID()}`;
  let dead = false;
  const hanging = new Promise<never>((_, reject) => {
    die = reject;
  });
  hanging.catch(() => undefined);
  const engine: Engine = {
    ...t.service.engine,
    change: (principal, fn) => (dead ? hanging : t.service.engine.change(principal, fn)),
    changeCommitted: (principal, fn, first) => (dead ? hanging : t.service.engine.changeCommitted(principal, fn, first)),
    inSystem: (fn) => (dead ? hanging : t.service.engine.inSystem(fn)),
  };
  const beat = () => {
    if (!dead) void t.service.engine.inSystem((tx) => touchDispatcher(tx, victimId));
  };
  beat();
  victimBeat = setInterval(beat, 200);
  victimConnection = t.redis.duplicate({ maxRetriesPerRequest: null });
  victim = createDispatcher({ engine, connection: victimConnection, prefix: t.prefix, dispatcherId: victimId });
  victim.ensurePool('default');

  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'short', steps: [{ id: 'nap', capability: 'sleep', input: { ms: 300 } }] },
  });
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId: created.data!.createWorkflow.id } });
  const runId = started.data!.startRun.run.id;
  const attemptsOf = async () =>
    (await t.pool.query<{ id: string; task_id: string; status: string; dispatcher_id: string | null }>(
      `SELECT a.id, a.task_id, a.status, a.dispatcher_id FROM task_attempts a JOIN tasks k ON k.id = a.task_id WHERE k.run_id = $1 ORDER BY a.attempt`,
      [runId],
    )).rows;

  // The dispatcher dies the moment the worker starts the attempt (read from the worker's log in memory,
  // not from the database: a poll of the database under load could see RUNNING so late that the
  // dispatcher's result transaction for the 300 ms nap was already under way, and committed the result
  // itself). Its claim is committed by then (the Execute call comes after it). From now on nothing it does
  // reaches the database, it stops heartbeating and takes no more jobs (its stop waits for the job it
  // holds, which never ends until afterAll).
  await eventually(() => t.log.lines.some((l) => l['msg'] === 'attempt started'), { what: 'the worker to start the attempt', timeoutMs: 30_000, intervalMs: 2 });
  dead = true;
  victimStopped = victim.stop();
  const running = await eventually(async () => (await attemptsOf()).find((a) => a.status === 'RUNNING'), { what: 'the attempt to run', timeoutMs: 30_000 });
  expect(running.dispatcher_id).toBe(victimId);
  const onWorker = (msg: string) => t.log.lines.filter((l) => l['msg'] === msg && l['taskId'] === running.task_id);
  await eventually(() => onWorker('attempt finished').length === 1, { what: 'the worker to finish the attempt', timeoutMs: 30_000 });
  // The worker finished and answered; the answer was not recorded.
  expect((await attemptsOf())[0]).toMatchObject({ id: running.id, status: 'RUNNING' });

  // A surviving dispatcher takes over the dead one's attempt.
  await t.startReplica();
  await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'SUCCEEDED', { what: 'the run to succeed', timeoutMs: 30_000 });

  expect(await attemptsOf()).toEqual([expect.objectContaining({ id: running.id, status: 'SUCCEEDED' })]);
  expect(onWorker('attempt started')).toHaveLength(1);
  // Written just after the takeover's commit: the run can be seen SUCCEEDED a moment before the line is (at load 12–20, 2 of 13 runs).
  await eventually(() => t.log.lines.some((l) => l['msg'] === 'attempt of a dead dispatcher recorded with the result its worker kept' && l['attemptId'] === running.id), {
    what: 'the takeover to say it recorded the result the worker kept',
    timeoutMs: 10_000,
  });
  const task = await t.pool.query<{ status: string }>('SELECT status FROM tasks WHERE id = $1', [running.task_id]);
  expect(task.rows[0]?.status).toBe('SUCCEEDED');
}, 120_000);
