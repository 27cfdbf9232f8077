import { randomUUID } from 'node:crypto';
import { eventually, insecureCredentials, mintWorkerToken, TEST_INTERNAL_TOKEN, TEST_WORKER_AUTH_SECRET, unaryCall, withTenantTransaction, type Principal } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { TENANT_ROLE } from './engine/engine';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * The fleet's failure paths in-process: leases, heartbeats and circuit breakers, with real worker
 * processes' code (@orchestra/workers) where a worker must execute something.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const owner = userPrincipal(orgId, 'owner');

const workerInfo = (workerId: string, endpoint: string, labels: Record<string, string>, capabilities = ['sleep', 'noop']): orchestrationV1.WorkerInfo => ({
  workerId,
  endpoint,
  pool: 'default',
  capabilities,
  slotsTotal: 2,
  slotsFree: 2,
  labels,
  resources: { cpuCount: 2, cpuLoad: 0.1, memoryTotalBytes: 8e9, memoryUsedBytes: 1e9, gpus: [{ index: 0, model: 'NVIDIA A100', memoryTotalBytes: 4e10, memoryUsedBytes: 0, utilizationPercent: 0 }] },
  version: 'test',
  llmEndpoints: [],
});

async function run(principal: Principal, name: string, steps: unknown[]): Promise<string> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, { i: { name, steps } });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(principal, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, {
    i: { workflowId: created.data!.createWorkflow.id },
  });
  expect(started.errors).toBeUndefined();
  return started.data!.startRun.run.id;
}

interface TaskView {
  status: string;
  error: { code: string; message: string } | null;
  attemptHistory: Array<{ id: string; status: string; workerId: string | null; error: { code: string } | null }>;
}

async function task(runId: string): Promise<{ status: string; task: TaskView }> {
  const res = await t.graphql<{ run: { status: string; tasks: TaskView[] } }>(
    owner,
    `query($id: ID!) { run(id: $id) { status tasks { status error { code message } attemptHistory { id status workerId error { code } } } } }`,
    { id: runId },
  );
  expect(res.errors).toBeUndefined();
  return { status: res.data!.run.status, task: res.data!.run.tasks[0]! };
}

beforeAll(async () => {
  t = await startTestOrchestration({ WORKER_LEASE_TTL_MS: '1500', MAX_LOST_ATTEMPTS: '2', BREAKER_VOLUME_THRESHOLD: '2', BREAKER_RESET_MS: '400' });
});

afterAll(async () => {
  await t?.stop();
});

describe('worker registry', () => {
  it('answers known=false to an unknown worker and lists attempts a worker should stop', async () => {
    expect(await t.service.registry.heartbeat({ workerId: 'never-registered', slotsFree: 1, runningAttemptIds: ['a1'] })).toEqual({ known: false, cancelAttemptIds: ['a1'], dispatchTokens: [] });
    const answer = await t.service.registry.register({ worker: workerInfo('listed', '127.0.0.1:1', { role: 'listing' }) });
    // The worker learns the token the dispatcher will call it with (one per configured secret).
    const dispatchTokens = [t.service.engine.workerAuthority.dispatchToken('listed')];
    expect(answer).toEqual({ heartbeatIntervalMs: 200, leaseTtlMs: 1500, dispatchTokens });
    const stale = randomUUID();
    expect(await t.service.registry.heartbeat({ workerId: 'listed', slotsFree: 2, runningAttemptIds: [stale, 'not-a-uuid'] })).toEqual({ known: true, cancelAttemptIds: [stale, 'not-a-uuid'], dispatchTokens });
    await t.service.registry.deregister({ workerId: 'listed' });
    expect((await t.service.registry.heartbeat({ workerId: 'listed', slotsFree: 2, runningAttemptIds: [] })).known).toBe(false);
  });

  it('refuses a registration that does not say where or what, naming the field', async () => {
    await expect(t.service.registry.register({ worker: workerInfo('bad', 'no-port', {}) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'worker.endpoint' });
    await expect(t.service.registry.register({ worker: workerInfo('bad', '127.0.0.1:9', {}, []) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'worker.capabilities' });
  });

  it('shows the fleet with capabilities, slots, labels and GPUs', async () => {
    await t.service.registry.register({ worker: workerInfo('gpu-box', '127.0.0.1:2', { gpu: 'a100' }) });
    const res = await t.graphql<{ workers: Array<Record<string, unknown>> }>(
      owner,
      `{ workers(filter: { capability: "sleep" }) { id status capabilities slotsTotal slotsFree running labels { key value } resources { cpuCount gpus { model memoryTotalBytes } } lastHeartbeatAt } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.workers.find((w) => w['id'] === 'gpu-box')).toMatchObject({
      status: 'ONLINE',
      capabilities: ['sleep', 'noop'],
      slotsTotal: 2,
      slotsFree: 2,
      running: 0,
      labels: [{ key: 'gpu', value: 'a100' }],
      resources: { cpuCount: 2, gpus: [{ model: 'NVIDIA A100', memoryTotalBytes: 4e10 }] },
    });
    await t.service.registry.deregister({ workerId: 'gpu-box' });
  });

  it('shows worker endpoints (infrastructure) to admins and owners only', async () => {
    await t.service.registry.register({ worker: workerInfo('private-box', '10.0.0.7:50061', {}) });
    const endpointAs = async (principal: Principal) => {
      const res = await t.graphql<{ workers: Array<{ id: string; endpoint: string | null }> }>(principal, '{ workers { id endpoint } }');
      expect(res.errors).toBeUndefined();
      return res.data?.workers.find((w) => w.id === 'private-box')?.endpoint;
    };
    expect(await endpointAs(owner)).toBe('10.0.0.7:50061');
    expect(await endpointAs(userPrincipal(orgId, 'admin'))).toBe('10.0.0.7:50061');
    expect(await endpointAs(userPrincipal(orgId, 'operator'))).toBeNull();
    expect(await endpointAs(userPrincipal(orgId, 'viewer'))).toBeNull();
    await t.service.registry.deregister({ workerId: 'private-box' });
  });
});

describe('the fleet tables under row-level security', () => {
  it('let a tenant transaction read the fleet but not register, change or remove a worker, its slots or a dispatcher', async () => {
    await t.service.registry.register({ worker: workerInfo('rls-box', '127.0.0.1:7', {}) });
    const inTenant = <T>(sql: string, params: unknown[] = []) => withTenantTransaction(t.pool, TENANT_ROLE, { orgId }, async (tx) => (await tx.query<T & Record<string, unknown>>(sql, params)));
    expect((await inTenant<{ id: string }>('SELECT id FROM workers WHERE id = $1', ['rls-box'])).rows).toEqual([{ id: 'rls-box' }]);
    await expect(inTenant(`INSERT INTO workers (id, endpoint, pool, capabilities, slots_total, slots_free, status, lease_expires_at) VALUES ('planted', '10.6.6.6:1', 'default', '{noop}', 64, 64, 'ONLINE', now() + interval '1 day')`)).rejects.toThrow(/row-level security/);
    expect((await inTenant("UPDATE workers SET endpoint = '10.6.6.6:1' WHERE id = 'rls-box'")).rowCount).toBe(0);
    expect((await inTenant("DELETE FROM workers WHERE id = 'rls-box'")).rowCount).toBe(0);
    expect((await inTenant("DELETE FROM worker_slots WHERE worker_id = 'rls-box'")).rowCount).toBe(0);
    await expect(inTenant("INSERT INTO worker_slots (worker_id, slot) VALUES ('rls-box', 99)")).rejects.toThrow(/row-level security/);
    expect((await inTenant('DELETE FROM dispatchers')).rowCount).toBe(0);
    const { rows } = await t.pool.query<{ endpoint: string; slots: number }>("SELECT endpoint, (SELECT count(*)::int FROM worker_slots WHERE worker_id = 'rls-box') AS slots FROM workers WHERE id = 'rls-box'");
    expect(rows).toEqual([{ endpoint: '127.0.0.1:7', slots: 2 }]);
    await t.service.registry.deregister({ workerId: 'rls-box' });
  });
});

describe('worker credentials over gRPC', () => {
  let client: orchestrationV1.WorkerRegistryClient;
  let runs: orchestrationV1.OrchestrationServiceClient;
  const as = (workerId: string) => ({ internalToken: mintWorkerToken(TEST_WORKER_AUTH_SECRET, workerId) });
  beforeAll(() => {
    client = new orchestrationV1.WorkerRegistryClient(t.grpcAddress, insecureCredentials());
    runs = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, insecureCredentials());
  });
  afterAll(() => {
    client.close();
    runs.close();
  });

  it('lets a worker register, heartbeat and deregister its own id with its own token', async () => {
    const answer = await unaryCall(client, client.register, { worker: workerInfo('cred-a', '127.0.0.1:3', {}) }, as('cred-a'));
    expect(answer.dispatchTokens).toEqual([t.service.engine.workerAuthority.dispatchToken('cred-a')]);
    await expect(unaryCall(client, client.heartbeat, { workerId: 'cred-a', slotsFree: 2, runningAttemptIds: [] }, as('cred-a'))).resolves.toMatchObject({ known: true });
    await expect(unaryCall(client, client.deregister, { workerId: 'cred-a' }, as('cred-a'))).resolves.toEqual({});
  });

  it('refuses a worker token for another worker\'s id: no register (taking over its tasks), heartbeat or deregister', async () => {
    await unaryCall(client, client.register, { worker: workerInfo('cred-victim', '127.0.0.1:4', {}) }, as('cred-victim'));
    const hijack = { worker: workerInfo('cred-victim', '10.6.6.6:50061', {}) };
    await expect(unaryCall(client, client.register, hijack, as('cred-thief'))).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_ID_MISMATCH' });
    await expect(unaryCall(client, client.heartbeat, { workerId: 'cred-victim', slotsFree: 0, runningAttemptIds: [] }, as('cred-thief'))).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_ID_MISMATCH' });
    await expect(unaryCall(client, client.deregister, { workerId: 'cred-victim' }, as('cred-thief'))).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_ID_MISMATCH' });
    const { rows } = await t.pool.query<{ endpoint: string; status: string }>('SELECT endpoint, status FROM workers WHERE id = $1', ['cred-victim']);
    expect(rows).toEqual([{ endpoint: '127.0.0.1:4', status: 'ONLINE' }]);
    await unaryCall(client, client.deregister, { workerId: 'cred-victim' }, as('cred-victim'));
  });

  it('refuses the services\' token at the worker registry, and a token minted under another secret', async () => {
    await expect(unaryCall(client, client.register, { worker: workerInfo('cred-b', '127.0.0.1:5', {}) }, { internalToken: TEST_INTERNAL_TOKEN })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      reason: 'WORKER_CREDENTIAL_REQUIRED',
    });
    const forged = { internalToken: mintWorkerToken('not-the-orchestration-secret-0123456789', 'cred-b') };
    await expect(unaryCall(client, client.register, { worker: workerInfo('cred-b', '127.0.0.1:5', {}) }, forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses a worker token everywhere but the worker registry, and never lets it carry a principal', async () => {
    await expect(unaryCall(runs, runs.getRun, { runId: randomUUID() }, as('cred-a'))).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'CREDENTIAL_NOT_ALLOWED' });
    const principalHeader = await t.sign(owner);
    await expect(unaryCall(client, client.heartbeat, { workerId: 'cred-a', slotsFree: 0, runningAttemptIds: [] }, as('cred-a'), { principalHeader })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'PRINCIPAL_INVALID',
    });
  });
});

describe('a worker that stops heartbeating', () => {
  it('is dropped, its running attempt is stopped on it and retried as a new attempt', async () => {
    // A real worker whose own registration goes nowhere: the test registers it and never heartbeats,
    // like a worker that hangs while its gRPC server still answers.
    const ghost = await t.startWorker({ ORCHESTRATION_GRPC_ADDR: '127.0.0.1:1' });
    const endpoint = ghost.advertiseAddress!;
    const registered = await t.service.registry.register({ worker: workerInfo('ghost', endpoint, { hang: 'yes' }) });
    // What its registry would have told it: without these it takes no call from the dispatcher.
    ghost.dispatchTokens.accept(registered.dispatchTokens);
    // The nap must outlast the lease by far: the lease (1.5 s from the last registration above, which on a
    // loaded machine can come a poll after the attempt started) must run out, and a reconcile pass (every
    // 300 ms) see it, while the attempt still runs. 2.5 s left ~0.7 s for all of that.
    const runId = await run(owner, 'on-a-hanging-worker', [{ id: 'nap', capability: 'sleep', input: { ms: 5_000 }, labels: [{ key: 'hang', value: 'yes' }] }]);
    const first = await eventually(
      async () => {
        const { task: tk } = await task(runId);
        if (tk.status === 'RUNNING') return tk.attemptHistory[0];
        // Until its task starts the ghost is kept alive (registering again renews its lease, as a heartbeat
        // would): on a loaded machine placing the task can take longer than the 1.5 s lease. It stops after.
        ghost.dispatchTokens.accept((await t.service.registry.register({ worker: workerInfo('ghost', endpoint, { hang: 'yes' }) })).dispatchTokens);
        return undefined;
      },
      { timeoutMs: 30_000, what: 'the attempt to run on the ghost' },
    );
    expect(ghost.attempts.runningIds()).toEqual([first.id]);
    // The lease runs out: the attempt is LOST, the call is cancelled and the worker's executor aborted.
    await eventually(async () => (await task(runId)).task.attemptHistory[0]?.status === 'LOST', { what: 'the attempt to be lost' });
    await eventually(() => ghost.attempts.runningIds().length === 0, { what: 'the ghost to stop the abandoned attempt' });
    const waiting = await task(runId);
    expect(waiting.task.status).toBe('QUEUED');
    expect(waiting.task.attemptHistory[0]?.error?.code).toBe('WORKER_LOST');
    // It comes back: the new attempt runs and the run succeeds.
    await t.service.registry.register({ worker: workerInfo('ghost', endpoint, { hang: 'yes' }) });
    const beat = setInterval(() => void t.service.registry.heartbeat({ workerId: 'ghost', slotsFree: 2, runningAttemptIds: ghost.attempts.runningIds() }), 200);
    try {
      const done = await eventually(
        async () => {
          const current = await task(runId);
          return current.status === 'SUCCEEDED' ? current : undefined;
        },
        { timeoutMs: 20_000, what: 'the retried attempt to succeed' },
      );
      expect(done.task.attemptHistory.map((a) => a.status)).toEqual(['LOST', 'SUCCEEDED']);
    } finally {
      clearInterval(beat);
    }
  });
});

describe('an unreachable worker endpoint', () => {
  it('opens its circuit breaker, and the task fails with WORKER_LOST once it lost more attempts than allowed', async () => {
    await t.service.registry.register({ worker: workerInfo('unreachable', '127.0.0.1:1', { reach: 'never' }) });
    const beat = setInterval(() => void t.service.registry.heartbeat({ workerId: 'unreachable', slotsFree: 2, runningAttemptIds: [] }), 200);
    try {
      const runId = await run(owner, 'nobody-answers', [{ id: 'call', capability: 'noop', labels: [{ key: 'reach', value: 'never' }] }]);
      const done = await eventually(
        async () => {
          const current = await task(runId);
          return current.status === 'FAILED' ? current : undefined;
        },
        { timeoutMs: 20_000, what: 'the run to fail' },
      );
      expect(done.task.error?.code).toBe('WORKER_LOST');
      expect(done.task.attemptHistory.map((a) => a.status)).toEqual(['LOST', 'LOST', 'LOST']);
      expect(done.task.attemptHistory.map((a) => a.error?.code)).toEqual(['WORKER_UNAVAILABLE', 'WORKER_UNAVAILABLE', expect.stringMatching(/^WORKER_(UNAVAILABLE|CIRCUIT_OPEN)$/) as unknown]);
      expect(t.log.lines.some((l) => l['msg'] === 'worker endpoint circuit opened' && l['endpoint'] === '127.0.0.1:1')).toBe(true);
      const letters = await t.graphql<{ deadLetters: { totalCount: number } }>(owner, `query($r: ID) { deadLetters(filter: { runId: $r }) { totalCount } }`, { r: runId });
      expect(letters.data?.deadLetters.totalCount).toBe(1);
    } finally {
      clearInterval(beat);
      await t.service.registry.deregister({ workerId: 'unreachable' });
    }
  });
});

describe('a worker that stops an attempt its dispatcher still waits for', () => {
  it('loses the attempt, which runs again, instead of failing the task: CANCELLED or ABORTED from a worker is never the task\'s failure', async () => {
    // A worker whose own registration goes nowhere: the test registers and heartbeats it, and tells it
    // to stop its attempt the way a heartbeat answer's cancel_attempt_ids or a shutdown does.
    const worker = await t.startWorker({ ORCHESTRATION_GRPC_ADDR: '127.0.0.1:1' });
    const info = workerInfo('told-to-stop', worker.advertiseAddress!, { stop: 'told' });
    worker.dispatchTokens.accept((await t.service.registry.register({ worker: info })).dispatchTokens);
    const beat = setInterval(() => void t.service.registry.heartbeat({ workerId: 'told-to-stop', slotsFree: 2, runningAttemptIds: [] }), 200);
    try {
      const runId = await run(owner, 'stopped-on-its-worker', [{ id: 'nap', capability: 'sleep', input: { ms: 600_000 }, labels: [{ key: 'stop', value: 'told' }] }]);
      const runningOnWorker = (attempts: number) =>
        eventually(
          async () => {
            const { task: tk } = await task(runId);
            // A task that ended (it must not) is returned too: the checks below then say how it ended.
            if (tk.status === 'FAILED' || tk.status === 'CANCELLED') return tk;
            const last = tk.attemptHistory[attempts - 1];
            // The task's status and its attempt history are read by separate queries: wait until both say it runs.
            return tk.status === 'RUNNING' && tk.attemptHistory.length === attempts && last?.status === 'RUNNING' && worker.attempts.runningIds().includes(last.id) ? tk : undefined;
          },
          { timeoutMs: 30_000, what: `attempt ${attempts} to run on the worker` },
        );
      const first = (await runningOnWorker(1)).attemptHistory[0]!;
      // What a heartbeat answer's cancel_attempt_ids does on the worker (its result: CANCELLED, retryable false).
      expect(worker.attempts.cancel(first.id, 'CANCELLED', 'the orchestrator gave up on this attempt')).toBe(true);
      const second = await runningOnWorker(2);
      expect([second.status, second.error?.code]).toEqual(['RUNNING', 'WORKER_STOPPED']);
      expect(second.attemptHistory[0]).toEqual({ id: first.id, status: 'LOST', workerId: 'told-to-stop', error: { code: 'WORKER_STOPPED' } });
      // The worker shutting down under it (ABORTED, after its drain grace): lost again, and it runs again.
      expect(worker.attempts.cancel(second.attemptHistory[1]!.id, 'SHUTDOWN', 'the worker is shutting down')).toBe(true);
      const third = await runningOnWorker(3);
      expect(third.attemptHistory.map((a) => [a.status, a.error?.code ?? null])).toEqual([
        ['LOST', 'WORKER_STOPPED'],
        ['LOST', 'WORKER_STOPPED'],
        ['RUNNING', null],
      ]);
      expect((await task(runId)).status).toBe('RUNNING');
      expect((await t.graphql(owner, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId })).errors).toBeUndefined();
    } finally {
      clearInterval(beat);
      await t.service.registry.deregister({ workerId: 'told-to-stop' });
    }
  }, 120_000);

  it('lets a worker that was dropped while frozen keep, when it heartbeats again, the attempts still running on it', async () => {
    const worker = await t.startWorker({ ORCHESTRATION_GRPC_ADDR: '127.0.0.1:1' });
    const info = workerInfo('thawed', worker.advertiseAddress!, { frozen: 'once' });
    worker.dispatchTokens.accept((await t.service.registry.register({ worker: info })).dispatchTokens);
    const heartbeats = () => setInterval(() => void t.service.registry.heartbeat({ workerId: 'thawed', slotsFree: 2, runningAttemptIds: worker.attempts.runningIds() }), 200);
    let beat = heartbeats();
    let reconcilerStopped = false;
    try {
      const runId = await run(owner, 'on-a-frozen-worker', [{ id: 'nap', capability: 'sleep', input: { ms: 600_000 }, labels: [{ key: 'frozen', value: 'once' }] }]);
      const attempt = await eventually(
        async () => {
          const { task: tk } = await task(runId);
          const first = tk.attemptHistory[0];
          return tk.status === 'RUNNING' && first && worker.attempts.runningIds().includes(first.id) ? first : undefined;
        },
        { timeoutMs: 30_000, what: 'the attempt to run on the worker' },
      );
      // It freezes: no heartbeat, and the reconciler drops it (held still here, so the heartbeat below
      // comes before it settles the attempt, as it does when a worker thaws under load).
      clearInterval(beat);
      await t.service.reconciler.stop();
      reconcilerStopped = true;
      await t.pool.query(`UPDATE workers SET status = 'LOST', left_at = now() WHERE id = 'thawed'`);
      // It thaws and heartbeats: it must register again, and stop only what is no longer its own.
      const stale = randomUUID();
      expect(await t.service.registry.heartbeat({ workerId: 'thawed', slotsFree: 1, runningAttemptIds: [attempt.id, stale] })).toEqual({ known: false, cancelAttemptIds: [stale], dispatchTokens: [] });
      worker.dispatchTokens.accept((await t.service.registry.register({ worker: info })).dispatchTokens);
      beat = heartbeats();
      // A reconcile pass after it registered again leaves the attempt alone (the worker is not dead).
      await t.service.reconciler.reconcileOnce();
      t.service.reconciler.start();
      reconcilerStopped = false;
      // Its attempt goes on where it was: the same attempt, still running there.
      const { status, task: tk } = await task(runId);
      expect([status, tk.attemptHistory.map((a) => [a.id, a.status])]).toEqual(['RUNNING', [[attempt.id, 'RUNNING']]]);
      expect(worker.attempts.runningIds()).toEqual([attempt.id]);
      expect((await t.graphql(owner, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId })).errors).toBeUndefined();
    } finally {
      clearInterval(beat);
      if (reconcilerStopped) t.service.reconciler.start();
      await t.service.registry.deregister({ workerId: 'thawed' });
    }
  }, 90_000);
});
