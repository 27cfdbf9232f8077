import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { Page, Request } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { accessTokenOf, appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, waitForWorker, WEB_DIST_DIR } from './browser';

/**
 * The run page at scale, in real Chromium against the whole platform (identity, catalog,
 * orchestration, a worker, the gateway serving the built app): a live run of 200 tasks is followed
 * from its events alone — counts and colours change while the network log shows no fetch of the
 * whole run (`query Run`) until it ends, over a compressed WebSocket; a static fan-out of 50 steps is
 * one box counting them, which opens into its steps; and a run of 2,199 tasks (199 steps and a forEach of 2,000
 * items) stays usable: right counts, the forEach as one box that expands into its items, a failed
 * item found by the filter, a step found by search opening in the drawer, zoom and fit. Screenshots
 * at 1440 and 1024 px go to $WEB_SCREENSHOT_DIR (copies of a run's are in docs/screenshots/).
 */

let platform: Platform;
let browser: Browser;
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

async function startRun(workflowId: string, input?: unknown): Promise<string> {
  const res = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId, ...(input === undefined ? {} : { input }) } }, { token });
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
  token = await accessTokenOf(platform, admin);
  await waitForWorker(platform, { token });
  browser = await launchBrowser();
  page = await signedInPage(browser, origin, admin);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('the run page', () => {
  it('follows a running 200-task run from its events: counts and colours change, the whole run is not fetched again until it ends', async () => {
    const workflowId = await createWorkflow(`live-200-${Date.now()}`, layeredSteps(200, 20, 400));
    const operations = recordOperations(page);
    // What the page and the gateway agreed on: the subscription's WebSocket compressed, the run's answer too.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const wsExtensions: string[] = [];
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      const headers = e.response.headers as Record<string, string>;
      wsExtensions.push(Object.entries(headers).find(([k]) => k.toLowerCase() === 'sec-websocket-extensions')?.[1] ?? '');
    });
    const runId = await startRun(workflowId);
    const runAnswer = page.waitForResponse((r) => r.url().endsWith('/graphql') && /query Run\b/.test(r.request().postData() ?? ''));
    await page.goto(`${origin}/runs/${runId}`);
    expect((await (await runAnswer).allHeaders())['content-encoding']).toMatch(/^(br|gzip)$/);
    const counts = page.getByTestId('task-counts');
    await counts.waitFor();
    // Every change the page makes to the counts and to the graph's colours, as it makes them.
    await page.evaluate(OBSERVE_CHANGES);
    // Midway: some done, some not, and the node of a done step is green.
    await eventually(async () => Number(await counts.getAttribute('data-succeeded')) >= 40, { timeoutMs: 120_000, what: '40 tasks to succeed on the page' });
    const midway = await page.locator('h1 [data-status]').first().getAttribute('data-status');
    // While the run is live, the whole run was fetched once (when the page opened) and never again.
    const liveOperations = [...operations.names];
    await page.screenshot({ path: join(shots, 'run-page-live-200.png') });
    const doneNode = page.locator('svg g[data-step="s0"]');
    expect(await doneNode.getAttribute('data-status')).toBe('SUCCEEDED');
    // Green: the light fill with its labels, or the full colour when zoomed out too far for labels (fills are CSS variables: the computed colour).
    expect(['rgb(236, 253, 245)', 'rgb(16, 185, 129)']).toContain(await doneNode.locator('rect').first().evaluate((el) => (globalThis as any).getComputedStyle(el).fill as string));
    await page.locator('h1 [data-status="SUCCEEDED"]').waitFor({ timeout: 120_000 });
    expect(await counts.getAttribute('data-succeeded')).toBe('200');
    expect(await counts.textContent()).toContain('200 / 200 done');
    const seen = await page.evaluate(() => ({ succeeded: [...((globalThis as any).__succeededSeen as Set<number>)], colourChanges: (globalThis as any).__colourChanges as number }));
    operations.stop();
    await cdp.detach();
    expect(wsExtensions.length).toBeGreaterThanOrEqual(1);
    for (const extensions of wsExtensions) expect(extensions).toContain('permessage-deflate');

    expect(liveOperations.filter((n) => n === 'Run')).toEqual(['Run']);
    // Task starts and ends fetch no task either (only an open task's drawer does).
    expect(liveOperations.filter((n) => n === 'TaskDetail')).toEqual([]);
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

  it('draws a static fan-out of 50 steps as one box counting them by status, which opens into its steps and closes again', async () => {
    const branches = Array.from({ length: 50 }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['start'], input: {} }));
    const steps = [{ id: 'start', capability: 'noop', input: {} }, ...branches, { id: 'join', capability: 'noop', dependsOn: branches.map((b) => b.id), input: {} }];
    const workflowId = await createWorkflow(`fan-out-50-${Date.now()}`, steps);
    const runId = await startRun(workflowId);
    await page.goto(`${origin}/runs/${runId}`);
    const group = page.locator('svg g[data-group="fan-out"]');
    await group.waitFor();
    await page.locator('h1 [data-status="SUCCEEDED"]').waitFor({ timeout: 120_000 });
    // One box for the 50 branches (and the start and the join): no box of a branch of its own.
    expect(await group.count()).toBe(1);
    expect(await group.getAttribute('data-members')).toBe('50');
    await eventually(async () => (await group.getAttribute('data-items-succeeded')) === '50', { timeoutMs: 30_000, what: 'the fan-out box to count 50 succeeded' });
    expect(await group.getAttribute('data-items-total')).toBe('50');
    expect(await group.getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await group.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('svg g[data-step="b0"]').count()).toBe(0);
    expect(await page.locator('svg g[data-step]').count()).toBe(3);
    expect(await page.getByTestId('task-counts').getAttribute('data-total')).toBe('52');
    // The table still lists every task.
    await page.getByPlaceholder('Step id').fill('b49');
    await page.locator('tr[data-step="b49"]').waitFor();
    await page.getByPlaceholder('Step id').fill('');
    await page.screenshot({ path: join(shots, 'run-page-fan-out-closed.png') });

    // Activated (here with the keyboard: Enter on the focused box), it opens into its 50 steps.
    await group.focus();
    await page.keyboard.press('Enter');
    await page.locator('svg g[data-step="b49"]').waitFor();
    expect(await page.locator('svg g[data-group="fan-out"]').count()).toBe(0);
    expect(await page.locator('svg g[data-step]').count()).toBe(52);
    expect(await page.locator('svg g[data-step="b7"]').getAttribute('data-status')).toBe('SUCCEEDED');
    // Its first step has the graph's tab stop, so the keyboard carries on from there.
    await eventually(async () => (await page.evaluate<string | null>("document.activeElement?.getAttribute('data-step') ?? null")) === 'b0', { timeoutMs: 5_000, what: 'the focus on the first step of the group' });
    // A step of the open group opens in the drawer like any other.
    await page.locator('svg g[data-step="b7"]').click();
    await page.getByTestId('task-drawer').getByText('b7', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: 'Close the task panel' }).click();
    await page.screenshot({ path: join(shots, 'run-page-fan-out-open.png') });

    // And closes again into one box.
    await page.getByRole('button', { name: 'Collapse fan-outs' }).click();
    await group.waitFor();
    expect(await page.locator('svg g[data-step]').count()).toBe(3);
  }, 180_000);

  it('keeps a run of 2,199 tasks usable: a forEach of 2,000 items as one box with live counts that expands into its items, search, drawer, zoom', async () => {
    // 199 quick steps in columns of 20, and a forEach of 2,000 items of which every 100th fails (onItemFailure CONTINUE).
    const statics = Array.from({ length: 199 }, (_, i) => {
      const layer = Math.floor(i / 20);
      const col = i % 20;
      const dependsOn = layer === 0 ? [] : [...new Set([`s${(layer - 1) * 20 + col}`, `s${(layer - 1) * 20 + ((col + 1) % 20)}`])].filter((d) => Number(d.slice(1)) < 199);
      return { id: `s${i}`, capability: 'noop', dependsOn, input: {} };
    });
    const each = {
      id: 'each',
      capability: 'transform',
      input: { value: '{{ item }}', operations: [{ op: 'select', fields: { n: '/n' } }] },
      forEach: { items: '{{ input.items }}', maxParallel: 100, onItemFailure: 'CONTINUE' },
      retry: { maxAttempts: 1 },
    };
    const items = Array.from({ length: 2_000 }, (_, n) => (n % 100 === 7 ? { bad: true } : { n }));
    const workflowId = await createWorkflow(`foreach-2000-${Date.now()}`, [...statics, each]);
    const operations = recordOperations(page);
    const runId = await startRun(workflowId, { items });
    await page.goto(`${origin}/runs/${runId}`);
    const group = page.locator('svg g[data-step="each"]');
    await group.waitFor();
    // The item counts the box showed, as they changed.
    await page.evaluate(`(() => {
      const w = globalThis; w.__itemsSeen = new Set();
      const node = document.querySelector('svg g[data-step="each"]');
      const record = () => w.__itemsSeen.add(Number(node.getAttribute('data-items-succeeded') ?? -1));
      record();
      new MutationObserver(record).observe(node, { attributes: true });
    })()`);
    await page.locator('h1 [data-status="SUCCEEDED"]').waitFor({ timeout: 300_000 });
    const counts = page.getByTestId('task-counts');
    await eventually(async () => (await counts.getAttribute('data-succeeded')) === '2179', { timeoutMs: 30_000, what: 'the counts after the run ended' });
    expect(await counts.getAttribute('data-total')).toBe('2199');
    expect(await counts.getAttribute('data-failed')).toBe('20');
    expect(await counts.textContent()).toContain('2,199 / 2,199 done, 20 failed');
    expect(await group.getAttribute('data-items-total')).toBe('2000');
    expect(await group.getAttribute('data-items-failed')).toBe('20');
    const seen = await page.evaluate<number[]>('[...globalThis.__itemsSeen]');
    operations.stop();
    process.stdout.write(`run page e2e (2,000 items): item counts seen on the box: ${seen.length}; operations: ${[...new Set(operations.names)].join(', ')}\n`);
    // Counted live from events (values between none and all), with the run fetched at open and at its end only.
    expect(seen.filter((n) => n > 0 && n < 1980).length).toBeGreaterThan(2);
    expect(operations.names.filter((n) => n === 'Run').length).toBeLessThanOrEqual(2);
    await page.screenshot({ path: join(shots, 'run-page-2000-1440.png') });

    // Zoom and fit.
    const viewport = page.getByTestId('dag-viewport');
    const fitted = Number(await viewport.getAttribute('data-scale'));
    await page.getByRole('button', { name: 'Zoom in' }).click();
    expect(Number(await viewport.getAttribute('data-scale'))).toBeGreaterThan(fitted);
    await page.getByRole('button', { name: 'Fit to screen' }).click();
    expect(Number(await viewport.getAttribute('data-scale'))).toBeCloseTo(fitted, 2);

    // The forEach box opens its items in the drawer; the filter finds the failed ones; one opens.
    await group.click();
    const drawer = page.getByTestId('task-drawer');
    const list = drawer.getByTestId('item-list');
    await expect(list.getByTestId('item-list-counts').textContent()).resolves.toContain('2,000 / 2,000 done');
    await list.locator('button[data-item-index="0"]').waitFor();
    await list.getByLabel('Status').selectOption('FAILED');
    await eventually(async () => (await list.locator('button[data-item-index]').count()) === 20, { timeoutMs: 15_000, what: 'the 20 failed items listed' });
    expect(await list.locator('button[data-item-index]:not([data-status="FAILED"])').count()).toBe(0);
    await list.locator('button[data-item-index="107"]').click();
    await drawer.getByText('item #107').waitFor();
    expect(await drawer.getByRole('alert').textContent()).toBeTruthy();
    await drawer.getByRole('button', { name: /All items of each/ }).click();
    await list.waitFor();

    // A step found by the table's search opens in the drawer, in view.
    await page.getByPlaceholder('Step id').fill('s150');
    // (The step's button, at the row's left: the open drawer covers the right of the table.)
    await page.locator('tr[data-step="s150"]').getByRole('button', { name: 's150' }).click();
    await drawer.getByText('s150', { exact: true }).first().waitFor();
    const box = await drawer.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(1440 + 1);

    await page.setViewportSize({ width: 1024, height: 900 });
    await page.getByRole('button', { name: 'Close the task panel' }).click();
    await page.getByRole('button', { name: 'Fit to screen' }).click();
    await page.screenshot({ path: join(shots, 'run-page-2000-1024.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 420_000);
});
