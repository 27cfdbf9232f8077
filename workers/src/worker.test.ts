import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTERNAL_CHANNEL_OPTIONS, TEST_INTERNAL_TOKEN, eventually, fromGrpcError, grpc, insecureCredentials, mintWorkerToken, serverStreamCall, TEST_WORKER_AUTH_SECRET, unaryCall, type AppError } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { asOrchestrator, execute, linesFor, nextAttemptId, resultOf, startTestRegistry, startWorker, testAuthority, TEST_WORKER_ID, type Started, type TestRegistry } from './test-support';

const opts = asOrchestrator();

describe('worker AutomationService over gRPC', () => {
  let registry: TestRegistry;
  let started: Started;
  let client: automationV1.AutomationServiceClient;
  // A local HTTP server stands in for a third-party website the http.request executor calls.
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    registry = await startTestRegistry();
    started = await startWorker(registry, {
      WORKER_SLOTS: '2',
      WORKER_ALLOW_PRIVATE_NETWORK: 'true',
      WORKER_LABELS: 'gpu=a100, zone=eu-west',
      WORKER_POOL: 'gpu',
      BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium',
    });
    client = started.client;
    site = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/status`;
  });

  afterAll(async () => {
    client.close();
    await started.worker.stop();
    await registry.stop();
    await new Promise<void>((resolve) => site.close(() => resolve()));
  });

  it('streams progress and log events, then exactly one result as the last message', async () => {
    const attemptId = nextAttemptId('order');
    const run = execute(client, { attemptId, capability: 'http.request', input: { url: siteUrl } });
    expect(await run.ended).toBeUndefined();
    expect(run.events.map((e) => e.event?.$case)).toEqual(['progress', 'log', 'progress', 'result']);
    const log = run.events[1]?.event;
    expect(log?.$case === 'log' && log.value).toMatchObject({ level: automationV1.LogLevel.LOG_LEVEL_INFO, message: expect.stringMatching(/answered 200/) });
    expect(resultOf(run.events)).toMatchObject({ outcome: { $case: 'success', value: { output: { status: 200, body: { ok: true } } } } });
    expect(linesFor(started.log, attemptId, 'attempt finished')[0]).toMatchObject({ outcome: 'success', runId: 'run-1', taskId: 'task-1' });
  });

  it('runs sleep with its progress ticks', async () => {
    const run = execute(client, { attemptId: nextAttemptId('sleep'), capability: 'sleep', input: { ms: 30, progressEveryMs: 10 } });
    expect(await run.ended).toBeUndefined();
    const cases = run.events.map((e) => e.event?.$case);
    expect(cases.filter((c) => c === 'result')).toHaveLength(1);
    expect(cases.at(-1)).toBe('result');
    expect(cases.slice(0, -1).every((c) => c === 'progress')).toBe(true);
    expect(resultOf(run.events)?.outcome?.$case).toBe('success');
  });

  it('answers bad executor input with a non-retryable BAD_INPUT result naming the field', async () => {
    const run = execute(client, { attemptId: nextAttemptId('bad-input'), capability: 'sleep', input: { ms: 'soon' } });
    expect(await run.ended).toBeUndefined();
    expect(run.events).toHaveLength(1);
    expect(resultOf(run.events)?.outcome).toEqual({ $case: 'failure', value: { code: 'BAD_INPUT', message: 'input.ms: expects a number of milliseconds', retryable: false, retryAfterMs: 0 } });
  });

  it('refuses an unknown capability and a missing attempt id with clear errors', async () => {
    const unknown = execute(client, { attemptId: nextAttemptId('unknown'), capability: 'gpu.infer', input: {} });
    await expect(unknown.ended).resolves.toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNKNOWN_CAPABILITY', field: 'capability', message: expect.stringContaining('no executor for capability "gpu.infer"') });
    expect(unknown.events).toEqual([]);
    const anonymous = execute(client, { attemptId: '', capability: 'noop' });
    await expect(anonymous.ended).resolves.toMatchObject({ code: 'BAD_USER_INPUT', field: 'attempt_id' });
  });

  it('never recycles the connection under a running Execute (issue 9 item 20: tasks were cut at ~5 minutes)', async () => {
    // lib's grpc.test.ts shows a recycle cutting a stream when the client pings; the worker has none.
    expect(started.worker.grpc.connectionAge).toBe('unlimited');
    // The dispatcher's channel options with pings every 100 ms, over a task much longer than that.
    const pinging = new automationV1.AutomationServiceClient(started.grpcAddress, insecureCredentials(), { ...INTERNAL_CHANNEL_OPTIONS, 'grpc.keepalive_time_ms': 100 });
    const run = execute(pinging, { attemptId: nextAttemptId('long'), capability: 'sleep', input: { ms: 1_500, progressEveryMs: 100 } }, { deadlineMs: 60_000 });
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome?.$case).toBe('success');
    pinging.close();
  });

  it('aborts the executor when the caller cancels mid-sleep', async () => {
    const attemptId = nextAttemptId('client-cancel');
    const controller = new AbortController();
    const run = execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { signal: controller.signal, deadlineMs: 3_600_000 });
    await run.firstEvent;
    controller.abort();
    await expect(run.ended).resolves.toMatchObject({ code: 'UNAVAILABLE' });
    // The hour-long sleep ends only because its signal aborted.
    const result = await eventually(() => started.worker.attempts.recent(attemptId), { what: 'the aborted attempt to finish' });
    expect(result.outcome).toMatchObject({ $case: 'failure', value: { code: 'ABORTED', retryable: true } });
    expect(started.worker.attempts.runningIds()).not.toContain(attemptId);
  });

  it('aborts the executor when the call deadline passes', async () => {
    const attemptId = nextAttemptId('deadline');
    const run = execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 1_000 });
    await expect(run.ended).resolves.toMatchObject({ code: 'UNAVAILABLE' });
    const result = await eventually(() => started.worker.attempts.recent(attemptId), { what: 'the timed-out attempt to finish' });
    expect(result.outcome).toMatchObject({ $case: 'failure', value: { code: 'TIMEOUT', retryable: true } });
  });

  it("ends an attempt past the request's timeout_ms with a retryable TIMEOUT result", async () => {
    const run = execute(client, { attemptId: nextAttemptId('timeout-ms'), capability: 'sleep', input: { ms: 3_600_000 }, timeoutMs: 100 });
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome).toMatchObject({ $case: 'failure', value: { code: 'TIMEOUT', retryable: true, message: expect.stringContaining('100 ms') } });
  });

  it('cancels a running attempt through Cancel with a non-retryable CANCELLED result', async () => {
    const attemptId = nextAttemptId('cancel-rpc');
    const run = execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 });
    await run.firstEvent;
    await expect(unaryCall(client, client.cancel, { attemptId, reason: 'run cancelled by operator' }, opts)).resolves.toEqual({ cancelled: true });
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome).toEqual({ $case: 'failure', value: { code: 'CANCELLED', message: 'cancelled: run cancelled by operator', retryable: false, retryAfterMs: 0 } });
    await expect(unaryCall(client, client.cancel, { attemptId, reason: '' }, opts)).resolves.toEqual({ cancelled: false });
    await expect(unaryCall(client, client.cancel, { attemptId: 'never-ran', reason: '' }, opts)).resolves.toEqual({ cancelled: false });
  });

  it('fails fast with NO_FREE_SLOT when every slot is busy, and frees slots when attempts end', async () => {
    const ids = [nextAttemptId('slot'), nextAttemptId('slot')];
    const runs = ids.map((attemptId) => execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 }));
    await Promise.all(runs.map((r) => r.firstEvent));
    const described = await unaryCall(client, client.describe, {}, opts);
    expect(described).toMatchObject({ slotsTotal: 2, slotsFree: 0 });
    expect([...described.runningAttemptIds].sort()).toEqual([...ids].sort());

    const third = execute(client, { attemptId: nextAttemptId('slot'), capability: 'noop' });
    await expect(third.ended).resolves.toMatchObject({ code: 'RATE_LIMITED', reason: 'NO_FREE_SLOT' });
    expect(third.events).toEqual([]);

    for (const attemptId of ids) await unaryCall(client, client.cancel, { attemptId, reason: 'test over' }, opts);
    await Promise.all(runs.map((r) => r.ended));
    const after = execute(client, { attemptId: nextAttemptId('slot'), capability: 'noop', input: { fine: true } });
    expect(await after.ended).toBeUndefined();
    expect(resultOf(after.events)?.outcome).toEqual({ $case: 'success', value: { output: { fine: true } } });
  });

  it('never runs the same attempt id twice: a duplicate joins the running attempt or gets its result', async () => {
    const attemptId = nextAttemptId('dup');
    const first = execute(client, { attemptId, capability: 'sleep', input: { ms: 300, progressEveryMs: 50 } });
    await first.firstEvent;
    const second = execute(client, { attemptId, capability: 'sleep', input: { ms: 300, progressEveryMs: 50 } });
    expect(await first.ended).toBeUndefined();
    expect(await second.ended).toBeUndefined();
    expect(resultOf(second.events)).toEqual(resultOf(first.events));
    expect(resultOf(first.events)?.outcome?.$case).toBe('success');

    const third = execute(client, { attemptId, capability: 'sleep', input: { ms: 300 } });
    expect(await third.ended).toBeUndefined();
    expect(third.events).toHaveLength(1);
    expect(resultOf(third.events)).toEqual(resultOf(first.events));
    expect(linesFor(started.log, attemptId, 'attempt started')).toHaveLength(1);
  });

  it('describes itself', async () => {
    const described = await unaryCall(client, client.describe, {}, opts);
    expect(described).toMatchObject({
      workerId: started.worker.workerId,
      pool: 'gpu',
      capabilities: ['noop', 'sleep', 'http.request', 'transform', 'llm'],
      slotsTotal: 2,
      labels: { gpu: 'a100', zone: 'eu-west' },
      version: 'test',
    });
    expect(described.resources?.cpuCount).toBeGreaterThan(0);
    expect(described.resources?.gpus).toEqual([]);
    // No usable browser: the capability is not offered, and the log says why once.
    const why = started.log.lines.filter((l) => String(l['msg']).startsWith('browser capability not offered'));
    expect(why).toHaveLength(1);
    expect(why[0]?.['msg']).toContain('apt-get install chromium');
  });

  it('takes calls only from the orchestration service: not with the services\' token, a worker token or another worker\'s dispatch token', async () => {
    const refusedWith = async (token: string) => {
      const run = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ attemptId: nextAttemptId('refused'), capability: 'noop' }), { internalToken: token });
      return new Promise<AppError>((resolve) => run.on('error', (e: grpc.ServiceError) => resolve(fromGrpcError(e))));
    };
    for (const token of [
      'not-the-token-not-the-token-not-the',
      // A subgraph's credential: services do not make workers run things.
      TEST_INTERNAL_TOKEN,
      // The worker's own token, or any worker's: workers do not call each other.
      mintWorkerToken(TEST_WORKER_AUTH_SECRET, TEST_WORKER_ID),
      // What the orchestration service would send to another worker.
      testAuthority.dispatchToken('some-other-worker'),
    ]) {
      expect(await refusedWith(token)).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SERVICE_TOKEN_INVALID' });
    }
    await expect(unaryCall(client, client.describe, {}, { internalToken: TEST_INTERNAL_TOKEN })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // The dispatch token it was handed works (the other tests run everything with it).
    await expect(unaryCall(client, client.describe, {}, opts)).resolves.toMatchObject({ workerId: TEST_WORKER_ID });
  });

  it('registers and heartbeats with its own worker token, not a service token', async () => {
    await eventually(() => registry.heartbeats.length > 0, { what: 'a heartbeat' });
    expect(new Set(registry.callers)).toEqual(new Set([TEST_WORKER_ID]));
  });

  it('serves grpc.health.v1, /healthz, /readyz once registered, and /metrics', async () => {
    const protoLoader = await import('@grpc/proto-loader');
    const { protoPath } = await import('grpc-health-check');
    const def = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: new (a: string, c: unknown) => { check: (r: object, cb: (e: Error | null, r: { status: string }) => void) => void; close(): void } } } };
    };
    const health = new def.grpc.health.v1.Health(started.grpcAddress, insecureCredentials());
    const status = (service: string) => new Promise<string>((resolve, reject) => health.check({ service }, (e, r) => (e ? reject(e) : resolve(r.status))));
    await expect(status('')).resolves.toBe('SERVING');
    await expect(status('orchestra.automation.v1.AutomationService')).resolves.toBe('SERVING');
    health.close();

    expect((await fetch(`${started.httpUrl}/healthz`)).status).toBe(200);
    await eventually(async () => (await fetch(`${started.httpUrl}/readyz`)).status === 200, { what: '/readyz to turn ready' });
    const metrics = await (await fetch(`${started.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/orchestra_worker_attempts_total\{[^}]*capability="sleep"[^}]*outcome="SUCCESS"/);
    expect(metrics).toContain('orchestra_worker_slots_busy');
  });
});

describe('worker shutdown', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(() => registry.stop());

  it('lets running attempts finish within the grace period and takes no new ones', async () => {
    const { worker, client } = await startWorker(registry, { WORKER_DRAIN_GRACE_MS: '60000' });
    try {
      const running = execute(client, { attemptId: nextAttemptId('drain'), capability: 'sleep', input: { ms: 500, progressEveryMs: 50 } });
      await running.firstEvent;
      const stopping = worker.stop();
      const late = execute(client, { attemptId: nextAttemptId('late'), capability: 'noop' });
      await expect(late.ended).resolves.toMatchObject({ code: 'UNAVAILABLE', reason: 'WORKER_DRAINING' });
      expect(await running.ended).toBeUndefined();
      expect(resultOf(running.events)?.outcome?.$case).toBe('success');
      await stopping;
    } finally {
      client.close();
      await worker.stop();
    }
  });

  it('aborts attempts still running when the grace period is over, with a retryable result', async () => {
    const { worker, client, log } = await startWorker(registry, { WORKER_DRAIN_GRACE_MS: '100' });
    try {
      const attemptId = nextAttemptId('shutdown');
      const running = execute(client, { attemptId, capability: 'sleep', input: { ms: 3_600_000 } }, { deadlineMs: 3_600_000 });
      await running.firstEvent;
      await worker.stop();
      expect(await running.ended).toBeUndefined();
      expect(resultOf(running.events)?.outcome).toEqual({ $case: 'failure', value: { code: 'ABORTED', message: 'the worker is shutting down', retryable: true, retryAfterMs: 0 } });
      expect(log.lines.some((l) => l['msg'] === 'drain grace period over: aborting running attempts')).toBe(true);
    } finally {
      client.close();
    }
  });
});
