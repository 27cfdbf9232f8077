import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * The triggers and schedules pages in a real browser (Chromium through playwright-core) against the
 * platform (identity and orchestration in their own processes, the gateway serving the built app):
 * an admin adds a trigger with a webhook, copies its URL and secret from the once-only dialog, a
 * third party's signed and badly signed deliveries show in its delivery log; a schedule's next runs
 * are listed, it is paused, resumed and edited.
 */

let platform: Platform;
let browser: Browser;
let origin: string;
let token: string;
let page: Page;
const shots = screenshotDir();

const sign = (secret: string, timestamp: string, body: string) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

async function api<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({ services: ['identity', 'orchestration'], workers: 0, env: { gateway: { WEB_DIST_DIR } } });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  token = (await api<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: first.email, password: first.password } })).login.accessToken;
  browser = await launchBrowser();
  page = await signedInPage(browser, origin, first);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('triggers and schedules pages', () => {
  it('adds a trigger with a webhook, shows its secret once and its delivery log', async () => {
    await api('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'on-order-paid', steps: [{ id: 'a', capability: 'noop' }] } });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Triggers' }).click();
    await page.getByRole('heading', { name: 'Triggers', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add trigger' }).click();
    await page.getByLabel('Event name').fill('order.paid');
    await page.getByLabel('Filter (optional)').fill('[{ "path": "/currency", "equals": "EUR" }]');
    await page.getByRole('dialog').getByRole('button', { name: 'Add trigger' }).click();
    const secret = (await page.getByTestId('trigger-secret').textContent())!.trim();
    const url = (await page.getByTestId('trigger-webhook-url').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    expect(url).toMatch(new RegExp(`^${origin}/hooks/[0-9a-f-]{36}$`));
    await page.screenshot({ path: join(shots, 'triggers-01-secret-once.png'), fullPage: true });
    await page.getByRole('button', { name: 'I have copied it' }).click();
    const row = page.locator('tr', { hasText: 'order.paid' });
    await row.waitFor();
    expect(await row.textContent()).toContain('on-order-paid');
    // The secret is not on the page any more.
    expect(await page.content()).not.toContain(secret);

    const body = JSON.stringify({ order: 'o-1', currency: 'EUR' });
    const ts = String(Math.floor(Date.now() / 1000));
    const good = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign(secret, ts, body) }, body });
    expect(good.status).toBe(202);
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign('whsec_wrong', ts, body) }, body });
    expect(bad.status).toBe(401);

    await row.getByRole('button', { name: 'Deliveries' }).click();
    const log = page.getByRole('table', { name: 'Webhook deliveries' });
    await log.locator('tr[data-delivery]').nth(1).waitFor();
    const rows = await log.locator('tr[data-delivery]').allTextContents();
    expect(rows[0]).toMatch(/REFUSED.*BAD_SIGNATURE/);
    expect(rows[1]).toMatch(/ACCEPTED/);
    await page.screenshot({ path: join(shots, 'triggers-02-deliveries.png'), fullPage: true });

    // Rotating shows a new secret once; the old one no longer verifies.
    await row.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = (await page.getByTestId('trigger-secret').textContent())!.trim();
    expect(rotated).not.toBe(secret);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    const old = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign(secret, ts, body) }, body });
    expect(old.status).toBe(401);
  });

  it('lists a schedule with its next runs; pauses, resumes and edits it', async () => {
    const { createWorkflow } = await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
      input: { name: 'nightly-report', steps: [{ id: 'a', capability: 'noop' }] },
    });
    await api('mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }', { i: { workflowId: createWorkflow.id, cron: '0 3 * * *', timezone: 'Europe/Berlin' } });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    const row = page.locator('tr', { hasText: 'nightly-report' });
    await row.getByTestId('next-runs').waitFor();
    expect(await row.getByTestId('next-runs').locator('li').count()).toBe(3);
    expect(await row.textContent()).toContain('Europe/Berlin');
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.getByText('PAUSED', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByTestId('next-runs').waitFor();
    await row.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Cron').fill('not a cron');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    // The API's refusal is shown next to the field.
    await page.getByRole('dialog').getByText(/cron/i).first().waitFor();
    await page.getByLabel('Cron').fill('30 4 * * 1');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await row.getByText('30 4 * * 1').waitFor();
    await page.screenshot({ path: join(shots, 'schedules-01.png'), fullPage: true });
  });
});
