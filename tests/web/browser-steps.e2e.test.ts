import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Issue 8's admin pages in a real browser (Chromium through playwright-core) against the platform
 * (identity, orchestration, a worker with the browser capability, the gateway serving the built app):
 * the Secrets page creates, rotates and deletes a secret without its value ever coming back, and the
 * run page of a browser step lists its actions with the failing one highlighted, shows its screenshots
 * as thumbnails that enlarge, and links its PDF for download through the gateway's signed URL; that
 * failure reaches the notification centre live (the header's unread badge counts it without a reload),
 * and the notification settings and webhooks pages save what they show.
 * The website the step drives is served by this test on 127.0.0.1 (a stand-in for a remote site).
 */

const SECRET_VALUE = `Hunter-${randomBytes(8).toString('hex')}`;
const ROTATED_VALUE = `Parrot-${randomBytes(8).toString('hex')}`;

let platform: Platform;
let browser: Browser;
let page: Page;
let origin: string;
let token: string;
let site: { url: string; close(): Promise<void> };
let failedRunId: string;
const shots = screenshotDir();

function startSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><h1 style="color:#4338ca">Shop</h1><p>Orders are listed here.</p>');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) })),
  );
}

const api = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data || res.errors) throw new Error(`${query.slice(0, 40)}: ${JSON.stringify(res.errors)}`);
  return res.data;
};

async function waitForPage(p: Page, title: string): Promise<void> {
  try {
    await p.getByRole('heading', { name: title, exact: true, level: 1 }).waitFor();
  } catch (error) {
    const alerts = await p.getByRole('alert').allTextContents().catch(() => []);
    throw new Error(`page "${title}" did not appear at ${p.url()}; alerts: ${JSON.stringify(alerts)}`, { cause: error });
  }
}

beforeAll(async () => {
  ensureWebBuilt();
  site = await startSite();
  platform = await startPlatform({
    services: ['identity', 'orchestration', 'notifications'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      orchestration: { EVENT_FLUSH_INTERVAL_MS: '50' },
      notifications: { NOTIFY_FANOUT_POLL_MS: '200' },
      // The site is on 127.0.0.1: this worker may reach private addresses (the guard is tested in workers/).
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '2' },
    },
  });
  origin = appOrigin(platform);
  const email = `owner.${randomBytes(4).toString('hex')}@example.com`;
  const password = `Green-Teapot-${randomBytes(5).toString('hex')}`;
  const signedUp = await platform.graphql<{ signUp: { accessToken: string } }>('mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }', {
    i: { email, password, name: 'Olga Owner', organizationName: 'Browser Pages Org' },
  });
  if (!signedUp.data) throw new Error(`signUp failed: ${JSON.stringify(signedUp.errors)}`);
  token = signedUp.data.signUp.accessToken;
  browser = await launchBrowser();
  page = await signedInPage(browser, origin, { email, password });
  await waitForPage(page, 'Dashboard');
  process.stdout.write(`browser pages e2e: screenshots in ${shots}\n`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await site?.close();
});

describe('the Secrets page', () => {
  it('creates, rotates and deletes (after asking) a secret, never showing or receiving its value', async () => {
    const responses: string[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/graphql')) void response.text().then((body) => responses.push(body), () => undefined);
    });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Secrets' }).click();
    await waitForPage(page, 'Secrets');
    await page.getByText('No secrets yet').waitFor();

    await page.getByRole('button', { name: 'Create secret' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('SHOP_PASSWORD');
    await dialog.getByLabel('Value').fill(SECRET_VALUE);
    expect(await dialog.getByLabel('Value').getAttribute('type')).toBe('password');
    await dialog.getByRole('button', { name: 'Create secret' }).click();
    const row = page.locator('tr[data-secret="SHOP_PASSWORD"]');
    await row.getByText('v1').waitFor();
    await page.screenshot({ path: join(shots, 'secrets.png'), fullPage: true });

    // A value the API refuses shows its message under the field; a name taken, in the dialog.
    await page.getByRole('button', { name: 'Create secret' }).click();
    await dialog.getByLabel('Name').fill('SHOP_PASSWORD');
    await dialog.getByLabel('Value').fill('x');
    await dialog.getByRole('button', { name: 'Create secret' }).click();
    await eventually(async () => ((await dialog.getByLabel('Value').getAttribute('aria-invalid')) === 'true' ? true : undefined), { what: 'the value to be marked invalid' });
    await dialog.getByLabel('Value').fill('long enough value');
    await dialog.getByRole('button', { name: 'Create secret' }).click();
    await dialog.getByText(/already exists/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await row.getByRole('button', { name: 'Rotate' }).click();
    await dialog.getByLabel('New value').fill(ROTATED_VALUE);
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await row.getByText('v2').waitFor();

    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByText(/fail when they are dispatched/).waitFor();
    // Cancelling keeps it.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await row.waitFor();
    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete secret' }).click();
    await page.getByText('No secrets yet').waitFor();
    expect((await api<{ secrets: unknown[] }>('{ secrets { name } }')).secrets).toEqual([]);

    const html = await page.content();
    expect(html).not.toContain(SECRET_VALUE);
    expect(html).not.toContain(ROTATED_VALUE);
    await eventually(() => responses.length > 0, { what: 'the responses read' });
    for (const body of responses) {
      expect(body).not.toContain(SECRET_VALUE);
      expect(body).not.toContain(ROTATED_VALUE);
    }
  });
});

describe('the run page of a browser step', () => {
  it('lists its actions with the failing one highlighted, enlarges its screenshots and links its PDF', async () => {
    await eventually(async () => ((await api<{ capabilities: string[] }>('{ capabilities }')).capabilities.includes('browser') ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'a worker offering browser',
    });
    const workflow = await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
      input: {
        name: 'shop-check',
        steps: [
          {
            id: 'shop',
            capability: 'browser',
            retry: { maxAttempts: 1 },
            input: {
              stopOnError: true,
              actions: [
                { action: 'goto', url: `${site.url}/` },
                { action: 'screenshot', name: 'home' },
                { action: 'pdf', name: 'home' },
                { action: 'click', selector: '#checkout', timeoutMs: 1_000 },
                { action: 'screenshot', name: 'after' },
              ],
            },
          },
        ],
      },
    });
    const started = await api<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId: workflow.createWorkflow.id } });
    const runId = started.startRun.run.id;
    failedRunId = runId;
    await eventually(async () => ((await api<{ run: { status: string } }>('query($id: ID!) { run(id: $id) { status } }', { id: runId })).run.status === 'FAILED' ? true : undefined), {
      timeoutMs: 120_000,
      what: 'the run to fail',
    });

    await page.goto(`${origin}/runs/${runId}?task=shop`);
    const actions = page.getByRole('list', { name: 'Browser actions of shop' });
    await actions.waitFor();
    const states = await actions.locator('li').evaluateAll((items) => items.map((li) => [li.textContent?.replace(/\s+/g, ' ').trim() ?? '', li.getAttribute('data-action-state')]));
    expect(states.map(([, state]) => state)).toEqual(['done', 'done', 'done', 'failed', 'skipped']);
    expect(states[3]?.[0]).toMatch(/click #checkout/);
    expect(await actions.locator('li[aria-current="step"]').textContent()).toMatch(/#checkout/);

    // Screenshots (the step's own and the failure's) as thumbnails that the browser could load.
    for (const name of ['home.png', 'failure-4.png']) {
      const img = page.locator(`li[data-artifact="${name}"] img`);
      await img.waitFor();
      await eventually(async () => ((await img.evaluate((el) => (el as { naturalWidth: number }).naturalWidth)) > 0 ? true : undefined), { what: `the thumbnail of ${name} to load` });
    }
    await page.locator('li[data-artifact="home.png"] button').click();
    const enlarged = page.getByRole('dialog').getByRole('img', { name: 'Screenshot home.png, full size' });
    await enlarged.waitFor();
    await page.screenshot({ path: join(shots, 'run-browser-step.png'), fullPage: true });
    await page.keyboard.press('Escape');

    // The PDF is a download link to the gateway's signed URL, which serves the PDF's bytes.
    const link = page.locator('li[data-artifact="home.pdf"] a');
    const href = await link.getAttribute('href');
    expect(href).toMatch(/\/artifacts\/[0-9a-f-]+\?/);
    const served = await page.evaluate(async (url) => {
      const res = await fetch(url);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, type: res.headers.get('content-type'), head: String.fromCharCode(...bytes.slice(0, 5)) };
    }, href!);
    expect(served).toEqual({ status: 200, type: 'application/pdf', head: '%PDF-' });
    expect(await page.locator('li[data-artifact="after.png"]').count()).toBe(0);
  });
});

describe('notifications in the app', () => {
  it('counts the failed run on the header\'s badge live, lists it in the centre, and marks it read', async () => {
    // The run above failed while this page was open: the badge counted it without a reload.
    const badge = page.getByTestId('unread-badge');
    await badge.waitFor({ timeout: 60_000 });
    // run.failed and its task's task.dead_lettered.
    await eventually(async () => (Number(await badge.textContent()) === 2 ? true : undefined), { timeoutMs: 30_000, what: 'the badge to count both notifications' });
    await page.evaluate(() => ((globalThis as any).__orchestraMark = 7));
    await page.getByRole('link', { name: /^Notifications: \d+ unread$/ }).click();
    await waitForPage(page, 'Notifications');
    const item = page.locator(`li[data-notification="run.failed"][data-unread="true"]`).filter({ hasText: failedRunId });
    await item.waitFor();
    await item.getByRole('button', { name: 'Mark read' }).click();
    await page.locator('li[data-notification="run.failed"]').filter({ hasText: failedRunId }).and(page.locator(':not([data-unread])')).waitFor();
    await eventually(async () => ((await badge.textContent()) === '1' ? true : undefined), { what: 'the badge to count one less' });
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await page.locator('li[data-notification="task.dead_lettered"]').filter({ hasText: failedRunId }).and(page.locator(':not([data-unread])')).waitFor();
    await eventually(async () => ((await badge.count()) === 0 ? true : undefined), { what: 'the badge to clear' });
    expect(await page.evaluate(() => (globalThis as any).__orchestraMark)).toBe(7);
    await page.screenshot({ path: join(shots, 'notifications.png'), fullPage: true });
  });

  it('saves notification settings, and adds a webhook endpoint showing its secret once', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notification settings' }).click();
    await waitForPage(page, 'Notification settings');
    // The page lists the registry's events: the app-health and quota kinds are there with no change to it.
    for (const type of ['app.health_changed', 'quota.exceeded']) await page.locator(`tr[data-event="${type}"]`).waitFor();
    await page.getByLabel('How e-mail comes').selectOption('DIGEST');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await api<{ notificationPreferences: { emailMode: string } }>('{ notificationPreferences { emailMode } }')).notificationPreferences.emailMode).toBe('DIGEST');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await waitForPage(page, 'Webhooks');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog');
    // A private address is refused, with the API's message.
    await dialog.getByLabel('URL').fill('http://127.0.0.1:9/hooks');
    await dialog.getByLabel(/^run\.failed/).check();
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await dialog.getByText(/private|loopback/i).first().waitFor();
    await dialog.getByLabel('URL').fill('https://hooks.example.com/orchestra');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.getByTestId('webhook-secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    const row = page.locator('tr[data-endpoint="https://hooks.example.com/orchestra"]');
    await row.getByText('run.failed').waitFor();
    expect(await page.content()).not.toContain(secret!);
    await row.getByRole('button', { name: 'Deliveries' }).click();
    await page.getByText('No deliveries yet').waitFor();
    await page.screenshot({ path: join(shots, 'webhooks.png'), fullPage: true });
  });
});
