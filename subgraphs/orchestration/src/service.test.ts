import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, insecureCredentials, TEST_INTERNAL_TOKEN, unaryCall, type Principal } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { Queue } from 'bullmq';
import type { WorkerHandle } from '@orchestra/workers';
import { applyAttemptOutcome } from './engine/transitions';
import { lockRun } from './store/runs';
import { findTask } from './store/tasks';
import { apiKeyPrincipal, flushPrefix, startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

let t: TestOrchestration;
let worker: WorkerHandle;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const operator = userPrincipal(orgId, 'operator');
const viewer = userPrincipal(orgId, 'viewer');
const otherOrgAdmin = userPrincipal(randomUUID(), 'admin');

/**
 * A stand-in for a remote website (the http.request executor's target): answers 503 to the first
 * `failuresLeft` requests of a path, then 200 with a JSON body.
 */
let site: Server;
let siteUrl: string;
const failuresLeft = new Map<string, number>();
const hits = new Map<string, number>();

const CREATE = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name latestVersion { number steps { id dependsOn retry { maxAttempts } } } } }`;
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { deduplicated run { id status } } }`;
const RUN = `query($id: ID!) {
  run(id: $id) {
    id status output error { code message stepId } lastSeq
    tasks { stepId status attempts output error { code message } attemptHistory { number status workerId error { code } } }
    events(afterSeq: 0, first: 1000) { seq kind runStatus stepId taskStatus }
  }
}`;

async function createWorkflow(name: string, steps: unknown[], principal: Principal = admin): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { input: { name, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function startRun(input: Record<string, unknown>, principal: Principal = operator): Promise<string> {
  const res = await t.graphql<{ startRun: { run: { id: string } } }>(principal, START, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.startRun.run.id;
}

interface RunView {
  id: string;
  status: string;
  output: Record<string, unknown> | null;
  error: { code: string; message: string; stepId: string | null } | null;
  lastSeq: number;
  tasks: Array<{
    stepId: string;
    status: string;
    attempts: number;
    output: unknown;
    error: { code: string; message: string } | null;
    attemptHistory: Array<{ number: number; status: string; workerId: string | null; error: { code: string } | null }>;
  }>;
  events: Array<{ seq: number; kind: string; runStatus: string | null; stepId: string | null; taskStatus: string | null }>;
}

async function readRun(id: string, principal: Principal = viewer): Promise<RunView> {
  const res = await t.graphql<{ run: RunView }>(principal, RUN, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
}

const finished = (id: string, timeoutMs = 20_000) =>
  eventually(
    async () => {
      const run = await readRun(id);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined;
    },
    { timeoutMs, what: `run ${id} to finish` },
  );

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const left = failuresLeft.get(path) ?? 0;
    if (left > 0) {
      failuresLeft.set(path, left - 1);
      res.writeHead(503).end('try again');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, ok: true }));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestOrchestration();
  worker = await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '8' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('workflow definitions', () => {
  it('rejects a cycle, an unknown step and an unknown capability, naming the step', async () => {
    const cases: Array<[unknown[], string, RegExp]> = [
      [
        [
          { id: 'a', capability: 'noop', dependsOn: ['c'] },
          { id: 'b', capability: 'noop', dependsOn: ['a'] },
          { id: 'c', capability: 'noop', dependsOn: ['b'] },
        ],
        'input.steps[0].dependsOn',
        /step "a" is part of a cycle/,
      ],
      [[{ id: 'a', capability: 'noop', dependsOn: ['ghost'] }], 'input.steps[0].dependsOn', /step "a" depends on unknown step "ghost"/],
      [[{ id: 'think', capability: 'llm.think' }], 'input.steps[0].capability', /step "think": unknown capability "llm.think"/],
    ];
    for (const [steps, field, message] of cases) {
      const res = await t.graphql(admin, CREATE, { input: { name: `bad-${randomUUID()}`, steps } });
      expect(res.data).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    const count = await t.pool.query(`SELECT count(*)::int AS n FROM workflows`);
    expect(count.rows[0].n).toBe(0);
  });

  it('lets only admins create workflows and refuses a duplicate name', async () => {
    const steps = [{ id: 'a', capability: 'noop' }];
    const refused = await t.graphql(operator, CREATE, { input: { name: 'ops-only', steps } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
    await createWorkflow('unique-name', steps);
    const dup = await t.graphql(admin, CREATE, { input: { name: 'unique-name', steps } });
    expect(dup.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'WORKFLOW_EXISTS', field: 'input.name' });
  });
});

describe('runs', () => {
  it('runs a DAG with fan-out and fan-in, passing data between steps', async () => {
    const id = await createWorkflow('fan-out-fan-in', [
      { id: 'fetch', capability: 'http.request', input: { url: '{{ input.base }}/data', method: 'GET' } },
      { id: 'left', capability: 'transform', dependsOn: ['fetch'], input: { value: { side: 'left', status: '{{ steps.fetch.output.status }}' } } },
      { id: 'right', capability: 'transform', dependsOn: ['fetch'], input: { value: { side: 'right', path: '{{ steps.fetch.output.body.path }}' } } },
      { id: 'join', capability: 'transform', dependsOn: ['left', 'right'], input: { value: { l: '{{ steps.left.output }}', r: '{{ steps.right.output.path }}' } } },
    ]);
    const runId = await startRun({ workflowId: id, input: { base: siteUrl } });
    const run = await finished(runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ join: { l: { side: 'left', status: 200 }, r: '/data' } });
    expect(run.tasks.map((x) => [x.stepId, x.status, x.attempts])).toEqual([
      ['fetch', 'SUCCEEDED', 1],
      ['left', 'SUCCEEDED', 1],
      ['right', 'SUCCEEDED', 1],
      ['join', 'SUCCEEDED', 1],
    ]);
    // Events are numbered 1..n without gaps, and join ran only after both branches.
    expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
    const at = (step: string, status: string) => run.events.findIndex((e) => e.stepId === step && e.taskStatus === status);
    expect(at('join', 'QUEUED')).toBeGreaterThan(at('left', 'SUCCEEDED'));
    expect(at('join', 'QUEUED')).toBeGreaterThan(at('right', 'SUCCEEDED'));
    expect(run.events.at(-1)).toMatchObject({ kind: 'RUN_STATUS', runStatus: 'SUCCEEDED' });
  });

  it("carries the starting request's trace id to the dispatcher's and the worker's log lines of each task", async () => {
    const id = await createWorkflow('traced', [
      { id: 'one', capability: 'noop' },
      { id: 'two', capability: 'noop', dependsOn: ['one'] },
    ]);
    const traceId = randomUUID().replace(/-/g, '');
    const traced: Principal = { ...operator, traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
    const res = await t.graphql<{ startRun: { run: { id: string } } }>(traced, START, { input: { workflowId: id } });
    const runId = res.data!.startRun.run.id;
    expect((await finished(runId)).status).toBe('SUCCEEDED');
    const { rows } = await t.pool.query('SELECT traceparent FROM runs WHERE id = $1', [runId]);
    expect(rows[0].traceparent).toBe(`00-${traceId}-00f067aa0ba902b7-01`);
    const finishedOnWorker = t.log.lines.filter((l) => l['msg'] === 'attempt finished' && l['runId'] === runId);
    expect(finishedOnWorker.map((l) => [l['stepId'], l['traceId']]).sort()).toEqual([
      ['one', traceId],
      ['two', traceId],
    ]);
    const succeededInDispatcher = t.log.lines.filter((l) => l['msg'] === 'task attempt succeeded' && l['runId'] === runId);
    expect(succeededInDispatcher.map((l) => [l['stepId'], l['traceId']]).sort()).toEqual([
      ['one', traceId],
      ['two', traceId],
    ]);
    // A malformed traceparent (it only comes from a gateway, but still) is not kept: the request starts a trace of its own.
    const odd = await t.graphql<{ startRun: { run: { id: string } } }>({ ...operator, traceparent: 'not-a-trace' }, START, { input: { workflowId: id } });
    const oddRun = odd.data!.startRun.run.id;
    expect((await finished(oddRun)).status).toBe('SUCCEEDED');
    expect((await t.pool.query('SELECT traceparent FROM runs WHERE id = $1', [oddRun])).rows[0].traceparent).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('runs many fan-out runs at once: each task once, on a slot of its own, with gap-free ordered events', async () => {
    const branches = Array.from({ length: 12 }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['a'], input: { branch: i, from: '{{ steps.a.output.run }}' } }));
    const id = await createWorkflow('wide-fan', [
      { id: 'a', capability: 'noop', input: { run: '{{ input.n }}' } },
      ...branches,
      { id: 'join', capability: 'noop', dependsOn: branches.map((b) => b.id), input: { all: branches.map((b) => `{{ steps.${b.id}.output.branch }}`) } },
    ]);
    const runIds = await Promise.all(Array.from({ length: 6 }, (_, n) => startRun({ workflowId: id, input: { n } })));
    const runs = await Promise.all(runIds.map((runId) => finished(runId, 60_000)));
    runs.forEach((run, n) => {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toEqual({ join: { all: branches.map((_, i) => i) } });
      // One attempt per task: no worker ever refused one for want of a slot, none was lost.
      expect(run.tasks.map((x) => [x.status, x.attempts, x.attemptHistory.map((h) => h.status)])).toEqual(run.tasks.map(() => ['SUCCEEDED', 1, ['SUCCEEDED']]));
      expect(run.tasks.find((x) => x.stepId === 'b3')?.output).toEqual({ branch: 3, from: n });
      expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
      for (const task of run.tasks) {
        const statuses = run.events.filter((e) => e.kind === 'TASK_STATUS' && e.stepId === task.stepId).map((e) => e.taskStatus);
        expect(statuses).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
      }
      const at = (step: string, status: string) => run.events.findIndex((e) => e.stepId === step && e.taskStatus === status);
      for (const b of branches) expect(at('join', 'QUEUED')).toBeGreaterThan(at(b.id, 'SUCCEEDED'));
      expect(run.events.filter((e) => e.kind === 'RUN_STATUS').map((e) => e.runStatus)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
      expect(run.events.at(-1)).toMatchObject({ kind: 'RUN_STATUS', runStatus: 'SUCCEEDED' });
    });
    // Every slot was given back.
    const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM worker_slots WHERE attempt_id IS NOT NULL');
    expect(rows[0]!.n).toBe(0);
    // Generous: 20 runs of 14 tasks on a 2-core machine that CI shares with two other suites.
  }, 120_000);

  it('returns the same run for the same idempotency key, and refuses the key for other input', async () => {
    const id = await createWorkflow('idempotent', [{ id: 'a', capability: 'noop' }]);
    const key = `key-${randomUUID()}`;
    const first = await t.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(operator, START, { input: { workflowId: id, idempotencyKey: key, input: { n: 1 } } });
    const second = await t.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(operator, START, { input: { workflowName: 'idempotent', idempotencyKey: key, input: { n: 1 } } });
    expect(first.data?.startRun.deduplicated).toBe(false);
    expect(second.data?.startRun.deduplicated).toBe(true);
    expect(second.data?.startRun.run.id).toBe(first.data?.startRun.run.id);
    const other = await t.graphql(operator, START, { input: { workflowId: id, idempotencyKey: key, input: { n: 2 } } });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_REUSED' });
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM runs WHERE idempotency_key = $1', [key]);
    expect(rows[0].n).toBe(1);
  });

  it('returns the same run for the same key when the input is written inline in the query, as when it is a variable', async () => {
    await createWorkflow('idempotent-inline', [{ id: 'a', capability: 'noop' }]);
    const key = `inline-${randomUUID()}`;
    const inline = `mutation { startRun(input: { workflowName: "idempotent-inline", idempotencyKey: "${key}", input: { name: "Ada", tags: ["x", { deep: true }] } }) { deduplicated run { id } } }`;
    const first = await t.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(operator, inline);
    const again = await t.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(operator, inline);
    const asVariable = await t.graphql<{ startRun: { deduplicated: boolean; run: { id: string } } }>(operator, START, {
      input: { workflowName: 'idempotent-inline', idempotencyKey: key, input: { tags: ['x', { deep: true }], name: 'Ada' } },
    });
    expect(first.errors).toBeUndefined();
    expect([again.errors, asVariable.errors]).toEqual([undefined, undefined]);
    expect([again.data?.startRun, asVariable.data?.startRun].map((r) => [r?.deduplicated, r?.run.id])).toEqual([
      [true, first.data?.startRun.run.id],
      [true, first.data?.startRun.run.id],
    ]);
  });

  it('retries a failing step with backoff and succeeds on the third attempt', async () => {
    failuresLeft.set('/flaky', 2);
    const id = await createWorkflow('flaky', [
      { id: 'call', capability: 'http.request', input: { url: `${siteUrl}/flaky` }, retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 } },
    ]);
    const run = await finished(await startRun({ workflowId: id }));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks[0]?.attempts).toBe(3);
    expect(run.tasks[0]?.attemptHistory.map((a) => a.status)).toEqual(['FAILED', 'FAILED', 'SUCCEEDED']);
    expect(hits.get('/flaky')).toBe(3);
  });

  it('fails the run and dead-letters a step that runs out of attempts; replay completes it', async () => {
    failuresLeft.set('/down', 2);
    const id = await createWorkflow('exhausted', [
      { id: 'prepare', capability: 'noop' },
      { id: 'call', capability: 'http.request', dependsOn: ['prepare'], input: { url: `${siteUrl}/down` }, retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } },
      { id: 'after', capability: 'noop', dependsOn: ['call'] },
    ]);
    const runId = await startRun({ workflowId: id });
    const failed = await finished(runId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ stepId: 'call' });
    expect(failed.tasks.map((x) => x.status)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED']);
    // The step that never ran says why.
    expect(failed.tasks[2]?.error).toEqual({ code: 'UPSTREAM_FAILED', message: 'not run: step "call" failed (retryRun runs it again)' });
    const letters = await t.graphql<{ deadLetters: { totalCount: number; edges: Array<{ node: { id: string; stepId: string; attempts: number; run: { id: string } } }> } }>(
      viewer,
      `query($runId: ID) { deadLetters(filter: { runId: $runId }) { totalCount edges { node { id stepId attempts run { id } } } } }`,
      { runId },
    );
    expect(letters.data?.deadLetters.totalCount).toBe(1);
    const letter = letters.data!.deadLetters.edges[0]!.node;
    expect(letter).toMatchObject({ stepId: 'call', attempts: 2, run: { id: runId } });
    // The failure is in the notification outbox, written with it: the run failed and its task dead-lettered.
    const outbox = async () =>
      (await t.pool.query<{ type: string; data: Record<string, unknown> }>("SELECT event->>'type' AS type, event->'data' AS data FROM notification_outbox WHERE event->'data'->>'runId' = $1 ORDER BY created_at, id", [runId])).rows;
    expect(await outbox()).toEqual([
      { type: 'task.dead_lettered', data: expect.objectContaining({ runId, stepId: 'call', error: expect.any(String) }) },
      { type: 'run.failed', data: expect.objectContaining({ runId, workflowId: id, error: expect.stringContaining('step "call" failed') }) },
    ]);

    const replay = await t.graphql<{ replayDeadLetter: { status: string } }>(operator, `mutation($id: ID!) { replayDeadLetter(id: $id) { status } }`, { id: letter.id });
    expect(replay.errors).toBeUndefined();
    const again = await finished(runId);
    expect(again.status).toBe('SUCCEEDED');
    expect((await outbox()).map((e) => e.type)).toEqual(['task.dead_lettered', 'run.failed', 'run.succeeded']);
    // The step that had succeeded was kept; the failed one ran again with a fresh budget.
    const prepare = again.tasks.find((x) => x.stepId === 'prepare');
    expect(prepare?.attemptHistory).toHaveLength(1);
    expect(again.tasks.find((x) => x.stepId === 'call')?.attemptHistory.map((a) => a.status)).toEqual(['FAILED', 'FAILED', 'SUCCEEDED']);
    const twice = await t.graphql(operator, `mutation($id: ID!) { replayDeadLetter(id: $id) { status } }`, { id: letter.id });
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_REPLAYED' });
  });

  it('fails a step past its timeout with a timeout error', async () => {
    const id = await createWorkflow('too-slow', [{ id: 'nap', capability: 'sleep', input: { ms: 30_000 }, timeoutMs: 300, retry: { maxAttempts: 1 } }]);
    const run = await finished(await startRun({ workflowId: id }));
    expect(run.status).toBe('FAILED');
    expect(run.tasks[0]?.error?.code).toBe('TIMEOUT');
    expect(run.tasks[0]?.error?.message).toMatch(/time/i);
  });

  it('cancels a running sleep step on its worker', async () => {
    const id = await createWorkflow('long-nap', [{ id: 'nap', capability: 'sleep', input: { ms: 60_000 } }]);
    const runId = await startRun({ workflowId: id });
    await eventually(async () => (await readRun(runId)).tasks[0]?.status === 'RUNNING', { what: 'the sleep to start' });
    await eventually(() => worker.attempts.runningIds().length > 0, { what: 'the worker to run it' });
    const res = await t.graphql<{ cancelRun: { status: string } }>(operator, `mutation($id: ID!) { cancelRun(id: $id, reason: "enough") { status } }`, { id: runId });
    expect(res.data?.cancelRun.status).toBe('CANCELLED');
    await eventually(() => worker.attempts.runningIds().length === 0, { what: 'the worker to abort the sleep', timeoutMs: 5_000 });
    const run = await readRun(runId);
    expect(run.tasks[0]?.status).toBe('CANCELLED');
    expect(run.tasks[0]?.attemptHistory[0]?.status).toBe('CANCELLED');
    const again = await t.graphql(operator, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'RUN_FINISHED' });
  });

  it('applies a result once: a second delivery of the same outcome changes nothing', async () => {
    const id = await createWorkflow('exactly-once', [{ id: 'a', capability: 'noop' }]);
    const runId = await startRun({ workflowId: id });
    const run = await finished(runId);
    expect(run.status).toBe('SUCCEEDED');
    const { rows } = await t.pool.query<{ id: string; task_id: string }>('SELECT a.id, a.task_id FROM task_attempts a WHERE a.run_id = $1', [runId]);
    const attempt = rows[0]!;
    const result = await t.service.engine.change(null, async (ctx) => {
      const locked = (await lockRun(ctx.tx, runId))!;
      const task = (await findTask(ctx.tx, attempt.task_id))!;
      return applyAttemptOutcome(ctx, locked, task, attempt.id, { kind: 'succeeded', output: { again: true } });
    });
    expect(result).toMatchObject({ applied: false, reason: 'attempt is no longer RUNNING' });
    const after = await readRun(runId);
    expect(after.lastSeq).toBe(run.lastSeq);
    expect(after.tasks[0]?.output).toEqual(run.tasks[0]?.output);
  });

  it('restores the queue after Redis lost it and the run completes', async () => {
    await t.grantPool(orgId, 'later');
    const id = await createWorkflow('survives-flush', [
      { id: 'first', capability: 'noop' },
      { id: 'second', capability: 'transform', dependsOn: ['first'], pool: 'later', input: { value: { from: 'second' } } },
      { id: 'third', capability: 'noop', dependsOn: ['second'] },
    ]);
    // "second" needs the pool "later", which has no worker yet: its attempt waits in Redis ...
    const runId = await startRun({ workflowId: id });
    await eventually(async () => (await readRun(runId)).tasks[1]?.status === 'QUEUED', { what: 'the second step to be queued' });
    await eventually(async () => (await t.redis.keys(`${t.prefix}:tasks-later:*`)).length > 0, { what: 'its job in the queue' });
    // ... and Redis loses everything of this service (what FLUSHALL does, limited to this suite's keys).
    expect(await flushPrefix(t.redis, t.prefix)).toBeGreaterThan(0);
    const restoredBefore = t.log.lines.filter((l) => l['msg'] === 're-enqueued attempts the queue had lost (Redis flushed or restarted?)').length;
    const later = await t.startWorker({ WORKER_POOL: 'later' });
    await eventually(() => later.registered, { what: 'the later worker to register' });
    const run = await finished(runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ third: {} });
    expect(run.tasks.map((x) => x.attempts)).toEqual([1, 1, 1]);
    expect(t.log.lines.filter((l) => l['msg'] === 're-enqueued attempts the queue had lost (Redis flushed or restarted?)').length).toBeGreaterThan(restoredBefore);
    expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
  });
  it('puts back a single job the queue lost while the rest of Redis is intact', async () => {
    await t.grantPool(orgId, 'evicted');
    const id = await createWorkflow('survives-eviction', [{ id: 'only', capability: 'noop', pool: 'evicted' }]);
    const runId = await startRun({ workflowId: id });
    const { rows } = await t.pool.query<{ id: string }>('SELECT id FROM task_attempts WHERE run_id = $1', [runId]);
    const attemptId = rows[0]!.id;
    const connection = t.redis.duplicate({ maxRetriesPerRequest: null });
    const queue = new Queue('tasks-evicted', { connection, prefix: t.prefix });
    try {
      await eventually(async () => (await queue.getJobState(attemptId)) !== 'unknown', { what: 'the job to be queued' });
      // Taken out of the queue the way an operator (or an eviction) would, while the dispatcher waits for a worker.
      await eventually(async () => (await queue.remove(attemptId)) === 1, { what: 'the job to be removed' });
      await eventually(async () => (await queue.getJobState(attemptId)) !== 'unknown', { what: 'the reconciler to put it back' });
      const worker = await t.startWorker({ WORKER_POOL: 'evicted' });
      await eventually(() => worker.registered, { what: 'the evicted-pool worker to register' });
      expect((await finished(runId)).status).toBe('SUCCEEDED');
      expect(t.log.lines.some((l) => l['msg'] === 're-enqueued attempts the queue had lost (Redis flushed or restarted?)' && l['how'] === 'checked')).toBe(true);
    } finally {
      await queue.close();
      await connection.quit();
    }
  });
});

describe('access', () => {
  it('lets viewers read but not start runs; API keys need runs:write', async () => {
    const id = await createWorkflow('access', [{ id: 'a', capability: 'noop' }]);
    const byViewer = await t.graphql(viewer, START, { input: { workflowId: id } });
    expect(byViewer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const readOnlyKey = await t.graphql(apiKeyPrincipal(orgId, ['runs:read']), START, { input: { workflowId: id } });
    expect(readOnlyKey.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
    const runId = await startRun({ workflowId: id }, apiKeyPrincipal(orgId, ['runs:write', 'runs:read']));
    const run = await finished(runId);
    expect(run.status).toBe('SUCCEEDED');
    // One audit event per mutation, written with the change; refusals are recorded with their code.
    const { rows } = await t.pool.query<{ outcome: string; actor: string }>(
      `SELECT event->>'outcome' AS outcome, event->'actor'->>'kind' AS actor FROM audit_outbox WHERE event->>'action' = 'run.start' AND (event->>'targetId' = $1 OR event->>'outcome' <> 'success') ORDER BY created_at`,
      [runId],
    );
    expect(rows).toEqual(expect.arrayContaining([{ outcome: 'success', actor: 'apiKey' }, { outcome: 'FORBIDDEN', actor: 'user' }, { outcome: 'FORBIDDEN', actor: 'apiKey' }]));
    expect(rows.filter((r) => r.outcome === 'success')).toHaveLength(1);
  });

  it('keeps each organization’s runs to itself', async () => {
    const id = await createWorkflow('private', [{ id: 'a', capability: 'noop' }]);
    const runId = await startRun({ workflowId: id });
    const other = await t.graphql<{ run: unknown; runs: { totalCount: number } }>(otherOrgAdmin, `query($id: ID!) { run(id: $id) { id } runs { totalCount } }`, { id: runId });
    expect(other.data).toEqual({ run: null, runs: { totalCount: 0 } });
    const cancel = await t.graphql(userPrincipal(otherOrgAdmin.orgId!, 'operator'), `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId });
    expect(cancel.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('lists, federation and gRPC', () => {
  it('lists runs newest first with filters and cursor pagination', async () => {
    const id = await createWorkflow('listed', [{ id: 'a', capability: 'noop' }]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push(await startRun({ workflowId: id }));
    for (const runId of ids) await finished(runId);
    const page = `query($after: String, $f: RunFilter) { runs(first: 2, after: $after, filter: $f) { totalCount edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { runs: { totalCount: number; edges: Array<{ node: { id: string; status: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const first = await t.graphql<Page>(viewer, page, { f: { workflowId: id, status: ['SUCCEEDED'] } });
    expect(first.data?.runs.totalCount).toBe(3);
    expect(first.data?.runs.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(first.data?.runs.pageInfo.hasNextPage).toBe(true);
    const second = await t.graphql<Page>(viewer, page, { f: { workflowId: id }, after: first.data?.runs.pageInfo.endCursor });
    expect(second.data?.runs.edges.map((e) => e.node.id)).toEqual([ids[0]]);
    expect(second.data?.runs.pageInfo.hasNextPage).toBe(false);
    const none = await t.graphql<Page>(viewer, page, { f: { workflowId: id, status: ['FAILED'] } });
    expect(none.data?.runs.totalCount).toBe(0);
    const later = await t.graphql<Page>(viewer, page, { f: { workflowId: id, createdAfter: new Date(Date.now() + 60_000).toISOString() } });
    expect(later.data?.runs.totalCount).toBe(0);
    const bad = await t.graphql(viewer, page, { after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('extends User with runs and App with runs and stats', async () => {
    const appId = randomUUID();
    const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { input: { name: 'app-flow', appId, steps: [{ id: 'a', capability: 'noop' }] } });
    const workflowId = created.data!.createWorkflow.id;
    const ok = await startRun({ workflowId });
    await finished(ok);
    const entities = await t.graphql<{ _entities: Array<Record<string, any>> }>(
      viewer,
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on App { workflows { id } runs { totalCount } stats(window: LAST_HOUR) { window runs succeeded successRate p50DurationMs p95DurationMs } }
        ... on User { runs(filter: { workflowId: "${workflowId}" }) { totalCount edges { node { id startedBy { id } } } } }
      } }`,
      { reps: [{ __typename: 'App', id: appId }, { __typename: 'User', id: operator.userId }] },
    );
    expect(entities.errors).toBeUndefined();
    const [app, user] = entities.data!._entities;
    expect(app).toMatchObject({ workflows: [{ id: workflowId }], runs: { totalCount: 1 }, stats: { window: 'LAST_HOUR', runs: 1, succeeded: 1, successRate: 1 } });
    expect(app?.['stats']['p50DurationMs']).toEqual(expect.any(Number));
    expect(user).toEqual({ runs: { totalCount: 1, edges: [{ node: { id: ok, startedBy: { id: operator.userId } } }] } });
  });

  it('starts, reads and cancels runs over gRPC for the principal a service forwards', async () => {
    const id = await createWorkflow('over-grpc', [{ id: 'nap', capability: 'sleep', input: { ms: 30_000 } }]);
    const client = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, insecureCredentials());
    try {
      const options = { internalToken: TEST_INTERNAL_TOKEN };
      const principalHeader = await t.sign(operator);
      const started = await unaryCall(client, client.startRun, { workflow: 'over-grpc', version: 0, input: { from: 'grpc' }, idempotencyKey: 'grpc-1' }, options, { principalHeader });
      expect(started.run).toMatchObject({ workflowId: id, status: orchestrationV1.RunStatus.RUN_STATUS_QUEUED, input: { from: 'grpc' }, startedByUserId: operator.userId });
      const again = await unaryCall(client, client.startRun, { workflow: id, version: 0, input: { from: 'grpc' }, idempotencyKey: 'grpc-1' }, options, { principalHeader });
      expect(again).toMatchObject({ deduplicated: true, run: { id: started.run!.id } });
      const cancelled = await unaryCall(client, client.cancelRun, { runId: started.run!.id, reason: 'from a service' }, options, { principalHeader });
      expect(cancelled.run?.status).toBe(orchestrationV1.RunStatus.RUN_STATUS_CANCELLED);
      const read = await unaryCall(client, client.getRun, { runId: started.run!.id }, options, { principalHeader: await t.sign(otherOrgAdmin) }).catch((e: unknown) => e);
      expect(read).toMatchObject({ code: 'NOT_FOUND' });
      const anonymous = await unaryCall(client, client.getRun, { runId: started.run!.id }, options).catch((e: unknown) => e);
      expect(anonymous).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'PRINCIPAL_REQUIRED' });
    } finally {
      client.close();
    }
  });
});
