import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, ensureWebBuilt, launchBrowser, screenshotDir, WEB_DIST_DIR, type Browser } from './browser';

/**
 * The run page at scale, in real Chromium against the whole platform (identity, catalog,
 * orchestration, a worker, the gateway serving the built app): a live run of 200 tasks is followed
 * from its events alone — counts and colours change while the network log shows no fetch of the
 * whole run (`query Run`) until it ends.
 */

let platform: Platform;
let browser: Browser;
let profile: BrowserContext;
let page: Page;
let origin: string;
let token: string;
const shots = screenshotDir();

/** A layered DAG of `count` sleep steps: `width` per column, each depending on two of the column before. */
function layeredSteps(count: number, width: number, ms: number): unknown[] {
  return Array.from({ length: count }, (_, i) => {
    const layer = Math.floor(i / width);
    const col = i % width;
    const dependsOn = layer === 0 ? [] : [...new Set([`s${(layer - 1) * width + col}`, `s${(layer - 1) * width + ((col + 1) % width)}`])];
    return { id: `s${i}`, capability: 'sleep', dependsOn, input: { ms, progressEveryMs: 100 } };
  });
}

async function createWorkflow(name: string, steps: unknown[]): Promise<string> {
  const res = await platform.graphql<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps } }, { token });
  if (!res.data) throw new Error(`createWorkflow failed: ${JSON.stringify(res.errors)}`);
  return res.data.createWorkflow.id;
}

async function startRun(workflowId: string): Promise<string> {
  const res = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId } }, { token });
  if (!res.data) throw new Error(`startRun failed: ${JSON.stringify(res.errors)}`);
  return res.data.startRun.run.id;
}

/** Run in the page (a string: this workspace's types have no DOM): records the counts' values and the graph's colour changes. */
const OBSERVE_CHANGES = `(() => {
  const w = globalThis;
  w.__succeededSeen = new Set();
  w.__colourChanges = 0;
  const countsEl = document.querySelector('[data-testid="task-counts"]');
  new MutationObserver(() => w.__succeededSeen.add(Number(countsEl.getAttribute('data-succeeded')))).observe(countsEl, { attributes: true });
  const graph = document.querySelector('[data-testid="dag-viewport"]');
  new MutationObserver((records) => { w.__colourChanges += records.length; }).observe(graph, { attributes: true, subtree: true, attributeFilter: ['data-status', 'fill'] });
})()`;

/** The GraphQL operations the page sent, by name, in order. */
function recordOperations(p: Page): { names: string[]; stop: () => void } {
  const names: string[] = [];
  const onRequest = (request: Request) => {
    const body = request.postData();
    if (!request.url().endsWith('/graphql') || !body) return;
    const match = /^\s*(query|mutation)\s+(\w+)/.exec((JSON.parse(body) as { query?: string }).query ?? '');
    if (match) names.push(match[2]!);
  };
  p.on('request', onRequest);
  return { names, stop: () => p.off('request', onRequest) };
}

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      orchestration: { EVENT_FLUSH_INTERVAL_MS: '50' },
      worker: { WORKER_SLOTS: '8' },
    },
  });
  const admin = platform.firstAdmin;
  if (!admin) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: admin.email, password: admin.password } });
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.errors)}`);
  token = login.data.login.accessToken;
  await eventually(
    async () => {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, { token });
      return res.data?.workers.some((w) => w.status === 'ONLINE') === true;
    },
    { timeoutMs: 30_000, what: 'the worker to register' },
  );
  browser = await launchBrowser();
  profile = await browser.newProfile();
  page = profile.pages()[0] ?? (await profile.newPage());
  await page.goto(`${origin}/sign-in`);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('the run page', () => {
  it('follows a running 200-task run from its events: counts and colours change, the whole run is not fetched again until it ends', async () => {
    const workflowId = await createWorkflow(`live-200-${Date.now()}`, layeredSteps(200, 20, 400));
    const operations = recordOperations(page);
    const runId = await startRun(workflowId);
    await page.goto(`${origin}/runs/${runId}`);
    const counts = page.getByTestId('task-counts');
    await counts.waitFor();
    // Every change the page makes to the counts and to the graph's colours, as it makes them.
    await page.evaluate(OBSERVE_CHANGES);
    // Midway: some done, some not, and the node of a done step is green.
    await eventually(async () => Number(await counts.getAttribute('data-succeeded')) >= 40, { timeoutMs: 120_000, what: '40 tasks to succeed on the page' });
    const midway = await page.locator('h1 [data-status]').first().getAttribute('data-status');
    await page.screenshot({ path: join(shots, 'run-page-live-200.png') });
    const doneNode = page.locator('svg g[data-step="s0"]');
    expect(await doneNode.getAttribute('data-status')).toBe('SUCCEEDED');
    // Green: the light fill with its labels, or the full colour when zoomed out too far for labels.
    expect(['#ecfdf5', '#10b981']).toContain(await doneNode.locator('rect').first().getAttribute('fill'));
    await page.locator('h1 [data-status="SUCCEEDED"]').waitFor({ timeout: 120_000 });
    expect(await counts.getAttribute('data-succeeded')).toBe('200');
    expect(await counts.textContent()).toContain('200 / 200 done');
    const seen = await page.evaluate(() => ({ succeeded: [...((globalThis as any).__succeededSeen as Set<number>)], colourChanges: (globalThis as any).__colourChanges as number }));
    operations.stop();

    // The counts went up step by step and the graph's boxes changed colour live (200 tasks, each at least queued → running → succeeded).
    expect(midway).toBe('RUNNING');
    expect(seen.succeeded.filter((n) => n > 0 && n < 200).length).toBeGreaterThan(5);
    expect(seen.colourChanges).toBeGreaterThanOrEqual(300);
    // The run was fetched when the page opened and once more when it ended: never on a task's start or end.
    const runFetches = operations.names.filter((n) => n === 'Run');
    process.stdout.write(`run page e2e: operations while the run was live: ${operations.names.join(", ")}\n`);
    expect(runFetches.length).toBeGreaterThanOrEqual(1);
    expect(runFetches.length).toBeLessThanOrEqual(2);
  });
});
