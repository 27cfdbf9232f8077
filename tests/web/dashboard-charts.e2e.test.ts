import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { Locator, Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Charts on the dashboard, workflow, app and workers pages (issue 12) in Chromium against the platform
 * (identity, catalog and orchestration in their own processes, the gateway serving the built app).
 * Runs, attempts and slot samples are written into orchestration's tables with the times the test
 * needs (days in the past), as the engine and its sampler would have left them: runs of this
 * organization across 7 days, and runs of another organization in the same tables that must never be
 * counted. Two local HTTP servers stand in for apps' health endpoints (outside services).
 */

let platform: Platform;
let browser: Browser;
let page: Page;
let origin: string;
let token: string;
let orgId: string;
let nightly: string;
let hourly: string;
let appId: string;
const otherOrg = randomUUID();
const shots = screenshotDir();
const servers: Server[] = [];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data || res.errors) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const schema = () => `"${platform.schemas.orchestration}"`;

interface SeedRun {
  org?: string;
  workflow: string;
  app?: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  ago: number;
}

async function seedRuns(runs: SeedRun[]): Promise<string[]> {
  const now = Date.now();
  const rows = runs.map((r) => {
    const created = new Date(now - r.ago);
    const started = new Date(created.getTime() + 500);
    return { id: randomUUID(), org: r.org ?? orgId, workflow: r.workflow, app: r.app ?? null, status: r.status, created, started, finished: new Date(started.getTime() + 2_000), error: r.status === 'FAILED' ? { code: 'TIMEOUT', message: 'took too long' } : null };
  });
  await platform.pool.query(
    `INSERT INTO ${schema()}.runs (id, org_id, workflow_id, workflow_version, app_id, status, input, started_by_kind, started_by_id, created_at, started_at, finished_at, error)
     SELECT r.id, r.org, r.workflow, 1, r.app, r.status, '{}', 'user', 'seed', r.created, r.started, r.finished, r.error
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, org uuid, workflow uuid, app uuid, status text, created timestamptz, started timestamptz, finished timestamptz, error jsonb)`,
    [JSON.stringify(rows)],
  );
  return rows.map((r) => r.id);
}

/** One task of each run with one attempt on `workerId` (as the dispatcher would have left them). */
async function seedAttempts(org: string, runIds: string[], workerId: string): Promise<void> {
  await platform.pool.query(
    `WITH t AS (
       INSERT INTO ${schema()}.tasks (id, org_id, run_id, step_id, position, capability, status, depends_on, pool, timeout_ms, retry, max_attempts, attempts, created_at)
       SELECT gen_random_uuid(), $1, r.id, 'a', 0, 'noop', r.status, '{}', 'gpu', 60000, '{}', 1, 1, r.created_at FROM ${schema()}.runs r WHERE r.id = ANY($2::uuid[])
       RETURNING id, run_id, created_at)
     INSERT INTO ${schema()}.task_attempts (id, org_id, run_id, task_id, attempt, status, worker_id, queued_at, available_at, started_at, finished_at)
     SELECT gen_random_uuid(), $1, t.run_id, t.id, 1, 'SUCCEEDED', $3, t.created_at, t.created_at, t.created_at, t.created_at + interval '1 second' FROM t`,
    [org, runIds, workerId],
  );
}

/** A local server standing in for an app's health endpoint (an outside service). */
async function healthEndpoint(status: number): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status).end(status === 200 ? 'ok' : 'down'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/healthz`;
}

/** The totals of a runs panel, found by its name. */
const totalsOf = (name: string): Locator => page.locator(`dl[aria-label="${name}: totals"]`);
const panel = (id: string): Locator => page.locator(`section#${id}`);

async function chooseRange(panelId: string, label: string): Promise<void> {
  await panel(panelId).getByRole('button', { name: label }).click();
  await panel(panelId).getByRole('button', { name: label, pressed: true }).waitFor();
}

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration'],
    workers: 0,
    env: { gateway: { WEB_DIST_DIR }, catalog: { CATALOG_ALLOW_PRIVATE_NETWORK: 'true', CATALOG_HEALTH_INTERVAL_MS: '200', CATALOG_HEALTH_DOWN_AFTER: '1' } },
  });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  token = (await api<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: first.email, password: first.password } })).login.accessToken;
  const createApp = async (slug: string, name: string, healthCheckUrl?: string) =>
    (await api<{ createApp: { id: string } }>('mutation($input: CreateAppInput!) { createApp(input: $input) { id } }', { input: { slug, name, ...(healthCheckUrl ? { healthCheckUrl } : {}) } })).createApp.id;
  appId = await createApp('summarizer', 'Summarizer', await healthEndpoint(200));
  await createApp('translator', 'Translator', await healthEndpoint(503));
  await createApp('drafts', 'Drafts');
  const create = async (name: string) => (await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps: [{ id: 'a', capability: 'noop' }] } })).createWorkflow.id;
  nightly = await create('nightly-report');
  hourly = await create('hourly-sync');
  orgId = (await platform.pool.query<{ org_id: string }>(`SELECT org_id FROM ${schema()}.workflows WHERE id = $1`, [nightly])).rows[0]!.org_id;

  // This organization, across 7 days: nightly-report 5 runs (4 of the Summarizer app), hourly-sync 4; one 10 days ago (outside 7 days).
  const ours = await seedRuns([
    { workflow: nightly, app: appId, status: 'SUCCEEDED', ago: 6 * DAY },
    { workflow: nightly, app: appId, status: 'SUCCEEDED', ago: 5 * DAY },
    { workflow: nightly, app: appId, status: 'FAILED', ago: 3 * DAY },
    { workflow: nightly, app: appId, status: 'SUCCEEDED', ago: 2 * HOUR },
    { workflow: nightly, status: 'FAILED', ago: 30 * 60_000 },
    { workflow: hourly, status: 'SUCCEEDED', ago: 4 * DAY },
    { workflow: hourly, status: 'SUCCEEDED', ago: 2 * DAY },
    { workflow: hourly, status: 'CANCELLED', ago: 20 * HOUR },
    { workflow: hourly, status: 'SUCCEEDED', ago: 3 * HOUR },
    { workflow: nightly, app: appId, status: 'SUCCEEDED', ago: 10 * DAY },
  ]);
  // Another organization in the same tables, with the same times, the same app id, on the same worker: never counted here.
  const theirWorkflow = randomUUID();
  await platform.pool.query(`INSERT INTO ${schema()}.workflows (id, org_id, name, created_by) VALUES ($1, $2, 'theirs', 'seed')`, [theirWorkflow, otherOrg]);
  const theirs = await seedRuns(Array.from({ length: 7 }, (_, i) => ({ org: otherOrg, workflow: theirWorkflow, app: appId, status: 'FAILED' as const, ago: (i + 1) * 20 * HOUR })));
  // Attempts on worker gpu-box-1: three of ours (one in the last 24 h), and all of theirs.
  await seedAttempts(orgId, [ours[1]!, ours[2]!, ours[3]!], 'gpu-box-1');
  await seedAttempts(otherOrg, theirs, 'gpu-box-1');
  await platform.pool.query(
    `INSERT INTO ${schema()}.workers (id, endpoint, pool, capabilities, slots_total, slots_free, status, lease_expires_at, left_at) VALUES ('gpu-box-1', '127.0.0.1:1', 'gpu', '{noop}', 4, 4, 'OFFLINE', now(), now())`,
  );
  // Slot samples of the last 24 hours (one per 5 minutes): pool gpu 3 of 4 slots busy, pool default 1 of 8.
  await platform.pool.query(
    `INSERT INTO ${schema()}.pool_slot_usage (at, pool, busy_slots, total_slots, workers)
     SELECT date_trunc('minute', now()) - g * interval '5 minutes', p.pool, p.busy, p.total, 1
       FROM generate_series(1, 280) AS g CROSS JOIN (VALUES ('gpu', 3, 4), ('default', 1, 8)) AS p(pool, busy, total)`,
  );

  browser = await launchBrowser();
  page = await signedInPage(browser, origin, first);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  for (const s of servers) s.close();
});

describe('charts on the dashboard, workflow, app and workers pages', () => {
  it('charts the organization’s runs for the chosen range on the dashboard, app health and slot usage beside them, never another organization’s runs', async () => {
    // The apps' health as the catalog probes it: one up, one down, one never probed.
    await eventually(
      async () => {
        const { apps } = await api<{ apps: { edges: Array<{ node: { slug: string; health: { status: string } | null } }> } }>('{ apps(first: 10) { edges { node { slug health { status } } } } }');
        // An app without a health-check URL has no health (null): the dashboard shows it as unknown.
        const status = Object.fromEntries(apps.edges.map((e) => [e.node.slug, e.node.health?.status ?? 'UNKNOWN']));
        return status['summarizer'] === 'UP' && status['translator'] === 'DOWN';
      },
      { what: 'the apps probed', timeoutMs: 20_000 },
    );
    await page.goto(`${origin}/`);
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();

    // Last 24 h (the default): ours in the last day are 4 (2 h, 30 min, 20 h, 3 h ago); theirs would add 1.
    const totals = totalsOf('Runs over time');
    await totals.getByText('2 succeeded · 1 failed').waitFor();
    expect(await totals.locator('dd').first().textContent()).toBe('4');
    // Last 7 days: 9 of ours (the one 10 days ago is out): 6 succeeded, 2 failed, 1 cancelled; none of the other organization's 7 failures.
    await chooseRange('dashboard-runs', 'Last 7 days');
    await totals.getByText('6 succeeded · 2 failed').waitFor();
    expect(await totals.locator('dd').first().textContent()).toBe('9');
    const chart = page.locator('figure[aria-label="Runs over time: by status"]');
    await chart.locator('.recharts-bar-rectangle').first().waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(168);
    // Durations and queue wait: three lines (sparse here, one run an hour at most, so they draw as dots).
    const times = page.locator('figure[aria-label="Runs over time: duration and queue wait"]');
    await times.locator('.recharts-line').first().waitFor({ state: 'attached' });
    expect(await times.getAttribute('data-series')).toBe('3');
    // Last hour: only the failure 30 minutes ago.
    await chooseRange('dashboard-runs', 'Last hour');
    await totals.getByText('0 succeeded · 1 failed').waitFor();

    // App health: up / down / unknown per app, down first.
    const health = page.locator('dl[aria-label="App health"]');
    expect((await health.locator('dd').allTextContents()).map((t) => t.trim())).toEqual(['1', '1', '1']);
    const listed = page.locator('ul[aria-label="Apps by health"] li');
    expect(await listed.evaluateAll((items) => items.map((li) => [li.getAttribute('data-app'), li.querySelector('[data-status]')?.getAttribute('data-status')]))).toEqual([
      ['translator', 'DOWN'],
      ['drafts', 'UNKNOWN'],
      ['summarizer', 'UP'],
    ]);

    // Slot usage per pool: both pools, busiest first, with their mean busy / total slots.
    const slots = page.locator('section#dashboard-slots');
    // Flat lines (constant samples) have an empty box, which Playwright calls hidden: wait for them to be drawn.
    await slots.locator('figure[aria-label="Slot usage per pool: busy and total slots"] .recharts-line').first().waitFor({ state: 'attached' });
    expect(await slots.locator('li[data-pool]').evaluateAll((items) => items.map((li) => li.getAttribute('data-pool')))).toEqual(['gpu', 'default']);
    expect(await slots.locator('li[data-pool="gpu"]').textContent()).toContain('mean 3.0 / 4.0 slots busy (75.0%)');

    await chooseRange('dashboard-runs', 'Last 7 days');
    await totals.getByText('6 succeeded · 2 failed').waitFor();
    await page.screenshot({ path: join(shots, 'dashboard-01-charts.png'), fullPage: true });
  });

  it('counts only that workflow’s runs on the workflow page, and only that app’s on the app page', async () => {
    await page.goto(`${origin}/workflows/${hourly}`);
    const totals = totalsOf('Runs of hourly-sync over time');
    await chooseRange('workflow-runs', 'Last 7 days');
    await totals.getByText('3 succeeded · 0 failed').waitFor();
    expect(await totals.locator('dd').first().textContent()).toBe('4');
    await page.screenshot({ path: join(shots, 'dashboard-02-workflow-runs.png'), fullPage: true });

    await page.goto(`${origin}/workflows/${nightly}`);
    await chooseRange('workflow-runs', 'Last 7 days');
    await totalsOf('Runs of nightly-report over time').getByText('3 succeeded · 2 failed').waitFor();
    await chooseRange('workflow-runs', 'Last 30 days');
    await totalsOf('Runs of nightly-report over time').getByText('4 succeeded · 2 failed').waitFor();

    // The Summarizer app: its 4 runs of the last 7 days (the other organization's runs carry its id too, and do not count).
    await page.goto(`${origin}/apps/${appId}`);
    await chooseRange('app-runs', 'Last 7 days');
    await totalsOf('Runs of Summarizer over time').getByText('3 succeeded · 1 failed').waitFor();
    expect(await totalsOf('Runs of Summarizer over time').locator('dd').first().textContent()).toBe('4');
  });

  it('charts a pool’s slot usage and the runs that ran on a worker on the workers page', async () => {
    await page.goto(`${origin}/workers`);
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    await page.getByLabel('Pool', { exact: true }).selectOption('gpu');
    const slots = page.locator('section#workers-slots');
    // The list shows every pool until the chosen pool's samples arrive: wait for it to be that pool's alone.
    const pools = () => slots.locator('li[data-pool]').evaluateAll((items) => items.map((li) => li.getAttribute('data-pool')));
    await eventually(async () => JSON.stringify(await pools()) === JSON.stringify(['gpu']), { timeoutMs: 30_000, what: 'the slot usage of pool gpu alone' });
    expect(await pools()).toEqual(['gpu']);

    await page.getByLabel('Runs on worker').selectOption('gpu-box-1');
    const totals = totalsOf('Runs on gpu-box-1');
    await chooseRange('worker-runs', 'Last 7 days');
    // Ours on gpu-box-1: 3 (the other organization's 7 on the same worker do not count).
    await totals.getByText('2 succeeded · 1 failed').waitFor();
    expect(await totals.locator('dd').first().textContent()).toBe('3');
    await chooseRange('worker-runs', 'Last 24 hours');
    await totals.getByText('1 succeeded · 0 failed').waitFor();
    await page.screenshot({ path: join(shots, 'dashboard-03-workers.png'), fullPage: true });
  });
});
