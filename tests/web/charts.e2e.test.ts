import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * The usage, model providers and metrics pages in a real browser (Chromium through playwright-core)
 * against the platform (identity and orchestration in their own processes, the gateway serving the
 * built app). Runs and accounting rows are written into orchestration's tables with the times the
 * test needs (days in the past), as the engine would have left them; everything the pages show goes
 * through the gateway's GraphQL and its /usage.csv.
 */

let platform: Platform;
let browser: Browser;
let origin: string;
let token: string;
let page: Page;
let orgId: string;
let nightly: string;
let hourly: string;
const shots = screenshotDir();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function api<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const schema = () => `"${platform.schemas.orchestration}"`;

interface SeedRun {
  workflow: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  ago: number;
  runMs: number;
  error?: { code: string; message: string };
}

async function seedRuns(runs: SeedRun[]): Promise<string[]> {
  const now = Date.now();
  const rows = runs.map((r) => {
    const created = new Date(now - r.ago);
    const started = new Date(created.getTime() + 200);
    return { id: randomUUID(), workflow: r.workflow, status: r.status, created, started, finished: new Date(started.getTime() + r.runMs), error: r.error ?? null };
  });
  await platform.pool.query(
    `INSERT INTO ${schema()}.runs (id, org_id, workflow_id, workflow_version, status, input, started_by_kind, started_by_id, created_at, started_at, finished_at, error)
     SELECT r.id, $2, r.workflow, 1, r.status, '{}', 'user', 'seed', r.created, r.started, r.finished, r.error
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, workflow uuid, status text, created timestamptz, started timestamptz, finished timestamptz, error jsonb)`,
    [JSON.stringify(rows), orgId],
  );
  return rows.map((r) => r.id);
}

/** A model request of a run, `ago` ms before now. */
async function seedModelCalls(calls: Array<{ run: string; workflow: string; provider: string; model: string; ago: number; prompt: number; completion: number; cost: number; failed?: boolean }>) {
  const now = Date.now();
  await platform.pool.query(
    `INSERT INTO ${schema()}.model_calls (id, org_id, run_id, task_id, attempt_id, workflow_id, provider, model, requested_model, prompt_tokens, completion_tokens, ttft_ms, duration_ms, tokens_per_second, cost_usd, error_code, created_at)
     SELECT gen_random_uuid(), $2, c.run, gen_random_uuid(), gen_random_uuid(), c.workflow, c.provider, c.model, c.model, c.prompt, c.completion, 100, 1000, 50, c.cost, c.error, c.created
       FROM jsonb_to_recordset($1::jsonb) AS c(run uuid, workflow uuid, provider text, model text, prompt bigint, completion bigint, cost numeric, error text, created timestamptz)`,
    [JSON.stringify(calls.map((c) => ({ ...c, error: c.failed ? 'PROVIDER_HTTP_5XX' : null, created: new Date(now - c.ago) }))), orgId],
  );
}

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({ services: ['identity', 'orchestration'], workers: 0, env: { gateway: { WEB_DIST_DIR } } });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  token = (await api<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: first.email, password: first.password } })).login.accessToken;
  const create = async (name: string) => (await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps: [{ id: 'a', capability: 'noop' }] } })).createWorkflow.id;
  nightly = await create('nightly-report');
  hourly = await create('hourly-sync');
  orgId = (await platform.pool.query<{ org_id: string }>(`SELECT org_id FROM ${schema()}.workflows WHERE id = $1`, [nightly])).rows[0]!.org_id;

  // Seven days of runs: 6 succeeded, 3 timed out (the latest 1 h ago), 1 failed on a 503, 1 cancelled; and one 10 days ago (outside 7 days).
  const [usageRun] = await seedRuns([
    { workflow: nightly, status: 'SUCCEEDED', ago: 6 * DAY, runMs: 2_000 },
    { workflow: nightly, status: 'SUCCEEDED', ago: 5 * DAY, runMs: 3_000 },
    { workflow: nightly, status: 'SUCCEEDED', ago: 4 * DAY, runMs: 4_000 },
    { workflow: nightly, status: 'FAILED', ago: 4 * DAY - HOUR, runMs: 30_000, error: { code: 'TIMEOUT', message: 'step "a" failed: took longer than 30 s' } },
    { workflow: nightly, status: 'FAILED', ago: 2 * DAY, runMs: 30_000, error: { code: 'TIMEOUT', message: 'step "a" failed: took longer than 30 s' } },
    { workflow: nightly, status: 'FAILED', ago: HOUR, runMs: 30_000, error: { code: 'TIMEOUT', message: 'step "a" failed: took longer than 30 s (latest)' } },
    { workflow: hourly, status: 'SUCCEEDED', ago: 3 * DAY, runMs: 500 },
    { workflow: hourly, status: 'SUCCEEDED', ago: 2 * DAY, runMs: 500 },
    { workflow: hourly, status: 'SUCCEEDED', ago: DAY, runMs: 500 },
    { workflow: hourly, status: 'FAILED', ago: DAY - HOUR, runMs: 100, error: { code: 'HTTP_5XX', message: 'step "a" failed: 503 Service Unavailable' } },
    { workflow: hourly, status: 'CANCELLED', ago: 2 * HOUR, runMs: 100 },
    { workflow: nightly, status: 'SUCCEEDED', ago: 10 * DAY, runMs: 2_000 },
  ]);
  // Model usage on three days: openai $1.50 and 1,500 tokens, local $0 with 3,000 tokens (one failed request).
  await seedModelCalls([
    { run: usageRun!, workflow: nightly, provider: 'openai', model: 'gpt-4o', ago: 6 * DAY, prompt: 400, completion: 100, cost: 0.5 },
    { run: usageRun!, workflow: nightly, provider: 'openai', model: 'gpt-4o', ago: 3 * DAY, prompt: 800, completion: 200, cost: 1 },
    { run: usageRun!, workflow: nightly, provider: 'local', model: 'llama-3', ago: 3 * DAY, prompt: 2_000, completion: 1_000, cost: 0 },
    { run: usageRun!, workflow: nightly, provider: 'local', model: 'llama-3', ago: 2 * DAY, prompt: 0, completion: 0, cost: 0, failed: true },
  ]);
  await api('mutation($name: String!, $value: String!) { createSecret(name: $name, value: $value) { id } }', { name: 'LLM_API_KEY', value: 'sk-test-not-real' });

  browser = await launchBrowser();
  page = await signedInPage(browser, origin, first);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('usage, model providers and metrics pages', () => {
  it('charts the seeded usage per day by provider, totals it, and downloads the same range as CSV', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    const totals = page.locator('dl[aria-label="Usage totals"]');
    await totals.getByText('$1.50').waitFor();
    expect(await totals.textContent()).toContain('4.5K');
    const chart = page.locator('figure[aria-label="Cost per day by provider"]');
    await chart.locator('.recharts-bar-rectangle').first().waitFor();
    // Cost: openai on two days (local costs nothing, so it draws no bar).
    expect(await chart.getAttribute('data-series')).toBe('1');
    expect(await chart.locator('.recharts-bar-rectangle path, path.recharts-rectangle').count()).toBe(2);
    const openai = page.locator('tr[data-usage-key="openai"]');
    expect(await openai.textContent()).toContain('$1.50');
    const local = page.locator('tr[data-usage-key="local"]');
    expect((await local.locator('td').nth(2).textContent())?.trim()).toBe('1');

    // Tokens, stacked by model: both models draw.
    await page.getByLabel('Show').selectOption('totalTokens');
    await page.getByLabel('Stack by').selectOption('MODEL');
    const tokens = page.locator('figure[aria-label="Tokens per day by model"]');
    await tokens.waitFor();
    expect(await tokens.getAttribute('data-series')).toBe('2');
    await page.screenshot({ path: join(shots, 'usage-01-tokens-by-model.png'), fullPage: true });

    await page.getByLabel('CSV rows').selectOption('PROVIDER');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^usage-provider-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const [header, ...rows] = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    expect(header).toBe('key,name,calls,failedCalls,promptTokens,completionTokens,totalTokens,costUsd,gpuSeconds');
    expect(rows).toEqual(['local,,2,1,2000,1000,3000,0,0', 'openai,,2,0,1200,300,1500,1.5,0']);
  });

  it('adds a model provider with its key chosen from secrets, showing an invalid URL’s error under the field', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Model providers' }).click();
    await page.getByRole('heading', { name: 'Model providers', level: 1 }).waitFor();
    await page.getByText('No model providers yet').waitFor();
    await page.getByRole('button', { name: 'Add provider' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('gpu-box');
    await dialog.getByLabel('Base URL').fill('ftp://models.internal/v1');
    await dialog.getByLabel('Input price (US$ per 1M tokens)').fill('cheap');
    await dialog.getByRole('button', { name: 'Add provider' }).click();
    // The form's own check: a price must be a number (nothing was sent yet).
    await dialog.getByText('The input price must be a number of US dollars, 0 or more').waitFor();
    await dialog.getByLabel('Input price (US$ per 1M tokens)').fill('0.5');
    await dialog.getByLabel('Output price (US$ per 1M tokens)').fill('1.5');
    await dialog.getByRole('button', { name: 'Add provider' }).click();
    // The API's check: the URL is not http(s); its message shows under the Base URL field, marked invalid.
    await dialog.getByText(/expects an http\(s\) base URL/).waitFor();
    expect(await dialog.getByLabel('Base URL').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: join(shots, 'providers-01-invalid-url.png'), fullPage: true });

    await dialog.getByLabel('Base URL').fill('https://llm.example.com/v1');
    await dialog.getByLabel('API key').selectOption('LLM_API_KEY');
    await dialog.getByLabel('Requests per minute').fill('120');
    await dialog.getByRole('button', { name: 'Add alias' }).click();
    await dialog.getByLabel('Alias 1', { exact: true }).fill('small');
    await dialog.getByLabel('Model 1').fill('llama-3-8b');
    await dialog.getByRole('button', { name: 'Add provider' }).click();
    const row = page.locator('tr[data-provider="gpu-box"]');
    await row.waitFor();
    await dialog.waitFor({ state: 'detached' });
    const text = await row.textContent();
    for (const part of ['https://llm.example.com/v1', 'LLM_API_KEY', 'small', '$0.50 / $1.50', '120 req/min']) expect(text).toContain(part);
    // The key's value is nowhere on the page.
    expect(await page.content()).not.toContain('sk-test-not-real');
    const stored = await api<{ llmProviders: Array<{ name: string; apiKeySecret: string; models: Array<{ alias: string; model: string }>; requestsPerMinute: number }> }>('{ llmProviders { name apiKeySecret models { alias model } requestsPerMinute } }', {});
    expect(stored.llmProviders).toEqual([{ name: 'gpu-box', apiKeySecret: 'LLM_API_KEY', models: [{ alias: 'small', model: 'llama-3-8b' }], requestsPerMinute: 120 }]);

    // Edit: clear the limit; then delete.
    await row.getByRole('button', { name: 'Edit' }).click();
    await dialog.getByLabel('Requests per minute').fill('');
    await dialog.getByRole('button', { name: 'Save provider' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('none', { exact: true }).last().waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete provider' }).click();
    await page.getByText('No model providers yet').waitFor();
  });

  it('charts seeded runs of the last 7 days by status, with their totals and failures by code linking to the runs list', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Metrics' }).click();
    await page.getByRole('heading', { name: 'Metrics', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Last 7 days' }).click();
    const totals = page.locator('dl[aria-label="Run totals"]');
    // 11 runs in the last 7 days (the one 10 days ago is out): 6 succeeded, 4 failed, 1 cancelled; 4 of 11 finished failed.
    await totals.getByText('6 succeeded · 4 failed').waitFor();
    expect(await totals.locator('dd').first().textContent()).toBe('11');
    expect(await totals.textContent()).toContain('36.4%');
    const chart = page.locator('figure[aria-label="Runs by status"]');
    await chart.locator('.recharts-bar-rectangle').first().waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(168);
    await page.locator('figure[aria-label="Run duration and queue wait"] .recharts-line').first().waitFor();
    const timeout = page.locator('tr[data-failure-code="TIMEOUT"]');
    expect(await timeout.locator('td').nth(1).textContent()).toContain('3');
    expect(await timeout.textContent()).toContain('took longer than 30 s (latest)');
    expect(await page.locator('tr[data-failure-code="HTTP_5XX"] td').nth(1).textContent()).toContain('1');
    await page.screenshot({ path: join(shots, 'metrics-01-last-7-days.png'), fullPage: true });

    // One workflow: its runs only.
    await page.getByLabel('Workflow').selectOption({ label: 'hourly-sync' });
    await totals.getByText('3 succeeded · 1 failed').waitFor();
    expect(await page.locator('tr[data-failure-code="TIMEOUT"]').count()).toBe(0);

    // From a failure code to the runs list, filtered to failed runs of the workflow since the code first failed.
    await page.locator('tr[data-failure-code="HTTP_5XX"]').getByRole('link', { name: 'Failed runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    const url = new URL(page.url());
    expect(url.searchParams.get('workflowId')).toBe(hourly);
    expect(url.searchParams.getAll('status').join()).toContain('FAILED');
    await page.locator('table tbody tr', { hasText: 'hourly-sync' }).first().waitFor();
    expect(await page.locator('table tbody tr').count()).toBe(1);
  });
});
