import { randomUUID } from 'node:crypto';
import { eventually, startOpenAiStandIn, type OpenAiStandIn } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

// The model provider is an outside service we do not run here: a stand-in HTTP server on 127.0.0.1
// speaks the OpenAI wire protocol (lib/src/openai-stand-in.ts). Everything else is real: two
// orchestration replicas (two dispatchers) on one PostgreSQL schema and Redis prefix, and a worker
// over gRPC running the llm executor. The limits are counted in Redis, so they hold across both.

let t: TestOrchestration;
let standIn: OpenAiStandIn;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const API_KEY = 'sk-test-limits-0001';

const CREATE_PROVIDER = `mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`;
const UPDATE_PROVIDER = `mutation($id: ID!, $input: UpdateLlmProviderInput!) { updateLlmProvider(id: $id, input: $input) { id } }`;
const TASKS = `query($id: ID!) { run(id: $id) { status tasks { status output error { code } waitReason { kind message details } } } }`;

interface RunView {
  status: string;
  tasks: Array<{ status: string; output: { provider?: string } | null; error: { code: string } | null; waitReason: { kind: string; message: string; details: Record<string, unknown> | null } | null }>;
}

async function provider(name: string, limits: { requestsPerMinute?: number; tokensPerMinute?: number }): Promise<string> {
  const res = await t.graphql<{ createLlmProvider: { id: string } }>(admin, CREATE_PROVIDER, {
    input: { name, baseUrl: standIn.baseUrl, apiKeySecret: 'OPENAI_KEY', models: [{ alias: 'small', model: `model-${name}` }], ...limits },
  });
  expect(res.errors).toBeUndefined();
  return res.data!.createLlmProvider.id;
}

async function startRuns(name: string, providers: string[], count: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name, steps: [{ id: 'ask', capability: 'llm', retry: { maxAttempts: 1 }, input: { providers, model: 'small', messages: [{ role: 'user', content: 'Say hello' }], ...extra } }] },
  });
  expect(created.errors).toBeUndefined();
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId: created.data!.createWorkflow.id } });
    expect(started.errors).toBeUndefined();
    ids.push(started.data!.startRun.run.id);
  }
  return ids;
}

const runOf = async (id: string): Promise<RunView> => {
  const res = await t.graphql<{ run: RunView }>(admin, TASKS, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
};
const runsOf = (ids: string[]) => Promise.all(ids.map(runOf));
const callsTo = (name: string) => standIn.requests.filter((r) => r.body.model === `model-${name}`).length;

beforeAll(async () => {
  standIn = await startOpenAiStandIn({ apiKey: API_KEY });
  t = await startTestOrchestration();
  await t.startReplica();
  await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '8' });
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(admin, '{ capabilities }')).data?.capabilities.includes('llm') ? true : undefined), {
    timeoutMs: 20_000,
    what: 'the worker to advertise llm',
  });
  expect((await t.graphql(admin, `mutation { createSecret(name: "OPENAI_KEY", value: "${API_KEY}") { id } }`)).errors).toBeUndefined();
});
afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
});

describe('per-provider rate limits', () => {
  it('lets a provider take its requests per minute across two dispatchers; the rest wait with the reason, then run when the limit is raised', async () => {
    const id = await provider('two-a-minute', { requestsPerMinute: 2 });
    const runs = await startRuns('limited-requests', ['two-a-minute'], 5);
    const settled = await eventually(
      async () => {
        const views = await runsOf(runs);
        const done = views.filter((r) => r.status === 'SUCCEEDED');
        const waiting = views.filter((r) => r.tasks[0]?.waitReason?.kind === 'RATE_LIMIT');
        return done.length === 2 && waiting.length === 3 ? waiting : undefined;
      },
      { timeoutMs: 60_000, what: 'two runs to succeed and three to wait for the provider' },
    );
    expect(settled[0]!.status).toBe('QUEUED');
    expect(settled[0]!.tasks[0]!.waitReason!.message).toMatch(/^model provider "two-a-minute" used its 2 requests per minute: room in \d+ s$/);
    expect(settled[0]!.tasks[0]!.waitReason!.details).toMatchObject({ providers: [{ provider: 'two-a-minute', requestsPerMinute: 2, requests: 2 }] });
    // They keep waiting (each looks again every few seconds) and the provider gets no third call.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(callsTo('two-a-minute')).toBe(2);
    expect((await runsOf(runs)).filter((r) => r.status === 'SUCCEEDED')).toHaveLength(2);
    // Raising the limit lets them run (the limit is read at every claim).
    expect((await t.graphql(admin, UPDATE_PROVIDER, { id, input: { requestsPerMinute: 100 } })).errors).toBeUndefined();
    await eventually(async () => ((await runsOf(runs)).every((r) => r.status === 'SUCCEEDED') ? true : undefined), { timeoutMs: 60_000, what: 'the waiting runs to run' });
    expect(callsTo('two-a-minute')).toBe(5);
  }, 180_000);

  it('counts the tokens an answer used: past the tokens per minute, the next task waits', async () => {
    // Every stand-in answer uses more than 5 tokens (its prompt alone does).
    await provider('few-tokens', { tokensPerMinute: 5 });
    const [first] = await startRuns('limited-tokens-1', ['few-tokens'], 1);
    await eventually(async () => ((await runOf(first!)).status === 'SUCCEEDED' ? true : undefined), { timeoutMs: 60_000, what: 'the first run to succeed' });
    const [second] = await startRuns('limited-tokens-2', ['few-tokens'], 1);
    const waiting = await eventually(async () => ((await runOf(second!)).tasks[0]?.waitReason?.kind === 'RATE_LIMIT' ? await runOf(second!) : undefined), {
      timeoutMs: 60_000,
      what: 'the second run to wait for tokens',
    });
    expect(waiting.tasks[0]!.waitReason!.message).toMatch(/^model provider "few-tokens" used its 5 tokens per minute \(\d+ used\): room in \d+ s$/);
    expect(callsTo('few-tokens')).toBe(1);
  }, 120_000);

  it('counts the tokens of failed attempts too: an answer invalid after its re-ask, a stream cut mid-way', async () => {
    // The stand-in answers these two providers' models badly; every other request as usual.
    standIn.respondWith((request) =>
      request.model === 'model-bad-json'
        ? { kind: 'answer', text: 'this is not JSON at all' }
        : request.model === 'model-cut-stream'
          ? { kind: 'break', text: 'the answer starts and then the connection is gone', afterTokens: 5 }
          : { kind: 'answer', text: 'hello' },
    );
    await provider('bad-json', { tokensPerMinute: 5 });
    await provider('cut-stream', { tokensPerMinute: 5 });
    const [invalid] = await startRuns('invalid-twice', ['bad-json'], 1, { responseFormat: 'json' });
    const [cut] = await startRuns('cut-stream', ['cut-stream'], 1);
    const failed = await eventually(async () => {
      const views = await runsOf([invalid!, cut!]);
      return views.every((r) => r.status === 'FAILED') ? views : undefined;
    }, { timeoutMs: 60_000, what: 'both runs to fail' });
    expect(failed.map((r) => r.tasks[0]!.error!.code)).toEqual(['INVALID_MODEL_OUTPUT', 'ALL_PROVIDERS_FAILED']);
    expect(callsTo('bad-json')).toBe(2);
    expect(callsTo('cut-stream')).toBe(1);
    // What the failed calls spent is counted against the providers: the next tasks wait.
    const next = [...(await startRuns('after-invalid', ['bad-json'], 1)), ...(await startRuns('after-cut', ['cut-stream'], 1))];
    const waiting = await eventually(async () => {
      const views = await runsOf(next);
      return views.every((r) => r.tasks[0]?.waitReason?.kind === 'RATE_LIMIT') ? views : undefined;
    }, { timeoutMs: 60_000, what: 'the next runs to wait for tokens' });
    expect(waiting[0]!.tasks[0]!.waitReason!.message).toMatch(/^model provider "bad-json" used its 5 tokens per minute \(\d+ used\)/);
    expect(waiting[1]!.tasks[0]!.waitReason!.message).toMatch(/^model provider "cut-stream" used its 5 tokens per minute \(\d+ used\)/);
    expect(callsTo('bad-json')).toBe(2);
    expect(callsTo('cut-stream')).toBe(1);
  }, 120_000);

  it('passes over a provider at its limit to the next of the step, which answers', async () => {
    await provider('one-a-minute', { requestsPerMinute: 1 });
    await provider('spare', {});
    const runs = await startRuns('falls-back', ['one-a-minute', 'spare'], 3);
    const views = await eventually(async () => {
      const all = await runsOf(runs);
      return all.every((r) => r.status === 'SUCCEEDED') ? all : undefined;
    }, { timeoutMs: 60_000, what: 'the runs to succeed' });
    expect(views.map((r) => r.tasks[0]!.output!.provider).sort()).toEqual(['one-a-minute', 'spare', 'spare']);
    expect(callsTo('one-a-minute')).toBe(1);
    expect(callsTo('spare')).toBe(2);
  }, 120_000);
});
