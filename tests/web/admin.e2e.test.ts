import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import type { BrowserContext, Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, startTestSite, submitSignIn, type TestSite, WEB_DIST_DIR } from './browser';

/**
 * The admin web app in a real browser (Chromium through playwright-core) against the whole platform:
 * identity, catalog, orchestration and audit in their own processes, a worker, and the gateway
 * serving the built app from WEB_DIST_DIR. Live views are checked without reloading the page.
 * The http.request step calls a local server standing in for a remote website.
 */

let platform: Platform;
let browser: Browser;
let site: TestSite;
let smtp: TestSmtpServer;
let origin: string;
let admin: { email: string; password: string };
let adminProfile: BrowserContext;
let page: Page;
const shots = screenshotDir();

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function adminToken(): Promise<string> {
  const res = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: admin });
  if (!res.data) throw new Error(`admin login failed: ${JSON.stringify(res.errors)}`);
  return res.data.login.accessToken;
}

/** A workflow made through the API (for tests about something else than creating workflows). */
async function createWorkflowByApi(name: string, steps: unknown[]): Promise<string> {
  const res = await platform.graphql<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps } }, { token: await adminToken() });
  if (!res.data) throw new Error(`createWorkflow failed: ${JSON.stringify(res.errors)}`);
  return res.data.createWorkflow.id;
}

/** A member of the admin's organization (a viewer) with this name, through the API; returns the email. */
async function addMemberByApi(name: string, password = `Marmalade-${randomUUID().slice(0, 13)}-Lighthouse`): Promise<string> {
  const email = `${unique('member')}@example.com`;
  const invite = await platform.graphql<{ inviteMember: { token: string } }>('mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token } }', { input: { email, role: 'VIEWER' } }, { token: await adminToken() });
  if (!invite.data) throw new Error(`inviteMember failed: ${JSON.stringify(invite.errors)}`);
  const accepted = await platform.graphql('mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { accessToken } }', { input: { token: invite.data.inviteMember.token, name, password } });
  if (accepted.errors) throw new Error(`acceptInvitation failed: ${JSON.stringify(accepted.errors)}`);
  return email;
}

/** Marks the page; `stillSamePage` is true only while no full reload happened since. */
const markPage = (p: Page) => p.evaluate(() => ((globalThis as any).__orchestraMark = 42));
const stillSamePage = (p: Page) => p.evaluate(() => (globalThis as any).__orchestraMark === 42);

const taskRow = (p: Page, stepId: string) => p.locator(`tr[data-step="${stepId}"]`);
const nav = (p: Page) => p.getByRole('navigation', { name: 'Main' });

/** Waits for a page's title; when it does not come, the error says what the page showed instead. */
async function waitForPage(p: Page, title: string): Promise<void> {
  try {
    await p.getByRole('heading', { name: title, exact: true, level: 1 }).waitFor();
  } catch (error) {
    const alerts = await p.getByRole('alert').allTextContents().catch(() => []);
    throw new Error(`page "${title}" did not appear at ${p.url()}; alerts: ${JSON.stringify(alerts)}; heading: ${await p.locator('h1').first().textContent().catch(() => '?')}`, { cause: error });
  }
}

beforeAll(async () => {
  ensureWebBuilt();
  site = await startTestSite();
  smtp = await startTestSmtpServer();
  platform = await startPlatform({
    services: ['identity', 'catalog', 'orchestration', 'audit'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      identity: { SMTP_URL: smtp.url },
      orchestration: { WORKER_HEARTBEAT_INTERVAL_MS: '500', EVENT_FLUSH_INTERVAL_MS: '50', DISPATCH_RETRY_DELAY_MS: '100' },
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '4', WORKER_DRAIN_GRACE_MS: '1000' },
    },
  });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  admin = { email: first.email, password: first.password };
  origin = appOrigin(platform);
  const token = await adminToken();
  await eventually(
    async () => {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, { token });
      return res.data?.workers.some((w) => w.status === 'ONLINE') === true;
    },
    { timeoutMs: 30_000, what: 'the worker to register' },
  );
  browser = await launchBrowser();
  adminProfile = await browser.newProfile();
  page = adminProfile.pages()[0] ?? (await adminProfile.newPage());
  process.stdout.write(`web e2e: screenshots in ${shots}\n`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await site?.close();
  await smtp?.stop();
});

describe('the admin web app', () => {
  it('is served by the gateway, with client-side routes falling back to the app', async () => {
    const res = await fetch(`${origin}/runs/some-run`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });

  it('refuses a wrong password with the API message, then signs in', async () => {
    await page.goto(`${origin}/workflows`);
    // Not signed in: the app sends us to sign in, remembering where we were going.
    await page.waitForURL(/\/sign-in\?redirect=/);
    await page.screenshot({ path: join(shots, '01-sign-in.png'), fullPage: true });
    // Empty fields are pointed out next to them, without asking the server.
    let loginRequests = 0;
    const countLogins = (request: { postData(): string | null }) => {
      if (request.postData()?.includes('mutation Login')) loginRequests++;
    };
    page.on('request', countLogins);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Enter your email address.').waitFor();
    await page.getByText('Enter your password.').waitFor();
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').count()).toBe(0);
    page.off('request', countLogins);
    expect(loginRequests).toBe(0);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Sign-in failed' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/email or password/i);
    // A refusal the user can act on is a plain message, without a request id.
    expect(await alert.textContent()).not.toMatch(/request id/i);

    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitForPage(page, 'Workflows');
    expect(page.url()).toBe(`${origin}/workflows`);
    expect(await page.getByTestId('current-user').textContent()).toBeTruthy();
    // The access token is kept in memory only; storage holds the refresh token.
    const stored = await page.evaluate(() => (globalThis as any).localStorage.getItem('orchestra.session') as string | null);
    expect(stored).toContain('refreshToken');
    expect(stored).not.toMatch(/accessToken|eyJ/);
  });

  it('creates a workflow in the JSON editor, showing the API’s validation error on the step it names', async () => {
    const name = unique('nightly-report');
    await nav(page).getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'New workflow' }).click();
    await waitForPage(page, 'New workflow');
    await page.getByLabel('Name', { exact: true }).fill(name);
    const broken = [
      { id: 'fetch', capability: 'http.request', input: { url: '{{ input.site }}/catalog' } },
      { id: 'summarize', capability: 'transform', dependsOn: ['fetch', 'ghost'] },
    ];
    await page.getByLabel('Steps as JSON').fill(JSON.stringify(broken, null, 2));
    await page.getByRole('button', { name: 'Create workflow' }).click();
    const problem = page.getByTestId('step-problem');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('summarize');
    expect(await problem.textContent()).toContain('depends on unknown step "ghost"');
    // The step the API named is marked in the graph preview.
    await page.locator('g[data-step="summarize"] rect').first().waitFor();
    await page.screenshot({ path: join(shots, '03-workflow-editor-error.png'), fullPage: true });

    const steps = [
      { id: 'fetch', capability: 'http.request', input: { url: '{{ input.site }}/catalog', method: 'GET' } },
      { id: 'wait', capability: 'sleep', dependsOn: ['fetch'], input: { ms: 1500 } },
      { id: 'summarize', capability: 'transform', dependsOn: ['fetch', 'wait'], input: { value: { first: '{{ steps.fetch.output.body.items[0].name }}' } } },
    ];
    await page.getByLabel('Steps as JSON').fill(JSON.stringify(steps, null, 2));
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await waitForPage(page, name);
    for (const step of ['fetch', 'wait', 'summarize']) await page.locator(`svg g[data-step="${step}"]`).waitFor();
    await page.screenshot({ path: join(shots, '04-workflow-detail.png'), fullPage: true });
  });

  it('starts a run and shows every task reaching SUCCEEDED live, without reloading', async () => {
    await page.getByRole('button', { name: 'Start run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Input (JSON object)').fill(JSON.stringify({ site: site.url }));
    const key = unique('key');
    await dialog.getByLabel('Idempotency key (optional)').fill(key);
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+/);
    const runUrl = page.url();
    await markPage(page);
    // The sleep step is seen running before it succeeds: the page follows the run as it happens.
    await taskRow(page, 'wait').and(page.locator('[data-status="RUNNING"]')).waitFor();
    await page.screenshot({ path: join(shots, '05-run-live.png'), fullPage: true });
    for (const step of ['fetch', 'wait', 'summarize']) await taskRow(page, step).and(page.locator('[data-status="SUCCEEDED"]')).waitFor();
    await page.locator('h1 [data-status="SUCCEEDED"]').waitFor();
    expect(await stillSamePage(page)).toBe(true);

    // Outputs and logs of a step, and the run's output.
    await page.getByRole('button', { name: 'fetch', exact: true }).click();
    const logs = page.getByRole('log', { name: 'Logs of fetch' });
    await logs.locator('[data-log-line]', { hasText: /answered 200/ }).waitFor();
    await page.locator('pre[aria-label="Run output"]', { hasText: '"alpha"' }).waitFor();
    expect(await stillSamePage(page)).toBe(true);
    await page.screenshot({ path: join(shots, '06-run-succeeded.png'), fullPage: true });

    // The same idempotency key with another input is refused, and the dialog says why.
    await page.getByRole('link', { name: /v1$/ }).click();
    await page.getByRole('button', { name: 'Start run' }).click();
    const again = page.getByRole('dialog');
    await again.getByLabel('Idempotency key (optional)').fill(key);
    await again.getByLabel('Input (JSON object)').fill(JSON.stringify({ site: `${site.url}/elsewhere` }));
    await again.getByRole('button', { name: 'Start run' }).click();
    await again.getByRole('alert').filter({ hasText: 'The run was not started' }).filter({ hasText: 'was already used' }).waitFor();
    // With the same input it returns the first run: no new run, and the page says so.
    await again.getByLabel('Input (JSON object)').fill(JSON.stringify({ site: site.url }));
    await again.getByRole('button', { name: 'Start run' }).click();
    await page.getByText('This idempotency key was used before').waitFor();
    expect(new URL(page.url()).pathname).toBe(new URL(runUrl).pathname);
  });

  it('cancels a running run, retries it, and follows both live', async () => {
    const name = unique('long-sleep');
    await createWorkflowByApi(name, [{ id: 'nap', capability: 'sleep', input: { ms: 120_000 } }]);
    await page.goto(`${origin}/workflows`);
    await page.getByRole('button', { name: `Start a run of ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+/);
    await markPage(page);
    await taskRow(page, 'nap').and(page.locator('[data-status="RUNNING"]')).waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').fill('browser test');
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 [data-status="CANCELLED"]').waitFor();
    await taskRow(page, 'nap').and(page.locator('[data-status="CANCELLED"]')).waitFor();
    await page.getByText('browser test').waitFor();
    expect(await stillSamePage(page)).toBe(true);

    // Retried, the cancelled step runs again and the page follows it live once more.
    await page.getByRole('button', { name: 'Retry failed steps' }).click();
    await taskRow(page, 'nap').and(page.locator('[data-status="RUNNING"]')).waitFor();
    // Its attempts start over, and the page says how many it made in all.
    await taskRow(page, 'nap').filter({ hasText: /1\/\d+ · 2 in all/ }).waitFor();
    await page.locator('[data-live-state="live"]').waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('h1 [data-status="CANCELLED"]').waitFor();
    expect(await stillSamePage(page)).toBe(true);
  });

  it('lists runs by status, and shows a run started elsewhere appear and finish without reloading', async () => {
    await page.goto(`${origin}/runs?status=CANCELLED`);
    await waitForPage(page, 'Runs');
    await page.locator('table[aria-label="Runs"] [data-status="CANCELLED"]').first().waitFor();
    expect(await page.locator('table[aria-label="Runs"] tbody [data-status="SUCCEEDED"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Cancelled', pressed: true }).click();
    await page.locator('table[aria-label="Runs"] tbody [data-status="SUCCEEDED"]').first().waitFor();
    await markPage(page);

    // A run started through the API (as another client would) shows up, then succeeds, on this page.
    const workflowId = await createWorkflowByApi(unique('quick'), [{ id: 'pause', capability: 'sleep', input: { ms: 800 } }]);
    const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId } }, { token: await adminToken() });
    const runId = started.data!.startRun.run.id;
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    await row.locator('[data-status="SUCCEEDED"]').waitFor();
    expect(await stillSamePage(page)).toBe(true);
    await page.screenshot({ path: join(shots, '07-runs.png'), fullPage: true });
  });

  it('lists a task that ran out of attempts and replays it', async () => {
    const name = unique('flaky-partner');
    await createWorkflowByApi(name, [{ id: 'call', capability: 'http.request', input: { url: `${site.url}/broken` }, retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 } }]);
    await page.goto(`${origin}/workflows`);
    await page.getByRole('button', { name: `Start a run of ${name}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start run' }).click();
    await page.locator('h1 [data-status="FAILED"]').waitFor();
    await taskRow(page, 'call').and(page.locator('[data-status="FAILED"]')).waitFor();
    await page.getByRole('button', { name: 'call', exact: true }).click();
    // The error as the worker reported it, and both attempts.
    await page.locator('#task-panel [role="alert"]', { hasText: 'HTTP_STATUS' }).waitFor();
    const attempts = page.locator('table[aria-label="Attempts of call"] tbody tr');
    await attempts.nth(1).waitFor();
    expect(await attempts.count()).toBe(2);
    expect(await taskRow(page, 'call').textContent()).toContain('2/2');

    await nav(page).getByRole('link', { name: 'Dead letters' }).click();
    const letter = page.locator('table[aria-label="Dead letters"] tbody tr', { hasText: name });
    await letter.waitFor();
    expect(await letter.textContent()).toContain('HTTP_STATUS');
    await page.screenshot({ path: join(shots, '09-dead-letters.png'), fullPage: true });
    // Replaying asks first.
    await letter.getByRole('button', { name: 'Replay' }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByText(/runs its failed and cancelled steps again/).waitFor();
    await confirm.getByRole('button', { name: /^Replay/ }).click();
    await page.getByText(/is queued again/).waitFor();
    await page.getByRole('link', { name: 'Watch the run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+/);
    await page.locator('h1', { hasText: name }).waitFor();
  });

  it('warns before replaying a dead letter whose error is not retryable', async () => {
    const name = unique('broken-template');
    const workflowId = await createWorkflowByApi(name, [
      { id: 'first', capability: 'transform', input: { value: { a: 1 } } },
      // Only known once "first" ran: its output has no such field, so the input cannot be built, and trying again would not help.
      { id: 'shape', capability: 'transform', dependsOn: ['first'], input: { value: '{{ steps.first.output.nothing.deeper }}' } },
    ]);
    const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId } }, { token: await adminToken() });
    expect(started.errors).toBeUndefined();
    await page.goto(`${origin}/dead-letters`);
    const letter = page.locator('table[aria-label="Dead letters"] tbody tr', { hasText: name });
    await eventually(
      async () => {
        if ((await letter.count()) > 0) return true;
        await page.reload();
        await page.locator('table[aria-label="Dead letters"], :text("No dead letters")').first().waitFor();
        return false;
      },
      { timeoutMs: 20_000, what: 'the dead letter to be listed' },
    );
    await letter.getByRole('button', { name: 'Replay' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/marked not retryable/).waitFor();
    expect(await dialog.textContent()).toContain('TEMPLATE_ERROR');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await letter.getByRole('button', { name: 'Replay' }).count()).toBe(1);
  });

  it('creates an API key and shows its secret once', async () => {
    const name = unique('billing-service');
    await nav(page).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill(name);
    await dialog.getByRole('checkbox', { name: /runs:read/ }).check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secret = (await dialog.getByTestId('api-key-secret').textContent())!.trim();
    expect(secret).toMatch(/^orc_[A-Za-z0-9]+_/);
    await page.screenshot({ path: join(shots, '08-api-key-secret.png'), fullPage: true });
    // The key works, with the scopes chosen.
    const res = await platform.graphql<{ currentApiKey: { name: string; scopes: string[] } }>('{ currentApiKey { name scopes } }', {}, { apiKey: secret });
    expect(res.data?.currentApiKey).toEqual({ name, scopes: ['runs:read'] });

    // Escape does not throw the secret away: the dialog stays and asks whether it was copied.
    await page.keyboard.press('Escape');
    await dialog.getByText('Did you copy the key?').waitFor();
    // A second Escape does not close it either.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(200);
    await dialog.getByTestId('api-key-secret').waitFor();
    expect(await dialog.getByTestId('api-key-secret').textContent()).toContain(secret);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await page.locator(`tr[data-api-key="${name}"]`).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.locator(`tr[data-api-key="${name}"]`).waitFor();
    expect(await page.content()).not.toContain(secret);
  });

  it('keeps every column of a table in reach at 1024 px: long text wraps, action buttons stay in view', async () => {
    // A member whose name is far wider than the screen.
    const email = await addMemberByApi('Maximilian Alexander Bartholomew Featherstonehaugh-Wolfeschlegelsteinhausenbergerdorff the Third of Longnameshire');

    /** Whether the element lies wholly inside the window, and the page itself does not scroll sideways. */
    const inView = async (locator: ReturnType<Page['locator']>) => {
      const box = (await locator.boundingBox())!;
      const viewport = page.viewportSize()!;
      return box.x >= 0 && box.x + box.width <= viewport.width;
    };
    const pageScrollsSideways = () => page.evaluate(() => {
      const root = (globalThis as any).document.documentElement as { scrollWidth: number; clientWidth: number };
      return root.scrollWidth > root.clientWidth;
    });

    await page.setViewportSize({ width: 1024, height: 800 });
    try {
      await page.goto(`${origin}/members`);
      await waitForPage(page, 'Members');
      await page.getByLabel('Search members').fill(email);
      const row = page.locator('table[aria-label="Members"] tbody tr', { hasText: email });
      await row.waitFor();
      await row.getByRole('button', { name: 'Remove' }).waitFor();
      expect(await inView(row.getByRole('button', { name: 'Remove' }))).toBe(true);
      expect(await inView(row.getByLabel(`Role of ${email}`))).toBe(true);
      expect(await pageScrollsSideways()).toBe(false);
      await page.screenshot({ path: join(shots, '17-members-long-name-1024.png'), fullPage: true });

      await page.goto(`${origin}/audit`);
      await waitForPage(page, 'Audit log');
      const firstEvent = page.locator('table[aria-label="Audit events"] tbody tr').first();
      await firstEvent.waitFor();
      expect(await inView(firstEvent.getByRole('button', { name: 'Details' }))).toBe(true);
      expect(await pageScrollsSideways()).toBe(false);
      // The date inputs are wide enough for a whole date and time.
      for (const label of ['From', 'To']) {
        const fits = await page.getByLabel(label, { exact: true }).evaluate((input: any) => (input as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width >= 200);
        expect(fits).toBe(true);
      }
      await page.screenshot({ path: join(shots, '18-audit-1024.png') });
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('searches members once typing pauses, not once per keystroke', async () => {
    await page.goto(`${origin}/members`);
    await waitForPage(page, 'Members');
    await page.locator('table[aria-label="Members"] tbody tr').first().waitFor();
    const searches: string[] = [];
    const countSearches = (request: { postData(): string | null }) => {
      const body = request.postData();
      if (body?.includes('query Members')) searches.push(body);
    };
    page.on('request', countSearches);
    try {
      await page.getByLabel('Search members').pressSequentially(admin.email, { delay: 40 });
      await page.locator('table[aria-label="Members"] tbody tr', { hasText: admin.email }).waitFor();
      await page.getByText('1 member', { exact: true }).waitFor();
    } finally {
      page.off('request', countSearches);
    }
    // One search per pause: 1, or 2 should the machine stall mid-typing; never one per keystroke.
    expect(searches.length).toBeGreaterThanOrEqual(1);
    expect(searches.length).toBeLessThanOrEqual(2);
    expect(searches[searches.length - 1]).toContain(admin.email);
  });

  it('asks before changing a member’s role, and says when it is done', async () => {
    const email = await addMemberByApi('Rita Rolechange');
    await page.goto(`${origin}/members`);
    await waitForPage(page, 'Members');
    await page.getByLabel('Search members').fill(email);
    const row = page.locator('table[aria-label="Members"] tbody tr', { hasText: email });
    await row.waitFor();
    await row.getByLabel(`Role of ${email}`).selectOption('OPERATOR');
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`Change the role of ${email}?`).waitFor();
    // Cancelled, nothing changes.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await row.getByLabel(`Role of ${email}`).inputValue()).toBe('VIEWER');
    await row.getByLabel(`Role of ${email}`).selectOption('OPERATOR');
    await dialog.getByRole('button', { name: `Make ${email} operator` }).click();
    await page.getByRole('status').filter({ hasText: `${email} is now operator.` }).waitFor();
    // The row keeps the chosen role from then on: it does not go back to the old one while the member
    // list fetched after the change is on its way (it did, read at once, in CI at 09:46).
    expect(await row.getByLabel(`Role of ${email}`).inputValue()).toBe('OPERATOR');

    // Lowering your own role warns that you lose what you may do.
    const me = page.locator('table[aria-label="Members"] tbody tr', { hasText: admin.email });
    await page.getByLabel('Search members').fill(admin.email);
    await me.waitFor();
    await me.getByLabel(`Role of ${admin.email}`).selectOption('VIEWER');
    await dialog.getByText('Change your own role?').waitFor();
    await dialog.getByText(/cannot undo this yourself/).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await me.getByLabel(`Role of ${admin.email}`).inputValue()).toBe('OWNER');
  });

  it('registers an app, suggesting the slug from the name and showing a refused slug under its field', async () => {
    const name = `Support Summarizer ${randomUUID().slice(0, 6)}`;
    await page.goto(`${origin}/apps`);
    await waitForPage(page, 'Apps');
    await page.getByRole('button', { name: 'Register app' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill(name);
    expect(await dialog.getByLabel('Slug').inputValue()).toBe(name.toLowerCase().replace(/ /g, '-'));
    // A slug of one's own is kept when the name changes, and the API's refusal reads as a field error.
    await dialog.getByLabel('Slug').fill('Not A Slug');
    await dialog.getByLabel('Name').fill(`${name}!`);
    expect(await dialog.getByLabel('Slug').inputValue()).toBe('Not A Slug');
    await dialog.getByRole('button', { name: 'Register app' }).click();
    const slugError = dialog.getByText(/^slug "Not A Slug" is not valid/);
    await slugError.waitFor();
    expect(await dialog.getByText(/input\./).count()).toBe(0);
    // Emptied, the slug follows the name again.
    await dialog.getByLabel('Slug').fill('');
    await dialog.getByLabel('Name').fill(name);
    expect(await dialog.getByLabel('Slug').inputValue()).toBe(name.toLowerCase().replace(/ /g, '-'));
    await dialog.getByRole('button', { name: 'Register app' }).click();
    await page.getByRole('heading', { name: new RegExp(`^${name}`), level: 1 }).waitFor();
  });

  it('edits an app’s details', async () => {
    const created = await platform.graphql<{ createApp: { id: string } }>('mutation($input: CreateAppInput!) { createApp(input: $input) { id } }', { input: { name: 'Ticket triage', slug: unique('ticket-triage'), tags: ['nlp'] } }, { token: await adminToken() });
    if (!created.data) throw new Error(`createApp failed: ${JSON.stringify(created.errors)}`);
    await page.goto(`${origin}/apps/${created.data.createApp.id}`);
    await page.getByRole('heading', { name: /^Ticket triage/, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const dialog = page.getByRole('dialog');
    // The owner list comes from the members; the caller owns the app they registered.
    await dialog.locator('option', { hasText: admin.email }).waitFor({ state: 'attached' });
    expect(await dialog.getByLabel('Owner').inputValue()).not.toBe('');
    await dialog.getByLabel('Name').fill('Ticket triage v2');
    await dialog.getByLabel('Description').fill('Sorts incoming tickets');
    await dialog.getByLabel('Tags').fill('nlp, tickets');
    await dialog.getByLabel('Owner').selectOption('');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: /^Ticket triage v2/, level: 1 }).waitFor();
    await page.getByText('Sorts incoming tickets').waitFor();
    const overview = page.locator('section', { has: page.getByRole('heading', { name: 'Overview' }) });
    await overview.getByText('tickets', { exact: true }).waitFor();
    expect(await overview.textContent()).not.toContain(admin.email);
  });

  it('creates a workflow for an app chosen in the editor', async () => {
    const name = unique('triage-nightly');
    await page.goto(`${origin}/workflows/new`);
    await waitForPage(page, 'New workflow');
    await page.locator('#main option', { hasText: 'Ticket triage v2' }).first().waitFor({ state: 'attached' });
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('App (optional)').selectOption({ label: (await page.locator('#main option', { hasText: 'Ticket triage v2' }).first().textContent())! });
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await waitForPage(page, name);
    await page.getByRole('link', { name: 'Ticket triage v2' }).click();
    await page.getByRole('heading', { name: /^Ticket triage v2/, level: 1 }).waitFor();
    await page.getByRole('link', { name }).waitFor();
  });

  it('asks before archiving an app', async () => {
    await page.goto(`${origin}/apps`);
    await page.getByRole('link', { name: 'Ticket triage v2' }).click();
    await page.getByRole('heading', { name: /^Ticket triage v2/, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Archive' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Archive Ticket triage v2?').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('h1 [data-status="ACTIVE"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Archive' }).click();
    await dialog.getByRole('button', { name: 'Archive app' }).click();
    await page.locator('h1 [data-status="ARCHIVED"]').waitFor();
    await page.getByRole('button', { name: 'Restore' }).waitFor();
  });

  it('asks before revoking an invitation', async () => {
    const email = `${unique('invitee')}@example.com`;
    await page.goto(`${origin}/members`);
    await waitForPage(page, 'Members');
    await page.getByRole('button', { name: 'Invite member' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email').fill(email);
    await dialog.getByRole('button', { name: 'Create invitation' }).click();
    await dialog.getByTestId('invitation-link').waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();
    const row = page.locator('table[aria-label="Invitations"] tbody tr', { hasText: email });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await dialog.getByRole('button', { name: `Revoke the invitation for ${email}` }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Show closed').check();
    await page.locator('table[aria-label="Invitations"] tbody tr', { hasText: email }).locator('[data-status="REVOKED"]').waitFor();
  });

  it('lists a refused config’s violations under the field, and forgets them once the config is edited', async () => {
    const schema = { type: 'object', required: ['model'], additionalProperties: false, properties: { model: { enum: ['small', 'large'] }, temperature: { type: 'number', maximum: 2 } } };
    const created = await platform.graphql<{ createApp: { id: string } }>('mutation($input: CreateAppInput!) { createApp(input: $input) { id } }', { input: { name: 'Config checker', slug: unique('config-checker'), configSchema: schema, config: { model: 'small' } } }, { token: await adminToken() });
    if (!created.data) throw new Error(`createApp failed: ${JSON.stringify(created.errors)}`);
    await page.goto(`${origin}/apps/${created.data.createApp.id}`);
    await page.getByRole('heading', { name: /^Config checker/, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Publish new version' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Config (JSON)').fill(JSON.stringify({ model: 'huge', temperature: 5, extra: true }, null, 2));
    await dialog.getByRole('button', { name: 'Publish and make current' }).click();
    const violations = dialog.getByTestId('config-violations').locator('li');
    await violations.first().waitFor();
    const lines = await violations.allTextContents();
    expect(lines.length).toBe(3);
    expect(lines.some((l) => l.startsWith('/temperature'))).toBe(true);
    expect(lines.some((l) => l.startsWith('/model'))).toBe(true);
    expect(await dialog.getByLabel('Config (JSON)').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: join(shots, '19-config-violations.png') });
    // Editing the config clears the refusal (and its request id) at once.
    await dialog.getByLabel('Config (JSON)').fill(JSON.stringify({ model: 'large' }));
    expect(await dialog.getByTestId('config-violations').count()).toBe(0);
    expect(await dialog.getByRole('alert').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Publish and make current' }).click();
    await page.getByText('Configuration · v2 in force').waitFor();

    // At 1024 px the versions table keeps its button in view; the dashboard keeps the runs' Duration.
    await page.setViewportSize({ width: 1024, height: 800 });
    try {
      const rollback = page.getByRole('button', { name: 'Make v1 current' });
      await rollback.waitFor();
      const box = (await rollback.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(1024);
      await page.screenshot({ path: join(shots, '21-app-1024.png'), fullPage: true });
      await page.goto(`${origin}/`);
      await waitForPage(page, 'Dashboard');
      const duration = page.locator('table[aria-label="Recent runs"] th', { hasText: 'Duration' });
      await duration.waitFor();
      const header = (await duration.boundingBox())!;
      expect(header.x + header.width).toBeLessThanOrEqual(1024);
      await page.screenshot({ path: join(shots, '22-dashboard-1024.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('says "not found" for an address with an id that cannot exist, without offering to try again', async () => {
    const cases: Array<[string, string]> = [
      ['/apps/not-a-uuid', 'App not found'],
      ['/runs/not-a-uuid', 'Run not found'],
      ['/workflows/not-a-uuid', 'Workflow not found'],
      ['/workflows/not-a-uuid/new-version', 'Workflow not found'],
      [`/apps/${randomUUID()}`, 'App not found'],
      [`/workflows/${randomUUID()}`, 'Workflow not found'],
    ];
    for (const [path, expected] of cases) {
      await page.goto(`${origin}${path}`);
      await page.getByText(expected, { exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Try again' }).count()).toBe(0);
      expect(await page.getByRole('alert').count()).toBe(0);
    }
  });

  it('lets a person change their name and password on their account page', async () => {
    const password = `Marmalade-${randomUUID().slice(0, 13)}-Lighthouse`;
    const email = await addMemberByApi('Olga Original', password);
    const profile = await browser.newProfile();
    const own = profile.pages()[0] ?? (await profile.newPage());
    await submitSignIn(own, origin, email, password);
    await waitForPage(own, 'Dashboard');
    await own.getByTestId('current-user').click();
    await waitForPage(own, 'Your account');

    await own.getByLabel('Name', { exact: true }).fill('Olga Renamed');
    await own.getByRole('button', { name: 'Save name' }).click();
    await own.getByText('Your name is now Olga Renamed.').waitFor();
    await own.getByTestId('current-user').filter({ hasText: 'Olga Renamed' }).waitFor();

    // Checked here first; then the API's refusal goes under the field it names.
    await own.getByLabel('Current password').fill('not-my-password');
    await own.getByLabel('New password', { exact: true }).fill('Porcupine-quartz-orchard-91');
    await own.getByLabel('New password again').fill('Porcupine-quartz-orchard-19');
    await own.getByRole('button', { name: 'Change password' }).click();
    await own.getByText('The two new passwords differ.').waitFor();
    await own.getByLabel('New password again').fill('Porcupine-quartz-orchard-91');
    await own.getByRole('button', { name: 'Change password' }).click();
    await own.getByText('current password is incorrect').waitFor();
    expect(await own.getByLabel('Current password').getAttribute('aria-invalid')).toBe('true');

    await own.getByLabel('Current password').fill(password);
    await own.getByRole('button', { name: 'Change password' }).click();
    await own.getByText('Your password was changed.').waitFor();
    // Still signed in here (the answer is a fresh session), and only the new password works.
    await nav(own).getByRole('link', { name: 'Members' }).click();
    await own.locator('table[aria-label="Members"] tbody tr').first().waitFor();
    const login = (pw: string) => platform.graphql('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email, password: pw } });
    expect((await login(password)).errors).toBeDefined();
    expect((await login('Porcupine-quartz-orchard-91')).errors).toBeUndefined();
    await profile.close();
  });

  it('resets a forgotten password from the sign-in page through the mailed link', async () => {
    const email = await addMemberByApi('Fay Forgetful');
    const profile = await browser.newProfile();
    const own = profile.pages()[0] ?? (await profile.newPage());
    await own.goto(`${origin}/sign-in`);
    await own.getByRole('link', { name: 'Forgot password?' }).click();
    await own.getByLabel('Email').fill(email);
    await own.getByRole('button', { name: 'Mail me a reset link' }).click();
    await own.getByText(`If ${email} has an Orchestra account, a mail with a reset link is on its way.`).waitFor();
    // The reset mail, not the verification mail the new account was sent when it accepted its invitation.
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes(email) && (m.text ?? '').includes('reset-password?token='));
    const token = /reset-password\?token=(\S+)/.exec(mail.text ?? '')?.[1];
    expect(token).toBeDefined();
    await own.goto(`${origin}/reset-password?token=${token!}`);
    await own.getByLabel('New password').fill('short');
    await own.getByRole('button', { name: 'Set the new password' }).click();
    // The API's refusal goes under the field it names.
    await own.getByText(/password is too short/).waitFor();
    expect(await own.getByLabel('New password').getAttribute('aria-invalid')).toBe('true');
    await own.getByLabel('New password').fill('Porcupine-quartz-orchard-73');
    await own.getByRole('button', { name: 'Set the new password' }).click();
    await own.getByText('Your password was changed.').waitFor();
    await own.getByRole('link', { name: 'Sign in', exact: true }).first().click();
    await own.getByLabel('Email').fill(email);
    await own.getByLabel('Password').fill('Porcupine-quartz-orchard-73');
    await own.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitForPage(own, 'Dashboard');
    await profile.close();
  });

  it('shows an unverified member a banner until the mailed verification link is followed', async () => {
    const password = `Marmalade-${randomUUID().slice(0, 13)}-Lighthouse`;
    const email = await addMemberByApi('Vera Verify', password);
    const profile = await browser.newProfile();
    const own = profile.pages()[0] ?? (await profile.newPage());
    await submitSignIn(own, origin, email, password);
    await waitForPage(own, 'Dashboard');
    await own.getByTestId('verify-email-banner').filter({ hasText: email }).waitFor();
    const mail = await smtp.waitFor((m) => recipientsOf(m).includes(email) && (m.text ?? '').includes('verify-email?token='));
    const token = /verify-email\?token=(\S+)/.exec(mail.text ?? '')?.[1];
    expect(token).toBeDefined();
    // Leaving the page while its start-up refresh is in flight is fine: identity's reuse grace answers the
    // traded token again (tests/web/session-reload.e2e.test.ts).
    await own.goto(`${origin}/verify-email?token=${token!}`);
    await own.getByText('Your address is verified.').waitFor();
    await own.goto(`${origin}/account`);
    await own.getByTestId('email-status').filter({ hasText: 'verified' }).filter({ hasNotText: 'not verified' }).waitFor();
    expect(await own.getByTestId('verify-email-banner').count()).toBe(0);
    await profile.close();
  });

  it('takes screenshots of the main pages', async () => {
    const pages: Array<[string, string]> = [
      ['/', 'Dashboard'],
      ['/workers', 'Workers'],
      ['/apps', 'Apps'],
      ['/members', 'Members'],
      ['/audit', 'Audit log'],
      ['/dead-letters', 'Dead letters'],
    ];
    for (const [i, [path, heading]] of pages.entries()) {
      await page.goto(`${origin}${path}`);
      await waitForPage(page, heading);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      await page.screenshot({ path: join(shots, `${String(10 + i)}-${heading.toLowerCase().replace(/\s+/g, '-')}.png`), fullPage: true });
    }
    // The audit log shows what the browser did (the workflow it created), filtered by action.
    await nav(page).getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('workflow.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=workflow/);
    const events = page.locator('table[aria-label="Audit events"] tbody tr');
    // The unfiltered page stays up until the filtered one arrives: wait for the sign-ins to go.
    await events.filter({ hasText: 'auth.' }).first().waitFor({ state: 'detached' });
    await events.filter({ hasText: 'workflow.create' }).first().waitFor();
    expect(await events.filter({ hasText: 'auth.' }).count()).toBe(0);
    await page.screenshot({ path: join(shots, '16-audit-filtered.png'), fullPage: true });
  });

  it('exports the filtered audit log as CSV and JSON lines, and verifies the chain', async () => {
    // The page is still filtered on workflow.* from the test before.
    expect(page.url()).toContain('action=workflow');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csvText = readFileSync(await csv.path(), 'utf8');
    const [header, ...rows] = csvText.trim().split('\n');
    expect(header).toMatch(/action/);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.includes('workflow.'))).toBe(true);

    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON lines' }).click()]);
    const lines = readFileSync(await jsonl.path(), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { action: string });
    expect(lines.length).toBe(rows.length);
    expect(lines.every((e) => e.action.startsWith('workflow.'))).toBe(true);

    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByText(/The chain is intact: \d+ events checked/).waitFor();
  });

  it('switches organization, showing only the new organization’s data', async () => {
    const home = await page.getByLabel('Organization').inputValue();
    const name = unique('Second org');
    await page.getByLabel('Organization').selectOption('__new__');
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill(name);
    await dialog.getByRole('button', { name: 'Create and switch' }).click();
    await waitForPage(page, 'Dashboard');
    await page.getByText(`What is happening in ${name} right now.`).waitFor();
    await nav(page).getByRole('link', { name: 'Workflows' }).click();
    await page.getByText('No workflows yet').waitFor();
    // And back: the first organization's workflows are there again.
    await page.getByLabel('Organization').selectOption(home);
    await waitForPage(page, 'Dashboard');
    await nav(page).getByRole('link', { name: 'Workflows' }).click();
    await page.locator('table[aria-label="Workflows"] tbody tr').first().waitFor();
  });

  describe('a viewer', () => {
    let viewer: { email: string; password: string };
    let viewerPage: Page;

    beforeAll(async () => {
      viewer = { email: `${unique('viewer')}@example.com`, password: `Tangerine-${randomUUID().slice(0, 13)}-Harbour` };
      const invite = await platform.graphql<{ inviteMember: { token: string } }>(
        'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token } }',
        { input: { email: viewer.email, role: 'VIEWER' } },
        { token: await adminToken() },
      );
      if (!invite.data) throw new Error(`invite failed: ${JSON.stringify(invite.errors)}`);
      const profile = await browser.newProfile();
      viewerPage = profile.pages()[0] ?? (await profile.newPage());
      // The invitee accepts in the browser, through the link an admin would hand over.
      await viewerPage.goto(`${origin}/accept-invitation?token=${encodeURIComponent(invite.data.inviteMember.token)}`);
      // The link carries the token: nothing to paste. The password rules are said before any refusal.
      await viewerPage.getByText('Set your name and password to accept the invitation.').waitFor();
      expect(await viewerPage.getByLabel('Invitation token').count()).toBe(0);
      await viewerPage.getByText(/10 characters or more, not a common password, and not containing your name or email/).waitFor();
      await viewerPage.getByLabel('Your name').fill('Vera Viewer');
      // A password the API refuses: its message is shown under the password field.
      await viewerPage.getByLabel('Password').fill(`${viewer.email.split('@')[0]!}-2026`);
      await viewerPage.getByRole('button', { name: 'Accept and sign in' }).click();
      await viewerPage.getByText(/^password contains your/).waitFor();
      expect(await viewerPage.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
      await viewerPage.getByLabel('Password').fill(viewer.password);
      await viewerPage.getByRole('button', { name: 'Accept and sign in' }).click();
      await waitForPage(viewerPage, 'Dashboard');
    });

    it('does not see what only operators and admins may do', async () => {
      const menu = nav(viewerPage);
      await menu.getByRole('link', { name: 'Workflows' }).waitFor();
      expect(await menu.getByRole('link', { name: 'API keys' }).count()).toBe(0);
      expect(await menu.getByRole('link', { name: 'Audit log' }).count()).toBe(0);

      await menu.getByRole('link', { name: 'Workflows' }).click();
      await viewerPage.locator('table[aria-label="Workflows"] tbody tr').first().waitFor();
      expect(await viewerPage.getByRole('link', { name: 'New workflow' }).count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: /Start a run/ }).count()).toBe(0);

      await menu.getByRole('link', { name: 'Runs' }).click();
      await viewerPage.locator('table[aria-label="Runs"] tbody tr a').first().click();
      await viewerPage.getByRole('heading', { name: 'Tasks' }).waitFor();
      expect(await viewerPage.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: 'Retry failed steps' }).count()).toBe(0);

      await menu.getByRole('link', { name: 'Members' }).click();
      await viewerPage.locator('table[aria-label="Members"] tbody tr').first().waitFor();
      expect(await viewerPage.getByRole('button', { name: 'Remove' }).count()).toBe(0);
      expect(await viewerPage.getByRole('button', { name: 'Invite member' }).count()).toBe(0);
      await viewerPage.screenshot({ path: join(shots, '20-viewer-members.png'), fullPage: true });

      // Typing the address of an admin page shows why there is nothing, and the API refuses anyway.
      await viewerPage.goto(`${origin}/api-keys`);
      await viewerPage.getByText('Only admins and owners manage API keys.').waitFor();
    });

    it('is sent to sign in, with the reason, when its sessions are revoked elsewhere', async () => {
      const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: viewer });
      const ended = await platform.graphql<{ logoutEverywhere: boolean }>('mutation { logoutEverywhere }', {}, { token: login.data!.login.accessToken });
      expect(ended.data?.logoutEverywhere).toBe(true);
      // The app learns it from whichever comes first: a live subscription the revocation ends, or its
      // next request (TOKEN_REVOKED); the refresh is refused too; the app signs out. When the socket
      // was first, the page is already on its way to sign-in and the link may be gone: no click then.
      await nav(viewerPage).getByRole('link', { name: 'Dead letters' }).click({ timeout: 5_000 }).catch(() => undefined);
      await viewerPage.waitForURL(/\/sign-in/);
      await viewerPage.getByText('Your session has ended. Please sign in again.').waitFor();
      expect(await viewerPage.evaluate(() => (globalThis as any).localStorage.getItem('orchestra.session') as string | null)).toBeNull();
    });
  });
});
