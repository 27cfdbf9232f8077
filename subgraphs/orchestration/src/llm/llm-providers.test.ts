import { randomUUID } from 'node:crypto';
import { eventually, startOpenAiStandIn, type OpenAiStandIn } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

// The model provider is an outside service we do not run here: a stand-in HTTP server on 127.0.0.1
// speaks the OpenAI wire protocol (lib/src/openai-stand-in.ts). Everything else is real: the
// orchestration service on PostgreSQL and Redis, and a worker over gRPC running the llm executor.

let t: TestOrchestration;
let standIn: OpenAiStandIn;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const viewerA = userPrincipal(orgA, 'viewer');
const operatorA = userPrincipal(orgA, 'operator');
const adminB = userPrincipal(orgB, 'admin');

const API_KEY = 'sk-test-7c1d-NEVER-SHOWN-42';
const FIELDS = 'id name baseUrl apiKeySecret models { alias model pricePer1MInput pricePer1MOutput } pricePer1MInput pricePer1MOutput requestsPerMinute tokensPerMinute timeoutMs workerLocal createdBy';
const CREATE = `mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateLlmProviderInput!) { updateLlmProvider(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteLlmProvider(id: $id) { id name } }`;
const TEST = `mutation($id: ID!, $model: String) { testLlmProvider(id: $id, model: $model) { ok model latencyMs message } }`;
const LIST = `{ llmProviders { ${FIELDS} } }`;
const CREATE_SECRET = `mutation($name: String!, $value: String!) { createSecret(name: $name, value: $value) { id } }`;
const CREATE_WORKFLOW = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`;

interface ProviderView {
  id: string;
  name: string;
  apiKeySecret: string | null;
  pricePer1MInput: number;
  pricePer1MOutput: number;
  models: Array<{ alias: string; model: string; pricePer1MInput: number | null }>;
  requestsPerMinute: number | null;
}

async function everythingStored(): Promise<string> {
  const { rows } = await t.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [t.schema]);
  const dumps: string[] = [];
  for (const { table_name } of rows) {
    const { rows: content } = await t.pool.query(`SELECT to_jsonb(x)::text AS row FROM "${t.schema}"."${table_name}" x`);
    dumps.push(...content.map((r: { row: string }) => r.row));
  }
  return dumps.join('\n');
}

const llmStep = (input: Record<string, unknown>, id = 'ask') => ({ id, capability: 'llm', input: { model: 'small', messages: [{ role: 'user', content: 'Say hello' }], ...input }, retry: { maxAttempts: 1 } });

beforeAll(async () => {
  standIn = await startOpenAiStandIn({ apiKey: API_KEY });
  t = await startTestOrchestration({ LLM_PROVIDER_TEST_ALLOW_PRIVATE_NETWORK: 'true' });
  // The stand-in listens on 127.0.0.1: this worker may reach private addresses (a hosted provider would be public).
  await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true' });
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(adminA, '{ capabilities }')).data?.capabilities.includes('llm') ? true : undefined), {
    timeoutMs: 20_000,
    what: 'the worker to advertise llm',
  });
  for (const admin of [adminA, adminB]) expect((await t.graphql(admin, CREATE_SECRET, { name: 'OPENAI_KEY', value: API_KEY })).errors).toBeUndefined();
});
afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
});

describe('model providers of an organization', () => {
  let providerId: string;

  it('creates, lists and updates a provider whose API key is a secret named, never shown or stored in clear; audited', async () => {
    const created = await t.graphql<{ createLlmProvider: ProviderView }>(adminA, CREATE, {
      input: {
        name: 'local-openai',
        baseUrl: `${standIn.baseUrl}/`,
        apiKeySecret: 'OPENAI_KEY',
        models: [{ alias: 'small', model: 'gpt-small-1', pricePer1MInput: 1, pricePer1MOutput: 2 }],
        pricePer1MInput: 3,
        pricePer1MOutput: 6,
        requestsPerMinute: 600,
      },
    });
    expect(created.errors).toBeUndefined();
    const provider = created.data!.createLlmProvider;
    providerId = provider.id;
    expect(provider).toMatchObject({ name: 'local-openai', apiKeySecret: 'OPENAI_KEY', pricePer1MInput: 3, pricePer1MOutput: 6, requestsPerMinute: 600, models: [{ alias: 'small', model: 'gpt-small-1', pricePer1MInput: 1 }] });
    expect((provider as unknown as { baseUrl: string }).baseUrl).toBe(standIn.baseUrl);

    const updated = await t.graphql<{ updateLlmProvider: ProviderView }>(adminA, UPDATE, { id: providerId, input: { pricePer1MOutput: 8, requestsPerMinute: null } });
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.updateLlmProvider).toMatchObject({ pricePer1MInput: 3, pricePer1MOutput: 8, requestsPerMinute: null, apiKeySecret: 'OPENAI_KEY' });

    const listed = await t.graphql<{ llmProviders: ProviderView[] }>(viewerA, LIST);
    expect(listed.data?.llmProviders.map((p) => p.name)).toEqual(['local-openai']);
    const stored = await everythingStored();
    expect(stored).toContain('llm_provider.create');
    expect(stored).toContain('llm_provider.update');
    expect(stored).not.toContain(API_KEY);
  });

  it('refuses bad settings with BAD_USER_INPUT naming the field, duplicates with CONFLICT, and is for admins only', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ name: 'Bad Name', baseUrl: standIn.baseUrl }, 'input.name', 'INVALID_PROVIDER_NAME'],
      [{ name: 'p1', baseUrl: 'ftp://models.test' }, 'input.baseUrl', 'INVALID_BASE_URL'],
      [{ name: 'p1', baseUrl: 'https://user:pw@models.test/v1' }, 'input.baseUrl', 'INVALID_BASE_URL'],
      [{ name: 'p1', baseUrl: standIn.baseUrl, apiKeySecret: 'NO_SUCH_SECRET' }, 'input.apiKeySecret', 'UNKNOWN_SECRET'],
      [{ name: 'p1', baseUrl: standIn.baseUrl, pricePer1MInput: -1 }, 'input.pricePer1MInput', 'INVALID_PRICE'],
      [{ name: 'p1', baseUrl: standIn.baseUrl, tokensPerMinute: 0 }, 'input.tokensPerMinute', 'OUT_OF_RANGE'],
      [{ name: 'p1', baseUrl: standIn.baseUrl, models: [{ alias: 'a', model: 'm' }, { alias: 'a', model: 'n' }] }, 'input.models[1].alias', 'DUPLICATE_MODEL'],
    ];
    for (const [input, field, reason] of cases) {
      const res = await t.graphql(adminA, CREATE, { input });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    const again = await t.graphql(adminA, CREATE, { input: { name: 'local-openai', baseUrl: standIn.baseUrl } });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PROVIDER_EXISTS' });
    const rename = await t.graphql(adminA, UPDATE, { id: providerId, input: { baseUrl: 'https://other.test/v1', apiKeySecret: 'NOPE' } });
    expect(rename.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.apiKeySecret' });
    const byOperator = await t.graphql(operatorA, CREATE, { input: { name: 'op', baseUrl: standIn.baseUrl } });
    expect(byOperator.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const listed = await t.graphql<{ llmProviders: ProviderView[] }>(adminA, LIST);
    expect(listed.data?.llmProviders.map((p) => p.name)).toEqual(['local-openai']);
  });

  it('keeps organizations apart: org B neither sees, changes, tests nor deletes org A providers, nor names them in a workflow', async () => {
    expect((await t.graphql<{ llmProviders: unknown[] }>(adminB, LIST)).data?.llmProviders).toEqual([]);
    for (const [query, variables] of [
      [UPDATE, { id: providerId, input: { pricePer1MInput: 0 } }],
      [DELETE, { id: providerId }],
      [TEST, { id: providerId }],
    ] as const) {
      const res = await t.graphql(adminB, query, variables);
      expect(res.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    const workflow = await t.graphql(adminB, CREATE_WORKFLOW, { input: { name: 'borrow', steps: [llmStep({ provider: 'local-openai' })] } });
    expect(workflow.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[0].input.provider', reason: 'UNKNOWN_PROVIDER' });
  });

  it('tests the connection with one tiny request carrying the key, and says why when it fails (key masked)', async () => {
    standIn.reset();
    const ok = await t.graphql<{ testLlmProvider: { ok: boolean; model: string; message: string | null } }>(adminA, TEST, { id: providerId });
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.testLlmProvider).toMatchObject({ ok: true, model: 'gpt-small-1', message: null });
    expect(standIn.requests[0]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(standIn.requests[0]?.body.max_tokens).toBe(1);

    standIn.script({ kind: 'error', status: 500, message: `upstream broke for key ${API_KEY}` });
    const failed = await t.graphql<{ testLlmProvider: { ok: boolean; message: string } }>(adminA, TEST, { id: providerId });
    expect(failed.data?.testLlmProvider.ok).toBe(false);
    expect(failed.data?.testLlmProvider.message).toMatch(/HTTP 500/);
    expect(JSON.stringify(failed)).not.toContain(API_KEY);
  });
});

describe('llm steps and their providers', () => {
  it('refuses bad model steps at createWorkflow with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [llmStep({ provider: 'nobody' }), 'input.steps[0].input.provider', 'UNKNOWN_PROVIDER'],
      [llmStep({ providers: ['local-openai', 'nobody'] }), 'input.steps[0].input.providers[1]', 'UNKNOWN_PROVIDER'],
      [llmStep({ provider: 'local-openai', maxTokens: 0 }), 'input.steps[0].input.maxTokens', 'INVALID_LLM_INPUT'],
      [llmStep({ provider: 'local-openai', maxTokens: 10_000_000 }), 'input.steps[0].input.maxTokens', 'INVALID_LLM_INPUT'],
      [llmStep({ provider: 'local-openai', messages: 'Say hello' }), 'input.steps[0].input.messages', 'INVALID_LLM_INPUT'],
      [llmStep({ provider: 'local-openai', messages: [{ role: 'wizard', content: 'x' }] }), 'input.steps[0].input.messages[0].role', 'INVALID_LLM_INPUT'],
      [{ id: 'ask', capability: 'llm', input: { provider: 'local-openai', messages: [{ role: 'user', content: 'x' }] } }, 'input.steps[0].input.model', 'INVALID_LLM_INPUT'],
      [llmStep({}), 'input.steps[0].input.provider', 'INVALID_LLM_INPUT'],
    ];
    for (const [step, field, reason] of cases) {
      const res = await t.graphql(adminA, CREATE_WORKFLOW, { input: { name: `bad-${randomUUID().slice(0, 8)}`, steps: [step] } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    // Templated fields are checked by the worker once resolved.
    const templated = await t.graphql(adminA, CREATE_WORKFLOW, { input: { name: 'templated', steps: [llmStep({ provider: 'local-openai', messages: '{{ input.messages }}', maxTokens: '{{ input.n }}' })] } });
    expect(templated.errors).toBeUndefined();
    const { rows } = await t.pool.query(`SELECT name FROM "${t.schema}".workflows WHERE org_id = $1`, [orgA]);
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['templated']);
  });

  it('refuses a provider whose API key secret is missing (PROVIDER_SECRET_MISSING naming the field)', async () => {
    expect((await t.graphql(adminB, CREATE_SECRET, { name: 'SHORT_LIVED', value: 'sk-short-lived' })).errors).toBeUndefined();
    const created = await t.graphql<{ createLlmProvider: { id: string } }>(adminB, CREATE, { input: { name: 'gone-key', baseUrl: standIn.baseUrl, apiKeySecret: 'SHORT_LIVED' } });
    expect(created.errors).toBeUndefined();
    expect((await t.graphql(adminB, 'mutation { deleteSecret(name: "SHORT_LIVED") { id } }')).errors).toBeUndefined();
    const res = await t.graphql(adminB, CREATE_WORKFLOW, { input: { name: 'keyless', steps: [llmStep({ providers: ['gone-key'] })] } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.steps[0].input.providers[0]', reason: 'PROVIDER_SECRET_MISSING' });
  });

  it('runs an llm step with the provider and key resolved at dispatch; the key reaches only the provider', async () => {
    standIn.reset();
    standIn.script({ kind: 'answer', text: 'Hello there, operator.' });
    expect((await t.graphql(adminA, CREATE_WORKFLOW, { input: { name: 'hello', steps: [llmStep({ provider: 'local-openai', maxTokens: 50 })] } })).errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, 'mutation { startRun(input: { workflowName: "hello" }) { run { id } } }');
    const runId = started.data!.startRun.run.id;
    const run = await eventually(
      async () => {
        const res = await t.graphql<{ run: { status: string; tasks: Array<{ status: string; output: any; error: unknown }> } }>(adminA, `query($id: ID!) { run(id: $id) { status tasks { status output error { code message } } } }`, { id: runId });
        return res.data?.run.status === 'SUCCEEDED' || res.data?.run.status === 'FAILED' ? res.data.run : undefined;
      },
      { timeoutMs: 30_000, what: 'the llm run to finish' },
    );
    expect(run.tasks[0]?.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks[0]?.output).toMatchObject({ text: 'Hello there, operator.', provider: 'local-openai', model: 'gpt-small-1' });
    expect(standIn.requests[0]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(standIn.requests[0]?.body.model).toBe('gpt-small-1');
    expect(await everythingStored()).not.toContain(API_KEY);
    expect(JSON.stringify(t.log.lines)).not.toContain(API_KEY);
  });

  it('fails a step whose provider was deleted after the workflow was saved with UNKNOWN_PROVIDER, not retried', async () => {
    const listed = await t.graphql<{ llmProviders: ProviderView[] }>(adminA, LIST);
    const id = listed.data!.llmProviders[0]!.id;
    expect((await t.graphql(adminA, DELETE, { id })).errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, 'mutation { startRun(input: { workflowName: "hello" }) { run { id } } }');
    const task = await eventually(
      async () => {
        const res = await t.graphql<{ run: { status: string; tasks: Array<{ attempts: number; error: { code: string; message: string; retryable: boolean } | null }> } }>(
          adminA,
          `query($id: ID!) { run(id: $id) { status tasks { attempts error { code message retryable } } } }`,
          { id: started.data!.startRun.run.id },
        );
        return res.data?.run.status === 'FAILED' ? res.data.run.tasks[0] : undefined;
      },
      { timeoutMs: 20_000, what: 'the run to fail' },
    );
    expect(task?.error).toMatchObject({ code: 'UNKNOWN_PROVIDER', retryable: false });
    expect(task?.error?.message).toMatch(/input\.provider.*"local-openai"/);
  });
});
