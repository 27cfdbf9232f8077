import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, promptTokensOf, standInTokens, startOpenAiStandIn, withTenantTransaction, type OpenAiStandIn } from '@orchestra/lib';
import { TENANT_ROLE } from '../engine/engine';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

// Accounting (issue 14). Outside services we do not run here have stand-ins, and this test says so:
// the model provider is an HTTP server on 127.0.0.1 speaking the OpenAI wire protocol
// (lib/src/openai-stand-in.ts), and the worker's `nvidia-smi` is a shell script printing two GPUs
// (there is no GPU on these machines). Everything else is real: orchestration on PostgreSQL and
// Redis, a worker over gRPC running the llm executor.

let t: TestOrchestration;
let standIn: OpenAiStandIn;
let smiDir: string;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const viewerA = userPrincipal(orgA, 'viewer');
const adminB = userPrincipal(orgB, 'admin');

const USAGE_FIELDS = 'calls failedCalls promptTokens completionTokens totalTokens costUsd gpuSeconds';

interface Usage {
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

async function gql<T>(principal: typeof adminA, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.graphql<T>(principal, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!;
}

async function addProviders(principal: typeof adminA) {
  for (const [name, prices] of [
    ['primary', { pricePer1MInput: 3, pricePer1MOutput: 6 }],
    ['backup', { pricePer1MInput: 10, pricePer1MOutput: 20 }],
  ] as const) {
    await gql(principal, `mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, {
      // `small` on primary has prices of its own (1 and 2 dollars per million tokens).
      input: { name, baseUrl: standIn.baseUrl, models: name === 'primary' ? [{ alias: 'small', model: 'gpt-small-1', pricePer1MInput: 1, pricePer1MOutput: 2 }] : [], ...prices },
    });
  }
}

async function addWorkflow(principal: typeof adminA, workflow: string, providers: string[]) {
  await gql(principal, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: workflow, steps: [{ id: 'ask', capability: 'llm', input: { providers, model: 'small', messages: [{ role: 'user', content: 'Count to three' }] }, retry: { maxAttempts: 1 } }] },
  });
}

async function runToEnd(principal: typeof adminA, workflow: string): Promise<{ id: string; status: string; usage: Usage; tasks: Array<{ usage: Usage; output: { usage: { promptTokens: number; completionTokens: number } } }> }> {
  const started = await gql<{ startRun: { run: { id: string } } }>(principal, `mutation($w: String!) { startRun(input: { workflowName: $w }) { run { id } } }`, { w: workflow });
  return eventually(
    async () => {
      const { run } = await gql<{ run: { id: string; status: string; usage: Usage; tasks: Array<{ usage: Usage; output: { usage: { promptTokens: number; completionTokens: number } } }> } }>(
        principal,
        `query($id: ID!) { run(id: $id) { id status usage { ${USAGE_FIELDS} } tasks { output usage { ${USAGE_FIELDS} } } } }`,
        { id: started.startRun.run.id },
      );
      return run.status === 'SUCCEEDED' || run.status === 'FAILED' ? run : undefined;
    },
    { timeoutMs: 30_000, what: `a run of ${workflow} to finish` },
  );
}

beforeAll(async () => {
  smiDir = mkdtempSync(join(tmpdir(), 'orchestra-nvidia-smi-'));
  const smi = join(smiDir, 'nvidia-smi');
  writeFileSync(smi, '#!/bin/sh\necho "0, NVIDIA A100-SXM4-40GB, 40960, 1024, 3"\necho "1, NVIDIA A100-SXM4-40GB, 40960, 512, 0"\n');
  chmodSync(smi, 0o755);
  standIn = await startOpenAiStandIn({});
  t = await startTestOrchestration();
  // The stand-in listens on 127.0.0.1: this worker may reach private addresses (a hosted provider would be public).
  await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', NVIDIA_SMI_PATH: smi });
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(adminA, '{ capabilities }')).data?.capabilities.includes('llm') ? true : undefined), { timeoutMs: 30_000, what: 'the worker to advertise llm' });
  await addProviders(adminA);
  await addProviders(adminB);
  await addWorkflow(adminA, 'ask', ['primary']);
  await addWorkflow(adminA, 'ask-fallback', ['backup', 'primary']);
  await addWorkflow(adminB, 'ask', ['primary']);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
  rmSync(smiDir, { recursive: true, force: true });
});

describe('usage accounting', () => {
  const answer = 'One, two, three.';
  const completion = standInTokens(answer).length;

  it('records each model request with tokens, time to first token, speed and cost at the dispatched prices, summed per task and run', async () => {
    standIn.reset();
    standIn.script({ kind: 'answer', text: answer, tokenDelayMs: 10 });
    const run = await runToEnd(adminA, 'ask');
    expect(run.status).toBe('SUCCEEDED');
    const prompt = promptTokensOf(standIn.requests[0]!.body);
    // The alias's own prices: $1 and $2 per million tokens.
    const cost = (prompt * 1 + completion * 2) / 1_000_000;
    expect(run.usage).toEqual({ calls: 1, failedCalls: 0, promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion, costUsd: cost, gpuSeconds: expect.any(Number) as unknown });
    expect(run.tasks[0]!.usage).toEqual(run.usage);
    expect(run.tasks[0]!.output.usage).toMatchObject({ promptTokens: prompt, completionTokens: completion });
    const { rows } = await t.pool.query(`SELECT provider, model, requested_model, ttft_ms, duration_ms, tokens_per_second, cost_usd::float8 AS cost, error_code FROM "${t.schema}".model_calls WHERE run_id = $1`, [run.id]);
    expect(rows).toEqual([{ provider: 'primary', model: 'gpt-small-1', requested_model: 'small', ttft_ms: expect.any(Number), duration_ms: expect.any(Number), tokens_per_second: expect.any(Number), cost, error_code: null }]);
    expect(rows[0].tokens_per_second).toBeGreaterThan(0);
    expect(rows[0].duration_ms).toBeGreaterThanOrEqual(rows[0].ttft_ms);
  });

  it('records GPU-seconds for a task that ran on a worker with GPUs (both GPUs: it was placed on none)', async () => {
    standIn.reset();
    standIn.script({ kind: 'answer', text: answer, tokenDelayMs: 50 });
    const run = await runToEnd(adminA, 'ask');
    expect(run.usage.gpuSeconds).toBeGreaterThan(0);
    const { rows } = await t.pool.query(`SELECT gpu_count, gpu_models, seconds, gpu_seconds FROM "${t.schema}".gpu_usage WHERE run_id = $1`, [run.id]);
    expect(rows).toEqual([{ gpu_count: 2, gpu_models: ['NVIDIA A100-SXM4-40GB'], seconds: expect.any(Number), gpu_seconds: expect.any(Number) }]);
    expect(rows[0].gpu_seconds).toBeCloseTo(rows[0].seconds * 2, 2);
  });

  it('counts a provider skipped in a fallback as a failed call, priced by what it consumed', async () => {
    standIn.reset();
    standIn.script({ kind: 'error', status: 500, message: 'upstream broke' }, { kind: 'answer', text: answer });
    const run = await runToEnd(adminA, 'ask-fallback');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.usage).toMatchObject({ calls: 2, failedCalls: 1, completionTokens: completion });
    const { rows } = await t.pool.query(`SELECT provider, error_code FROM "${t.schema}".model_calls WHERE run_id = $1 ORDER BY created_at, provider`, [run.id]);
    expect(rows.map((r: { provider: string; error_code: string | null }) => [r.provider, r.error_code])).toEqual(expect.arrayContaining([['backup', 'PROVIDER_HTTP_5XX'], ['primary', null]]));
  });

  it('sums the organization’s usage by day, workflow and provider, its own only', async () => {
    standIn.reset();
    await runToEnd(adminB, 'ask');
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const query = `query($from: DateTime!, $to: DateTime!, $by: UsageGroupBy!) { usage(from: $from, to: $to, groupBy: $by) { key workflow { name } ${USAGE_FIELDS} } }`;
    const byDay = await gql<{ usage: Array<Usage & { key: string }> }>(viewerA, query, { from, to, by: 'DAY' });
    const { rows } = await t.pool.query(`SELECT count(*)::int AS calls, sum(cost_usd)::float8 AS cost, sum(prompt_tokens + completion_tokens)::int AS tokens FROM "${t.schema}".model_calls WHERE org_id = $1`, [orgA]);
    expect(byDay.usage.map((g) => g.calls).reduce((a, b) => a + b, 0)).toBe(rows[0].calls);
    expect(byDay.usage.map((g) => g.totalTokens).reduce((a, b) => a + b, 0)).toBe(rows[0].tokens);
    expect(byDay.usage.map((g) => g.costUsd).reduce((a, b) => a + b, 0)).toBeCloseTo(rows[0].cost, 8);
    expect(byDay.usage.every((g) => /^\d{4}-\d{2}-\d{2}$/.test(g.key))).toBe(true);

    const byWorkflow = await gql<{ usage: Array<Usage & { key: string; workflow: { name: string } | null }> }>(viewerA, query, { from, to, by: 'WORKFLOW' });
    expect(byWorkflow.usage.map((g) => g.workflow?.name).sort()).toEqual(['ask', 'ask-fallback']);
    const byProvider = await gql<{ usage: Array<Usage & { key: string }> }>(viewerA, query, { from, to, by: 'PROVIDER' });
    expect(byProvider.usage.map((g) => [g.key, g.calls])).toEqual([
      ['backup', 1],
      ['primary', 3],
    ]);
    // Org B sees its one run, nothing of org A's.
    const theirs = await gql<{ usage: Array<Usage & { key: string }> }>(adminB, query, { from, to, by: 'PROVIDER' });
    expect(theirs.usage.map((g) => [g.key, g.calls])).toEqual([['primary', 1]]);
  });

  it('refuses a bad range with BAD_USER_INPUT naming the field', async () => {
    const query = `query($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to) { key } }`;
    for (const [from, to, reason] of [
      ['2026-12-02T00:00:00Z', '2026-12-01T00:00:00Z', 'INVALID_RANGE'],
      ['2024-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'RANGE_TOO_LONG'],
    ] as const) {
      const res = await t.graphql(viewerA, query, { from, to });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to', reason });
    }
    const notADate = await t.graphql(viewerA, query, { from: 'yesterday', to: '2026-12-01T00:00:00Z' });
    expect(notADate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('sums per app (App.stats, usage by APP) and per workflow (Workflow.usage), its own organization only', async () => {
    const appId = randomUUID();
    const create = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`;
    const step = { id: 'ask', capability: 'llm', input: { providers: ['primary'], model: 'small', messages: [{ role: 'user', content: 'Count to three' }] }, retry: { maxAttempts: 1 } };
    const first = await gql<{ createWorkflow: { id: string } }>(adminA, create, { input: { name: 'app-ask', appId, steps: [step] } });
    await gql(adminA, create, { input: { name: 'app-ask-2', appId, steps: [step] } });
    // Org B names the same app id (ids are not secrets): its spending must never count toward org A's app.
    await gql(adminB, create, { input: { name: 'app-ask', appId, steps: [step] } });
    const runs: Array<{ principal: typeof adminA; workflow: string; usage: Usage }> = [];
    for (const [principal, workflow] of [[adminA, 'app-ask'], [adminA, 'app-ask'], [adminA, 'app-ask-2'], [adminB, 'app-ask']] as const) {
      standIn.reset();
      standIn.script({ kind: 'answer', text: answer });
      const run = await runToEnd(principal, workflow);
      expect(run.status).toBe('SUCCEEDED');
      runs.push({ principal, workflow, usage: run.usage });
    }
    const sum = (items: readonly (typeof runs)[number][]) => ({
      calls: items.reduce((a, r) => a + r.usage.calls, 0),
      promptTokens: items.reduce((a, r) => a + r.usage.promptTokens, 0),
      completionTokens: items.reduce((a, r) => a + r.usage.completionTokens, 0),
      costUsd: items.reduce((a, r) => a + r.usage.costUsd, 0),
    });
    const ofA = sum(runs.filter((r) => r.principal === adminA));
    expect(ofA.calls).toBe(3);
    expect(ofA.costUsd).toBeGreaterThan(0);

    // The app's stats (through the App entity, as the gateway resolves it) sum org A's three runs.
    const entity = `query($r: [_Any!]!) { _entities(representations: $r) { ... on App { stats(window: LAST_HOUR) { runs usage { ${USAGE_FIELDS} } } } } }`;
    const stats = await gql<{ _entities: Array<{ stats: { runs: number; usage: Usage } }> }>(viewerA, entity, { r: [{ __typename: 'App', id: appId }] });
    expect(stats._entities[0]!.stats.runs).toBe(3);
    expect(stats._entities[0]!.stats.usage).toMatchObject({ calls: ofA.calls, failedCalls: 0, promptTokens: ofA.promptTokens, completionTokens: ofA.completionTokens });
    expect(stats._entities[0]!.stats.usage.costUsd).toBeCloseTo(ofA.costUsd, 8);
    const theirStats = await gql<{ _entities: Array<{ stats: { runs: number; usage: Usage } }> }>(adminB, entity, { r: [{ __typename: 'App', id: appId }] });
    expect(theirStats._entities[0]!.stats).toMatchObject({ runs: 1, usage: { calls: 1 } });

    // usage(groupBy: APP): the app's group has the same totals; runs of no app are under ''.
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const byApp = await gql<{ usage: Array<Usage & { key: string; app: { id: string } | null }> }>(viewerA, `query($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, groupBy: APP) { key app { id } ${USAGE_FIELDS} } }`, { from, to });
    const appGroup = byApp.usage.find((g) => g.key === appId);
    expect(appGroup).toMatchObject({ app: { id: appId }, calls: ofA.calls, promptTokens: ofA.promptTokens, completionTokens: ofA.completionTokens });
    expect(appGroup!.costUsd).toBeCloseTo(ofA.costUsd, 8);
    expect(byApp.usage.find((g) => g.key === '')).toMatchObject({ app: null });
    expect(byApp.usage.map((g) => g.key).sort()).toEqual(['', appId].sort());

    // Workflow.usage: each workflow its own runs.
    const workflow = `query($id: ID!) { workflow(id: $id) { name usage { ${USAGE_FIELDS} } } }`;
    const mine = await gql<{ workflow: { usage: Usage } }>(viewerA, workflow, { id: first.createWorkflow.id });
    const ofFirst = sum(runs.filter((r) => r.principal === adminA && r.workflow === 'app-ask'));
    expect(mine.workflow.usage).toMatchObject({ calls: 2, promptTokens: ofFirst.promptTokens, completionTokens: ofFirst.completionTokens, totalTokens: ofFirst.promptTokens + ofFirst.completionTokens });
    expect(mine.workflow.usage.costUsd).toBeCloseTo(ofFirst.costUsd, 8);
    // Org B cannot read org A's workflow, its usage included.
    const theirs = await t.graphql<{ workflow: unknown }>(adminB, workflow, { id: first.createWorkflow.id });
    expect(theirs.data?.workflow ?? null).toBeNull();
  });

  it('keeps usage rows to their organization under row-level security', async () => {
    const seen = await withTenantTransaction(t.pool, TENANT_ROLE, { orgId: orgB }, async (tx) => (await tx.query<{ org_id: string }>('SELECT DISTINCT org_id FROM model_calls UNION SELECT DISTINCT org_id FROM gpu_usage')).rows);
    expect(seen).toEqual([{ org_id: orgB }]);
  });
});
