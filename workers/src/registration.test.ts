import { eventually, unaryCall } from '@orchestra/lib';
import { asOrchestrator, execute, nextAttemptId, resultOf, startTestRegistry, startWorker, type Started, type TestRegistry } from './test-support';

// The WorkerRegistry here is an in-test gRPC server implementing the orchestration contract (see
// test-support.ts): it lets each test script the registry's answers. The worker talks to it over
// real gRPC; the worker against the real orchestration service is covered in tests/orchestration.

const fastRetry = { retry: { initialMs: 5, maxMs: 20 } };
const opts = asOrchestrator();
const msgs = (started: Started, msg: string) => started.log.lines.filter((l) => l['msg'] === msg);

describe('worker registration', () => {
  let registry: TestRegistry;
  let started: Started;

  beforeAll(async () => {
    registry = await startTestRegistry();
    // The registry is "starting" for the first few calls: the worker must keep trying.
    registry.failRegisters = 4;
    started = await startWorker(registry, { WORKER_SLOTS: '3', WORKER_LABELS: 'zone=eu', WORKER_POOL: 'cpu', WORKER_CAPABILITIES: 'noop,sleep' }, fastRetry);
  });

  afterAll(async () => {
    started.client.close();
    await started.worker.stop();
    await registry.stop();
  });

  it('retries Register with backoff until the registry answers, logging the failure once', async () => {
    await eventually(() => started.worker.registered, { what: 'a registration' });
    expect(registry.registers).toHaveLength(1);
    expect(registry.failRegisters).toBe(0);
    expect(msgs(started, 'register failed')).toHaveLength(1);
    expect(msgs(started, 'register failed again')).toHaveLength(3);
    expect(msgs(started, 'registered')[0]).toMatchObject({ tries: 5, workerId: started.worker.workerId });
    expect(started.worker.registered).toBe(true);
  });

  it('announces its endpoint, pool, capabilities, slots, labels and resources', () => {
    const worker = registry.registers[0]?.worker;
    expect(worker).toMatchObject({
      workerId: started.worker.workerId,
      endpoint: started.grpcAddress,
      pool: 'cpu',
      capabilities: ['noop', 'sleep'],
      slotsTotal: 3,
      slotsFree: 3,
      labels: { zone: 'eu' },
      version: 'test',
    });
    expect(worker?.resources?.cpuCount).toBeGreaterThan(0);
    expect(worker?.resources?.memoryTotalBytes).toBeGreaterThan(0);
  });

  it('heartbeats with free slots, resources and running attempt ids', async () => {
    const attemptId = nextAttemptId('heartbeat');
    const run = execute(started.client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 });
    await run.firstEvent;
    const beat = await eventually(() => registry.heartbeats.find((h) => h.runningAttemptIds.includes(attemptId)), { what: 'a heartbeat naming the attempt' });
    expect(beat).toMatchObject({ workerId: started.worker.workerId, slotsFree: 2 });
    expect(beat.resources?.cpuCount).toBeGreaterThan(0);
    await unaryCall(started.client, started.client.cancel, { attemptId, reason: 'test over' }, opts);
    await run.ended;
  });

  it('aborts the attempts a heartbeat answer lists in cancel_attempt_ids', async () => {
    const attemptId = nextAttemptId('registry-cancel');
    const run = execute(started.client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 });
    await run.firstEvent;
    registry.nextHeartbeat = { cancelAttemptIds: [attemptId, 'not-running-here'] };
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome).toEqual({
      $case: 'failure',
      value: { code: 'CANCELLED', message: 'the orchestrator gave up on this attempt', retryable: false, retryAfterMs: 0 },
    });
  });

  it('registers again when a heartbeat answers known=false', async () => {
    const before = registry.registers.length;
    registry.nextHeartbeat = { known: false };
    await eventually(() => registry.registers.length === before + 1, { what: 'a second registration' });
    expect(registry.registers.at(-1)?.worker?.workerId).toBe(started.worker.workerId);
    expect(msgs(started, 'registry no longer knows this worker: registering again')).toHaveLength(1);
    await eventually(() => started.worker.registered, { what: 'registered again' });
  });

  it('keeps heartbeating through registry failures, logging them once', async () => {
    const beats = registry.heartbeats.length;
    registry.failHeartbeats = 3;
    await eventually(() => msgs(started, 'heartbeat works again').length === 1, { what: 'heartbeats to work again' });
    expect(registry.heartbeats.length).toBeGreaterThan(beats);
    expect(registry.failHeartbeats).toBe(0);
    expect(msgs(started, 'heartbeat failed')).toHaveLength(1);
    expect(msgs(started, 'heartbeat failed again')).toHaveLength(2);
    expect(msgs(started, 'heartbeat works again')).toHaveLength(1);
  });
});

describe('worker drain on stop', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(() => registry.stop());

  it('reports no free slots while draining, lets the running attempt end, then deregisters', async () => {
    const started = await startWorker(registry, { WORKER_SLOTS: '2', WORKER_DRAIN_GRACE_MS: '60000' }, fastRetry);
    const { worker, client } = started;
    try {
      await eventually(() => worker.registered, { what: 'registration' });
      const attemptId = nextAttemptId('drain');
      const run = execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 });
      await run.firstEvent;

      const beatsBefore = registry.heartbeats.length;
      const stopping = worker.stop();
      // While draining the lease stays alive, with no free slot so the dispatcher sends nothing new.
      await eventually(() => registry.heartbeats.slice(beatsBefore).find((h) => h.slotsFree === 0 && h.runningAttemptIds.includes(attemptId)), {
        what: 'a draining heartbeat',
      });
      expect(registry.deregisters).toEqual([]);
      await expect(unaryCall(client, client.describe, {}, opts)).resolves.toMatchObject({ slotsFree: 0, runningAttemptIds: [attemptId] });

      // The attempt still ends normally (here the orchestrator cancels it), then the worker leaves.
      await unaryCall(client, client.cancel, { attemptId, reason: 'done waiting' }, opts);
      await stopping;
      expect(await run.ended).toBeUndefined();
      expect(resultOf(run.events)?.outcome?.$case).toBe('failure');
      expect(registry.deregisters).toEqual([{ workerId: worker.workerId }]);
      const order = started.log.lines.map((l) => l['msg']);
      expect(order.indexOf('attempt finished')).toBeLessThan(order.indexOf('deregistered'));
      expect(worker.registered).toBe(false);
    } finally {
      client.close();
      await worker.stop();
    }
  });
});
