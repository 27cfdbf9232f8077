import { randomUUID } from 'node:crypto';
import { eventually, startOpenAiStandIn, type AppError, type OpenAiStandIn } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Worker-local model providers placed on the workers that serve them (issue 14), through the real
 * dispatcher and real workers over gRPC (@orchestra/workers, the llm executor), on the test
 * PostgreSQL and Redis. The model server is an outside service we do not run here: a stand-in HTTP
 * server on 127.0.0.1 speaking the OpenAI wire protocol (lib/src/openai-stand-in.ts) plays the GPU
 * box's own Ollama. One worker declares it (WORKER_LLM_ENDPOINTS), the other does not; both run `llm`
 * in the same pool with free slots, so only placement keeps the steps off the second one (which
 * would fail them: a worker refuses a worker-local provider it does not serve).
 */

let t: TestOrchestration;
let standIn: OpenAiStandIn;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const viewerA = userPrincipal(orgA, 'viewer');
const adminB = userPrincipal(orgB, 'admin');
const pool = `llm-${randomUUID().slice(0, 8)}`;
const workerIds = { serving: `serving-${randomUUID().slice(0, 6)}`, plain: `plain-${randomUUID().slice(0, 6)}` };
/** A worker-local server no worker declares (nothing listens there either). */
const NOWHERE = 'http://127.0.0.1:9/v1';

const TASKS = `query($id: ID!) { run(id: $id) { status tasks { id status workerId error { code message } waitReason { kind message details } attemptHistory { workerId } } } }`;

interface TaskView {
  id: string;
  status: string;
  workerId: string | null;
  error: { code: string; message: string } | null;
  waitReason: { kind: string; message: string; details: Record<string, unknown> | null } | null;
  attemptHistory: Array<{ workerId: string | null }>;
}

async function createProvider(principal: typeof adminA, name: string, baseUrl: string): Promise<void> {
  const res = await t.graphql(principal, `mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, { input: { name, baseUrl, workerLocal: true } });
  expect(res.errors).toBeUndefined();
}

const askStep = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'ask',
  capability: 'llm',
  pool,
  input: { model: 'llama3.2:1b', messages: [{ role: 'user', content: 'Hello' }], ...input },
  retry: { maxAttempts: 1 },
  ...extra,
});

async function startRuns(principal: typeof adminA, step: unknown, n = 1, input?: unknown): Promise<string[]> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name: `local-${randomUUID().slice(0, 8)}`, steps: [step] },
  });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(principal, `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`, {
    i: Array.from({ length: n }, () => ({ workflowId: created.data!.createWorkflow.id, ...(input === undefined ? {} : { input }) })),
  });
  expect(started.errors).toBeUndefined();
  return started.data!.startRuns.runs.map((r) => r.run.id);
}

async function runOf(runId: string, principal = adminA): Promise<{ status: string; tasks: TaskView[] }> {
  const res = await t.graphql<{ run: { status: string; tasks: TaskView[] } }>(principal, TASKS, { id: runId });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
}

const finished = (runId: string, principal = adminA) =>
  eventually(
    async () => {
      const run = await runOf(runId, principal);
      return run.status === 'SUCCEEDED' || run.status === 'FAILED' ? run : undefined;
    },
    { timeoutMs: 60_000, what: `run ${runId} to finish` },
  );

const waitingWith = (runId: string, kind: string, principal = adminA) =>
  eventually(
    async () => {
      const task = (await runOf(runId, principal)).tasks[0];
      return task?.status === 'QUEUED' && task.waitReason?.kind === kind ? task : undefined;
    },
    { timeoutMs: 60_000, what: `run ${runId}'s step to wait with ${kind}` },
  );

beforeAll(async () => {
  standIn = await startOpenAiStandIn({});
  t = await startTestOrchestration();
  await t.grantPool(orgA, pool);
  await t.grantPool(orgB, pool);
  const started = await Promise.all([
    // Declared with a trailing slash: matched as the provider's base URL all the same.
    t.startWorker({ WORKER_ID: workerIds.serving, WORKER_POOL: pool, WORKER_SLOTS: '3', WORKER_CAPABILITIES: 'llm', WORKER_LLM_ENDPOINTS: `${standIn.baseUrl}/` }),
    t.startWorker({ WORKER_ID: workerIds.plain, WORKER_POOL: pool, WORKER_SLOTS: '3', WORKER_CAPABILITIES: 'llm' }),
  ]);
  await eventually(() => started.every((w) => w.registered), { what: 'the workers to register' });
  await createProvider(adminA, 'gpu-box', standIn.baseUrl);
  await createProvider(adminA, 'a-far', NOWHERE);
  // Organization B's own providers at the same URLs as A's.
  await createProvider(adminB, 'b-box', standIn.baseUrl);
  await createProvider(adminB, 'b-far', NOWHERE);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
});

describe('worker-local provider placement', () => {
  it('stores the LLM servers each worker declares, shown to admins only, and refuses a bad one naming the field', async () => {
    const query = `query($f: WorkerFilter) { workers(filter: $f) { id llmEndpoints } }`;
    const res = await t.graphql<{ workers: Array<{ id: string; llmEndpoints: string[] | null }> }>(adminA, query, { f: { pool } });
    expect(res.errors).toBeUndefined();
    expect(Object.fromEntries(res.data!.workers.map((w) => [w.id, w.llmEndpoints]))).toEqual({ [workerIds.serving]: [standIn.baseUrl], [workerIds.plain]: [] });
    const viewer = await t.graphql<{ workers: Array<{ llmEndpoints: string[] | null }> }>(viewerA, query, { f: { pool } });
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.workers.map((w) => w.llmEndpoints)).toEqual([null, null]);

    const info = { workerId: `bad-${randomUUID().slice(0, 6)}`, endpoint: '127.0.0.1:1', pool, capabilities: ['llm'], slotsTotal: 1, slotsFree: 1, labels: {}, version: 'test' };
    const refusal = (llmEndpoints: string[]) =>
      t.service.registry.register({ worker: { ...info, llmEndpoints } }).then(
        () => undefined,
        (error: unknown) => ({ code: (error as AppError).code, field: (error as AppError).field, message: (error as AppError).message }),
      );
    expect(await refusal(['http://127.0.0.1:11434/v1', 'ftp://box/v1'])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'worker.llm_endpoints[1]', message: expect.stringMatching(/http\(s\) base URL/) });
    expect(await refusal(['http://user:secret@127.0.0.1:11434/v1'])).toMatchObject({ code: 'BAD_USER_INPUT', field: 'worker.llm_endpoints[0]' });
    expect(await refusal(Array.from({ length: 33 }, (_, i) => `http://127.0.0.1:${8000 + i}/v1`))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'worker.llm_endpoints' });
    const { rows } = await t.pool.query('SELECT count(*)::int AS n FROM workers WHERE id = $1', [info.workerId]);
    expect(rows[0].n).toBe(0);
  });

  it('lands a step of a worker-local provider only on the worker that declares it, and waits for it when it is busy', async () => {
    standIn.reset();
    // Slow answers: the serving worker's 3 slots fill while the plain worker's stay free.
    standIn.respondWith(() => ({ kind: 'answer', text: 'hello from the box', firstTokenDelayMs: 1_500 }));
    const runIds = await startRuns(adminA, askStep({ provider: 'gpu-box' }), 6);
    // Those past its 3 slots wait for it, saying why, though the plain worker has free slots.
    const busy = await eventually(
      async () => {
        const runs = await Promise.all(runIds.map((id) => runOf(id)));
        return runs.map((r) => r.tasks[0]!).find((task) => task.status === 'QUEUED' && task.waitReason?.kind === 'NO_FREE_SLOT');
      },
      { timeoutMs: 60_000, what: 'a step to wait for the serving worker' },
    );
    expect(busy.waitReason!.message).toBe(`every worker of pool "${pool}" that runs llm and serves its worker-local model provider "gpu-box" (${standIn.baseUrl}) is busy (1 online)`);
    for (const runId of runIds) {
      const run = await finished(runId);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.tasks[0]!.attemptHistory.map((a) => a.workerId)).toEqual([workerIds.serving]);
    }
    expect(standIn.requests).toHaveLength(6);
  }, 180_000);

  it('waits with the reason when no online worker serves the provider, and fails after its queue timeout', async () => {
    const [runId] = await startRuns(adminA, askStep({ provider: 'a-far' }, { queueTimeoutMs: 4_000 }));
    const waiting = await waitingWith(runId!, 'LOCAL_PROVIDER');
    expect(waiting.waitReason!.message).toBe(`no online worker of pool "${pool}" that runs llm serves its worker-local model provider "a-far" (${NOWHERE})`);
    expect(waiting.waitReason!.details).toMatchObject({ pool, capability: 'llm', providers: ['a-far'], llmEndpoints: [NOWHERE], servingWorkers: 0 });
    const run = await finished(runId!);
    expect(run.status).toBe('FAILED');
    expect(run.tasks[0]!.error!.code).toBe('QUEUE_TIMEOUT');
    expect(run.tasks[0]!.error!.message).toMatch(/^step "ask" waited \d+ s to start, past its queue timeout of 4 s: no online worker of pool "[^"]+" that runs llm serves its worker-local model provider "a-far"/);
    expect(run.tasks[0]!.attemptHistory.map((a) => a.workerId)).toEqual([null]);

    // A fallback list needs a worker that serves every worker-local provider in it: the serving worker has one of the two (named in the list's order).
    const [both] = await startRuns(adminA, askStep({ providers: ['gpu-box', 'a-far'] }, { queueTimeoutMs: 60_000 }));
    const waitingBoth = await waitingWith(both!, 'LOCAL_PROVIDER');
    expect(waitingBoth.waitReason!.message).toBe(`no online worker of pool "${pool}" that runs llm serves all of its worker-local model providers "gpu-box" (${standIn.baseUrl}), "a-far" (${NOWHERE})`);
    expect(waitingBoth.attemptHistory.map((a) => a.workerId)).toEqual([null]);
    expect((await t.graphql(adminA, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: both })).errors).toBeUndefined();
  }, 120_000);

  it('gives another organization nothing of a provider with the same URL: each step is placed and explained by its own organization’s providers', async () => {
    // B's own worker-local provider at the URL A's "gpu-box" uses runs on the worker that serves the URL.
    standIn.reset();
    standIn.respondWith(() => ({ kind: 'answer', text: 'hello B' }));
    const [onBox] = await startRuns(adminB, askStep({ provider: 'b-box' }));
    const ranB = await finished(onBox!, adminB);
    expect(ranB.status).toBe('SUCCEEDED');
    expect(ranB.tasks[0]!.workerId).toBe(workerIds.serving);

    // Steps of A and B waiting for the same undeclared URL at once: each reason names its own provider only.
    const [a] = await startRuns(adminA, askStep({ provider: 'a-far' }, { queueTimeoutMs: 60_000 }));
    const [b] = await startRuns(adminB, askStep({ provider: 'b-far' }, { queueTimeoutMs: 60_000 }));
    const waitingA = await waitingWith(a!, 'LOCAL_PROVIDER');
    const waitingB = await waitingWith(b!, 'LOCAL_PROVIDER', adminB);
    expect(waitingA.waitReason!.message).toContain('"a-far"');
    expect(waitingB.waitReason!.message).toBe(`no online worker of pool "${pool}" that runs llm serves its worker-local model provider "b-far" (${NOWHERE})`);
    expect(JSON.stringify(waitingB.waitReason)).not.toContain('a-far');
    expect(JSON.stringify(waitingA.waitReason)).not.toContain('b-far');
    // Neither reads the other's run.
    expect((await t.graphql<{ run: unknown }>(adminB, `query($id: ID!) { run(id: $id) { id } }`, { id: a })).data?.run).toBeNull();

    // B naming A's provider (through a template, so it is resolved only at dispatch) gets what any unknown name gets: the step fails, placed nowhere, the model never asked.
    standIn.reset();
    const [borrowed] = await startRuns(adminB, askStep({ provider: '{{ input.provider }}' }), 1, { provider: 'gpu-box' });
    const failed = await finished(borrowed!, adminB);
    expect(failed.status).toBe('FAILED');
    expect(failed.tasks[0]!.error).toMatchObject({ code: 'UNKNOWN_PROVIDER' });
    expect(failed.tasks[0]!.error!.message).toContain('the organization has no model provider "gpu-box"');
    expect(failed.tasks[0]!.error!.message).not.toContain(standIn.baseUrl);
    expect(failed.tasks[0]!.attemptHistory.map((x) => x.workerId)).toEqual([null]);
    expect(standIn.requests).toHaveLength(0);
    for (const id of [a, b]) {
      const principal = id === a ? adminA : adminB;
      expect((await t.graphql(principal, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id })).errors).toBeUndefined();
    }
  }, 180_000);
});
