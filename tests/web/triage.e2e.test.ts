import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { accessTokenOf, appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, waitForWorker, WEB_DIST_DIR } from './browser';

/**
 * Triage in a real browser (issue 12), through the whole platform (identity, catalog, orchestration
 * and audit in their own processes, a worker, the gateway serving the built app): the runs list keeps
 * its filters and page in the URL (Back returns to them) and finds a run by idempotency key; bulk
 * cancel and retry; dead letters grouped with counts and replayed in bulk; the audit log's actor
 * picker, target links and hidden sign-in noise; the org switcher waits for Enter; focus returns to
 * what opened a dialog. A small HTTP server stands in for the remote website the failing steps call.
 */

let platform: Platform;
let browser: Browser;
let origin: string;
let page: Page;
let admin: { email: string; password: string };
let site: Server;
let siteUrl: string;
let siteDown = true;
const shots = screenshotDir();
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token: await accessTokenOf(platform, admin) });
  if (!res.data) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

const createWorkflow = async (name: string, steps: unknown[]) =>
  (await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps } })).createWorkflow.id;

const startRuns = async (inputs: Array<Record<string, unknown>>) =>
  (await api<{ startRuns: { runs: Array<{ run: { id: string } }> } }>('mutation($inputs: [StartRunInput!]!) { startRuns(inputs: $inputs) { runs { run { id } } } }', { inputs })).startRuns.runs.map((r) => r.run.id);

const statusesOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await api<{ run: { status: string } }>('query($id: ID!) { run(id: $id) { status } }', { id })).run.status));

const allReach = (ids: string[], status: string) =>
  eventually(async () => ((await statusesOf(ids)).every((s) => s === status) ? true : undefined), { timeoutMs: 60_000, what: `runs to be ${status}` });

const failingStep = (id: string) => ({ id, capability: 'http.request', input: { url: `${siteUrl}/flaky` }, retry: { maxAttempts: 1 } });
const nav = (p: Page) => p.getByRole('navigation', { name: 'Main' });
const runRows = (p: Page) => p.locator('table[aria-label="Runs"] tbody tr');
const pageSummary = (p: Page) => p.getByRole('navigation', { name: 'Pagination' }).locator('p');

beforeAll(async () => {
  ensureWebBuilt();
  site = createServer((_req, res) => {
    if (siteDown) res.writeHead(503).end('down for maintenance');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration', 'audit'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      orchestration: { WORKER_HEARTBEAT_INTERVAL_MS: '500', EVENT_FLUSH_INTERVAL_MS: '50', DISPATCH_RETRY_DELAY_MS: '100' },
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '8', WORKER_DRAIN_GRACE_MS: '1000' },
    },
  });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  admin = { email: first.email, password: first.password };
  origin = appOrigin(platform);
  await waitForWorker(platform, { token: await accessTokenOf(platform, admin) });
  browser = await launchBrowser();
  page = await signedInPage(browser, origin, admin);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('runs list', () => {
  it('keeps its filter and page in the URL: Back from a run returns to page 2; finds a run by idempotency key', async () => {
    const name = unique('paged');
    const workflowId = await createWorkflow(name, [{ id: 'a', capability: 'noop' }]);
    const keyPrefix = unique('order');
    await startRuns(Array.from({ length: 30 }, (_, i) => ({ workflowId, idempotencyKey: `${keyPrefix}-${i}`, input: { n: i } })));

    await nav(page).getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await page.getByLabel('Workflow').selectOption({ label: name });
    await page.waitForURL(/workflowId=/);
    await pageSummary(page).filter({ hasText: 'Page 1 · 30 runs' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await pageSummary(page).filter({ hasText: 'Page 2 · 30 runs' }).waitFor();
    await page.waitForURL(/pages=/);
    const pageTwoUrl = page.url();
    await eventually(async () => ((await runRows(page).count()) === 5 ? true : undefined), { what: 'page 2 to show the 5 oldest runs' });
    const firstOfPageTwo = await runRows(page).first().getAttribute('data-run-id');

    await runRows(page).first().getByRole('link').first().click();
    await page.waitForURL(new RegExp(`/runs/${firstOfPageTwo}`));
    await page.goBack();
    await pageSummary(page).filter({ hasText: 'Page 2 · 30 runs' }).waitFor();
    expect(page.url()).toBe(pageTwoUrl);
    expect(await page.getByLabel('Workflow').inputValue()).toBe(workflowId);
    await eventually(async () => ((await runRows(page).first().getAttribute('data-run-id')) === firstOfPageTwo ? true : undefined), { what: 'the same rows on page 2' });
    // Back again: page 1 of the same filter.
    await page.goBack();
    await pageSummary(page).filter({ hasText: 'Page 1 · 30 runs' }).waitFor();
    await page.screenshot({ path: join(shots, 'triage-01-runs-filtered.png'), fullPage: true });

    // Search by idempotency key (a filter change starts at page one).
    await page.getByLabel('Run id or idempotency key').fill(`${keyPrefix}-7`);
    await page.getByLabel('Run id or idempotency key').press('Enter');
    await pageSummary(page).filter({ hasText: 'Page 1 · 1 run' }).waitFor();
    expect(await runRows(page).count()).toBe(1);
    expect(await runRows(page).first().textContent()).toContain(`${keyPrefix}-7`);
  });

  it('cancels three runs at once, after asking, and shows each result', async () => {
    const name = unique('naps');
    const workflowId = await createWorkflow(name, [{ id: 'nap', capability: 'sleep', input: { ms: 120_000 } }]);
    const ids = await startRuns([{ workflowId }, { workflowId }, { workflowId }]);
    await page.goto(`${origin}/runs`);
    await page.getByLabel('Workflow').selectOption({ label: name });
    await pageSummary(page).filter({ hasText: '3 runs' }).waitFor();
    await page.getByLabel('Select every run on this page').check();
    await page.getByRole('region', { name: 'Bulk actions' }).getByText('3 runs selected').waitFor();
    await page.getByRole('button', { name: 'Cancel selected' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Cancel 3 runs' }).click();
    await page.getByText('3 runs cancelled.').waitFor();
    // On each row, and in the list of results.
    expect(await page.getByTestId('run-action-result').allTextContents()).toEqual(['Cancelled (cancelled)', 'Cancelled (cancelled)', 'Cancelled (cancelled)']);
    for (const id of ids) expect(await page.getByTestId('bulk-result').filter({ hasText: id }).textContent()).toContain('Cancelled (cancelled)');
    expect(await statusesOf(ids)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
  });

  it('retries three failed runs at once', async () => {
    siteDown = true;
    const name = unique('flaky');
    const workflowId = await createWorkflow(name, [failingStep('call')]);
    const ids = await startRuns([{ workflowId }, { workflowId }, { workflowId }]);
    await allReach(ids, 'FAILED');
    siteDown = false;
    await page.goto(`${origin}/runs`);
    await page.getByLabel('Workflow').selectOption({ label: name });
    await page.getByRole('button', { name: 'Failed', exact: true }).click();
    await pageSummary(page).filter({ hasText: '3 runs' }).waitFor();
    for (const id of ids) await page.getByLabel(`Select run ${id}`).check();
    await page.getByRole('button', { name: 'Retry selected' }).click();
    await page.getByText('3 runs retried.').waitFor();
    // The runs leave the "failed" list; the result of each stays in view.
    const results = page.getByTestId('bulk-result');
    expect(await results.count()).toBe(3);
    for (const id of ids) expect(await results.filter({ hasText: id }).textContent()).toMatch(/Retried \((running|queued)\)/);
    await page.screenshot({ path: join(shots, 'triage-02-bulk-retry.png'), fullPage: true });
    await allReach(ids, 'SUCCEEDED');
  });
});

describe('dead letters', () => {
  it('groups open dead letters with counts and replays a group in bulk', async () => {
    siteDown = true;
    const alpha = unique('dl-alpha');
    const beta = unique('dl-beta');
    await createWorkflow(alpha, [failingStep('fetch')]);
    const alphaRuns = await startRuns([0, 1, 2].map(() => ({ workflowName: alpha })));
    await createWorkflow(beta, [failingStep('post')]);
    const betaRuns = await startRuns([{ workflowName: beta }, { workflowName: beta }]);
    await allReach([...alphaRuns, ...betaRuns], 'FAILED');

    await nav(page).getByRole('link', { name: 'Dead letters' }).click();
    const alphaGroup = page.locator(`tr[data-group="${alpha}/fetch"]`);
    await alphaGroup.waitFor();
    expect(await alphaGroup.getByTestId('group-count').textContent()).toBe('3');
    expect(await page.locator(`tr[data-group="${beta}/post"]`).getByTestId('group-count').textContent()).toBe('2');
    expect(await alphaGroup.textContent()).toContain('HTTP_STATUS');

    // Closing a confirmation puts focus back on the button that opened it.
    const letters = page.locator('table[aria-label="Dead letters"] tbody tr');
    await alphaGroup.getByRole('button', { name: 'Show these' }).click();
    await page.waitForURL(/errorCode=/);
    await eventually(async () => ((await letters.count()) === 3 ? true : undefined), { what: 'the group’s three dead letters' });
    const replayButton = letters.first().getByRole('button', { name: 'Replay' });
    await replayButton.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await eventually(async () => ((await replayButton.evaluate((el) => el === el.ownerDocument.activeElement)) ? true : undefined), { what: 'focus back on the Replay button' });

    // Each row names its run, linked.
    expect((await page.getByTestId('dead-letter-run-id').allTextContents()).sort()).toEqual([...alphaRuns].sort());
    siteDown = false;
    await page.getByLabel('Select every open dead letter on this page').check();
    await page.getByRole('button', { name: 'Replay selected' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Replay 3 dead letters' }).click();
    await page.getByText('3 dead letters replayed.').waitFor();
    for (const id of alphaRuns) expect(await page.getByTestId('bulk-result').filter({ hasText: id }).textContent()).toBe(`step fetch of run ${id}: Replayed`);
    await page.screenshot({ path: join(shots, 'triage-03-dead-letters-replayed.png'), fullPage: true });
    await allReach(alphaRuns, 'SUCCEEDED');
    // The group is gone; the other stays.
    await alphaGroup.waitFor({ state: 'detached' });
    await page.locator(`tr[data-group="${beta}/post"]`).waitFor();
  });
});

describe('audit log', () => {
  it('picks the actor by e-mail, links targets and hides sign-in noise until asked', async () => {
    const workflowId = await createWorkflow(unique('audited'), [{ id: 'a', capability: 'noop' }]);
    const [runId] = await startRuns([{ workflowId }]);
    await nav(page).getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const events = page.locator('table[aria-label="Audit events"] tbody tr');
    // The run start reaches the audit service through its outbox: look again until it is there.
    await eventually(
      async () => {
        if ((await events.filter({ hasText: 'run.start' }).count()) > 0) return true;
        await page.reload();
        await events.first().waitFor();
        return undefined;
      },
      { timeoutMs: 30_000, what: 'the run start in the audit log' },
    );
    // Sign-ins are recorded (the test signed in many times) but hidden by default.
    expect(await events.filter({ hasText: 'auth.login' }).count()).toBe(0);

    const picker = page.getByRole('combobox', { name: 'Actor' });
    await picker.fill(admin.email.split('@')[0]!.slice(0, 6));
    const option = page.getByRole('option').filter({ hasText: admin.email });
    await option.waitFor();
    await picker.press('Enter');
    await page.waitForURL(/actorId=/);
    await page.getByTestId('picked-member').filter({ hasText: admin.email }).waitFor();
    await events.first().waitFor();
    expect(await page.getByTestId('picked-member').getAttribute('data-testid')).toBe('picked-member');

    await page.getByLabel('Show sign-ins and token refreshes').check();
    await events.filter({ hasText: 'auth.login' }).first().waitFor();
    await page.getByLabel('Show sign-ins and token refreshes').uncheck();
    await events.filter({ hasText: 'auth.login' }).first().waitFor({ state: 'detached' });
    await page.screenshot({ path: join(shots, 'triage-04-audit-actor.png'), fullPage: true });

    // A run's event links to the run.
    const start = events.filter({ hasText: 'run.start' }).filter({ hasText: runId!.slice(0, 8) }).first();
    await start.getByTestId('audit-target-link').click();
    await page.waitForURL(new RegExp(`/runs/${runId}`));
  });
});

describe('keyboard', () => {
  it('does not switch organization on ArrowUp until Enter', async () => {
    const second = unique('Second org');
    await api('mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }', { input: { name: second } });
    await page.goto(`${origin}/runs`);
    const switcher = page.getByLabel('Organization');
    await switcher.locator('option', { hasText: second }).waitFor({ state: 'attached' });
    const home = await switcher.inputValue();
    const values = await switcher.locator('option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    const key = values.indexOf(home) > 0 ? 'ArrowUp' : 'ArrowDown';
    await switcher.focus();
    await switcher.press(key);
    await page.getByRole('status').filter({ hasText: /Press Enter to/ }).waitFor();
    // Nothing happened: still on the runs page, in the same organization, some time later.
    await page.waitForTimeout(1_000);
    expect(new URL(page.url()).pathname).toBe('/runs');
    const session = () => page.evaluate(() => (globalThis as any).localStorage.getItem('orchestra.session') as string | null);
    expect(await session()).toContain(home);
    // Escape goes back to the organization in use.
    await switcher.press('Escape');
    expect(await switcher.inputValue()).toBe(home);
    await switcher.press(key);
    const target = await switcher.inputValue();
    expect(target).not.toBe(home);
    await switcher.press('Enter');
    await page.waitForURL((url) => url.pathname === '/');
    await eventually(async () => ((await session())?.includes(target) ? true : undefined), { what: 'the session to move to the chosen organization' });
    // Back home with the mouse (a choice from the list switches at once).
    await switcher.selectOption(home);
    await eventually(async () => ((await session())?.includes(home) ? true : undefined), { what: 'the session to move back' });
  });

  it('returns focus to "Run again" when its dialog closes, and starts the run with the same input', async () => {
    const workflowId = await createWorkflow(unique('again'), [{ id: 'a', capability: 'noop' }]);
    const [runId] = await startRuns([{ workflowId, input: { city: 'Lyon', n: 3 } }]);
    await page.goto(`${origin}/runs`);
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    const again = row.getByRole('button', { name: 'Run again' });
    await again.click();
    const dialog = page.getByRole('dialog');
    const input = dialog.getByLabel('Input (JSON object)');
    await input.waitFor();
    expect(JSON.parse(await input.inputValue())).toEqual({ city: 'Lyon', n: 3 });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await eventually(async () => ((await again.evaluate((el) => el === el.ownerDocument.activeElement)) ? true : undefined), { what: 'focus back on Run again' });

    await again.click();
    await input.fill('{ "city": "Nantes", "n": 3 }');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runId!));
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    expect((await api<{ run: { input: unknown; workflow: { id: string } } }>('query($id: ID!) { run(id: $id) { input workflow { id } } }', { id: newId })).run).toEqual({ input: { city: 'Nantes', n: 3 }, workflow: { id: workflowId } });
  });
});
