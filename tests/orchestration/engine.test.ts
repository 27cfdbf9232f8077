import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { Platform } from '../src/platform';
import { as, createWorkflow, errorOf, logLines, readRun, signUp, startOrchestraPlatform, startRun, startTestSite, waitForRun, type Session, type TestSite } from './helpers';

/**
 * Issue 3, end to end: identity, orchestration, the gateway and two worker processes, talking over
 * real HTTP and gRPC, against PostgreSQL and Redis. The http.request steps call a local HTTP server
 * that stands in for a remote website.
 */

let platform: Platform;
let site: TestSite;
let owner: Session;

beforeAll(async () => {
  site = await startTestSite();
  platform = await startOrchestraPlatform(2);
  owner = await signUp(platform, 'Engine Org');
  await eventually(
    async () => {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, as(owner));
      return res.data?.workers.filter((w) => w.status === 'ONLINE').length === 2;
    },
    { timeoutMs: 30_000, what: 'both workers to register' },
  );
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await site?.close();
});

describe('a workflow run', () => {
  it('runs a five-step DAG with fan-out, fan-in and data passed between steps', async () => {
    const id = await createWorkflow(platform, owner, 'five-steps', [
      { id: 'fetch', capability: 'http.request', input: { url: '{{ input.site }}/catalog', method: 'GET' } },
      { id: 'first', capability: 'transform', dependsOn: ['fetch'], input: { value: { name: '{{ steps.fetch.output.body.items[0].name }}' } } },
      { id: 'second', capability: 'transform', dependsOn: ['fetch'], input: { value: { name: '{{ steps.fetch.output.body.items[1].name }}', score: '{{ steps.fetch.output.body.items[1].score }}' } } },
      { id: 'pause', capability: 'sleep', dependsOn: ['fetch'], input: { ms: 200 } },
      {
        id: 'report',
        capability: 'transform',
        dependsOn: ['first', 'second', 'pause'],
        input: { value: { label: '{{ input.label }}', first: '{{ steps.first.output.name }}', second: '{{ steps.second.output }}', summary: '{{ steps.first.output.name }} then {{ steps.second.output.name }}' } },
      },
    ]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id, input: { site: site.url, label: 'weekly' } });
    const run = await waitForRun(platform, owner, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ report: { label: 'weekly', first: 'alpha', second: { name: 'beta', score: 5 }, summary: 'alpha then beta' } });
    expect(run.tasks.map((t) => [t.stepId, t.status, t.attempts])).toEqual([
      ['fetch', 'SUCCEEDED', 1],
      ['first', 'SUCCEEDED', 1],
      ['second', 'SUCCEEDED', 1],
      ['pause', 'SUCCEEDED', 1],
      ['report', 'SUCCEEDED', 1],
    ]);
    // Fan-in: report was queued only after all three branches succeeded.
    const index = (step: string, status: string) => run.events.findIndex((e) => e.stepId === step && e.taskStatus === status);
    for (const branch of ['first', 'second', 'pause']) expect(index('report', 'QUEUED')).toBeGreaterThan(index(branch, 'SUCCEEDED'));
    // Fan-out: the branches were all queued by fetch's completion, before any of them finished.
    for (const branch of ['first', 'second', 'pause']) expect(index(branch, 'QUEUED')).toBeLessThan(Math.min(index('first', 'SUCCEEDED'), index('second', 'SUCCEEDED'), index('pause', 'SUCCEEDED')));
    expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
    expect(run.startedBy?.email).toBe(owner.user.email);
  });

  it('retries a step that fails twice, and it succeeds on the third attempt', async () => {
    site.failuresLeft.set('/flaky', 2);
    const id = await createWorkflow(platform, owner, 'flaky', [
      { id: 'call', capability: 'http.request', input: { url: `${site.url}/flaky` }, retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200 } },
    ]);
    const run = await waitForRun(platform, owner, (await startRun(platform, owner, { workflowId: id })).id);
    expect(run.status).toBe('SUCCEEDED');
    const task = run.tasks[0]!;
    expect(task.attempts).toBe(3);
    expect(task.attemptHistory.map((a) => [a.number, a.status, a.error?.code ?? null])).toEqual([
      [1, 'FAILED', 'HTTP_STATUS'],
      [2, 'FAILED', 'HTTP_STATUS'],
      [3, 'SUCCEEDED', null],
    ]);
    expect(site.hits.get('/flaky')).toBe(3);
  });

  it('fails the run when a step runs out of attempts, dead-letters it, and a replay completes it', async () => {
    site.failuresLeft.set('/outage', 2);
    const id = await createWorkflow(platform, owner, 'outage', [
      { id: 'prepare', capability: 'transform', input: { value: { ready: true } } },
      { id: 'call', capability: 'http.request', dependsOn: ['prepare'], input: { url: `${site.url}/outage` }, retry: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 50 } },
      { id: 'publish', capability: 'transform', dependsOn: ['call'], input: { value: { status: '{{ steps.call.output.status }}' } } },
    ]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id });
    const failed = await waitForRun(platform, owner, runId);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ code: 'HTTP_STATUS', stepId: 'call' });
    expect(failed.tasks.map((t) => t.status)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED']);

    const letters = await platform.graphql<{ deadLetters: { edges: Array<{ node: { id: string; stepId: string; attempts: number; error: { code: string }; task: { id: string } } }> } }>(
      `query($run: ID) { deadLetters(filter: { runId: $run }) { edges { node { id stepId attempts error { code } task { id } } } } }`,
      { run: runId },
      as(owner),
    );
    expect(letters.errors).toBeUndefined();
    expect(letters.data?.deadLetters.edges.map((e) => e.node)).toEqual([
      { id: expect.any(String) as string, stepId: 'call', attempts: 2, error: { code: 'HTTP_STATUS' }, task: { id: failed.tasks[1]!.id } },
    ]);

    const replay = await platform.graphql(`mutation($id: ID!) { replayDeadLetter(id: $id) { id status } }`, { id: letters.data!.deadLetters.edges[0]!.node.id }, as(owner));
    expect(replay.errors).toBeUndefined();
    const replayed = await waitForRun(platform, owner, runId, ['SUCCEEDED', 'FAILED']);
    expect(replayed.status).toBe('SUCCEEDED');
    expect(replayed.output).toEqual({ publish: { status: 200 } });
    // The step that had succeeded kept its one attempt; the failed one got a fresh budget.
    expect(replayed.tasks.map((t) => t.attemptHistory.length)).toEqual([1, 3, 1]);
    const open = await platform.graphql<{ deadLetters: { totalCount: number } }>(`query($run: ID) { deadLetters(filter: { runId: $run }) { totalCount } }`, { run: runId }, as(owner));
    expect(open.data?.deadLetters.totalCount).toBe(0);
  });

  it('fails a step that runs past its timeout with a timeout error', async () => {
    const id = await createWorkflow(platform, owner, 'too-slow', [{ id: 'nap', capability: 'sleep', input: { ms: 60_000 }, timeoutMs: 500, retry: { maxAttempts: 1 } }]);
    const run = await waitForRun(platform, owner, (await startRun(platform, owner, { workflowId: id })).id);
    expect(run.status).toBe('FAILED');
    expect(run.tasks[0]?.error?.code).toBe('TIMEOUT');
    expect(run.tasks[0]?.error?.message).toMatch(/timed out|timeout/i);
    expect(run.error?.stepId).toBe('nap');
  });

  it('cancels a run while its sleep step runs: the worker’s executor is aborted and the run ends CANCELLED', async () => {
    const id = await createWorkflow(platform, owner, 'long-nap', [{ id: 'nap', capability: 'sleep', input: { ms: 120_000 } }]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id });
    const running = await eventually(
      async () => {
        const run = await readRun(platform, owner, runId);
        return run.tasks[0]?.status === 'RUNNING' ? run : undefined;
      },
      { timeoutMs: 30_000, what: 'the sleep to run' },
    );
    const attemptId = running.tasks[0]!.attemptHistory[0]!.id;
    const cancelled = await platform.graphql<{ cancelRun: { status: string } }>(`mutation($id: ID!) { cancelRun(id: $id, reason: "not needed") { status } }`, { id: runId }, as(owner));
    expect(cancelled.data?.cancelRun.status).toBe('CANCELLED');
    // The executor on the worker saw its AbortSignal (its attempt aborted and finished), long before the 2-minute sleep.
    const finishedOnWorker = await eventually(
      () => platform.workers.flatMap((w) => logLines(w.logFile)).find((l) => l['msg'] === 'attempt finished' && l['attemptId'] === attemptId),
      { timeoutMs: 10_000, what: 'the worker to end the aborted sleep' },
    );
    expect(platform.workers.flatMap((w) => logLines(w.logFile)).some((l) => l['msg'] === 'attempt aborting' && l['attemptId'] === attemptId)).toBe(true);
    expect(finishedOnWorker).toBeDefined();
    const run = await readRun(platform, owner, runId);
    expect(run.status).toBe('CANCELLED');
    expect(run.tasks[0]?.status).toBe('CANCELLED');
    expect(run.tasks[0]?.attemptHistory.map((a) => a.status)).toEqual(['CANCELLED']);
  });
});

describe('starting runs and defining workflows', () => {
  it('returns one run for the same idempotency key sent twice', async () => {
    const id = await createWorkflow(platform, owner, 'once', [{ id: 'only', capability: 'noop' }]);
    const key = `order-${randomUUID()}`;
    const first = await startRun(platform, owner, { workflowId: id, idempotencyKey: key, input: { order: 7 } });
    const second = await startRun(platform, owner, { workflowName: 'once', idempotencyKey: key, input: { order: 7 } });
    expect(first.deduplicated).toBe(false);
    expect(second).toEqual({ id: first.id, deduplicated: true });
    const { rows } = await platform.pool.query(`SELECT count(*)::int AS n FROM "${platform.schemas.orchestration}".runs WHERE idempotency_key = $1`, [key]);
    expect(rows[0].n).toBe(1);
    expect((await waitForRun(platform, owner, first.id)).status).toBe('SUCCEEDED');
  });

  it('rejects a cycle, an unknown step and an unknown capability with errors naming the step', async () => {
    const attempts: Array<[unknown[], string, RegExp]> = [
      [
        [
          { id: 'extract', capability: 'noop', dependsOn: ['load'] },
          { id: 'transform', capability: 'noop', dependsOn: ['extract'] },
          { id: 'load', capability: 'noop', dependsOn: ['transform'] },
        ],
        'input.steps[0].dependsOn',
        /step "extract" is part of a cycle: extract → transform → load → extract|step "extract" is part of a cycle/,
      ],
      [[{ id: 'notify', capability: 'noop', dependsOn: ['sned'] }], 'input.steps[0].dependsOn', /step "notify" depends on unknown step "sned"/],
      [[{ id: 'summarize', capability: 'llm.summarize' }], 'input.steps[0].capability', /step "summarize": unknown capability "llm.summarize"/],
    ];
    for (const [steps, field, message] of attempts) {
      const res = await platform.graphql(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name: `invalid-${randomUUID()}`, steps } }, as(owner));
      expect(errorOf(res)).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(errorOf(res).message).toMatch(message);
    }
    const { rows } = await platform.pool.query(`SELECT count(*)::int AS n FROM "${platform.schemas.orchestration}".workflows WHERE name LIKE 'invalid-%'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('one trace across processes', () => {
  it("carries the caller's trace id from the gateway to identity, orchestration and the worker that ran each task", async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const traceparent = `00-${traceId}-b7ad6b7169203331-01`;
    const post = (query: string, variables: Record<string, unknown>, token?: string) =>
      fetch(platform.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      }).then(async (res) => ({ traceparent: res.headers.get('traceparent'), body: (await res.json()) as { data?: any; errors?: Array<{ extensions: Record<string, unknown> }> } }));

    // A refused sign-in: identity logs it, the gateway logs the error it returned.
    const refused = await post('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email: owner.user.email, password: 'not-the-password-1' } });
    expect(refused.traceparent).toBe(traceparent);
    const requestId = refused.body.errors?.[0]?.extensions['requestId'];
    // A run: orchestration logs its start and each task, the worker each attempt.
    const id = await createWorkflow(platform, owner, `traced-${randomUUID().slice(0, 8)}`, [
      { id: 'one', capability: 'noop' },
      { id: 'two', capability: 'noop', dependsOn: ['one'] },
    ]);
    const started = await post('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId: id } }, owner.accessToken);
    const runId: string = started.body.data.startRun.run.id;
    expect((await waitForRun(platform, owner, runId)).status).toBe('SUCCEEDED');

    // Log lines reach the files a moment after the responses: each check waits for its line.
    const traced = (file: string) => logLines(file).filter((l) => l['traceId'] === traceId);
    const logged = (file: string, msg: string, key: string, value: unknown) =>
      eventually(() => traced(file).some((l) => l['msg'] === msg && l[key] === value), { what: `"${msg}" with ${key} ${String(value)} in ${file}` });
    await logged(platform.gateway.logFile, 'graphql error returned', 'requestId', requestId);
    await logged(platform.services.identity!.logFile, 'sign-in failed', 'requestId', requestId);
    await logged(platform.services.orchestration!.logFile, 'run started', 'runId', runId);
    await eventually(() => traced(platform.services.orchestration!.logFile).filter((l) => l['msg'] === 'task attempt succeeded').length === 2, {
      what: 'both attempts to be logged by the dispatcher',
    });
    const onWorkers = await eventually(
      () => {
        const lines = platform.workers.flatMap((w) => traced(w.logFile)).filter((l) => l['msg'] === 'attempt finished');
        return lines.length === 2 ? lines : undefined;
      },
      { what: 'both attempts to be logged by the workers' },
    );
    expect(onWorkers.map((l) => [l['runId'], l['stepId']]).sort()).toEqual([
      [runId, 'one'],
      [runId, 'two'],
    ]);
  });
});

