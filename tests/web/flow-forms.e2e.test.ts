import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Creating flow control in the web app, in a real browser (Chromium through playwright-core) against
 * the platform (identity and orchestration in their own processes, the gateway serving the built
 * app): a schedule made with the form (its cron read live by the API, refused while wrong, its next
 * runs in the chosen zone), its ticks with the ones missed while down, deleted after a confirmation;
 * a rate limit added, changed, refused with a bad name and deleted; the organization's limits, set
 * by an operator, shown to its admin.
 */

let platform: Platform;
let browser: Browser;
let origin: string;
let token: string;
let page: Page;
const shots = screenshotDir();

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

const SCHEDULES = 'query { schedules { id cron timezone input overlap catchUp catchUpLimit workflow { name } } }';
interface ScheduleView {
  id: string;
  cron: string;
  timezone: string;
  input: unknown;
  overlap: string;
  catchUp: string;
  catchUpLimit: number;
  workflow: { name: string };
}

describe('flow control forms', () => {
  it('creates a schedule with the form: the cron is read live, refused while wrong, previewed in its zone', async () => {
    await api('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'weekly-digest', steps: [{ id: 'a', capability: 'noop' }] } });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New schedule' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Workflow').selectOption({ label: 'weekly-digest' });
    // A wrong cron is refused by the API while typing, before anything is saved.
    await dialog.getByLabel('Cron').fill('61 * * * *');
    await dialog.getByTestId('cron-error').waitFor();
    expect(await dialog.getByTestId('cron-error').textContent()).toMatch(/invalid cron expression "61 \* \* \* \*"/);
    await dialog.getByLabel('Cron').fill('30 8 * * 1');
    await dialog.getByLabel('Time zone').fill('Europe/Atlantis');
    await dialog.getByTestId('cron-error').filter({ hasText: 'unknown time zone "Europe/Atlantis"' }).waitFor();
    await dialog.getByLabel('Time zone').fill('Europe/Berlin');
    const preview = dialog.getByTestId('cron-preview');
    await preview.waitFor();
    expect(await preview.textContent()).toContain('Next runs (Europe/Berlin)');
    expect(await preview.locator('li').count()).toBe(5);
    // Each listed instant is a Monday 08:30 in Berlin (its UTC instant on hover).
    for (const at of await preview.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('title') ?? ''))) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(at));
      expect(local).toBe('Mon 08:30');
    }
    // Input that is not a JSON object is refused in the form.
    await dialog.getByLabel('Input (JSON)').fill('[1, 2]');
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    await dialog.getByText('The input is a JSON object').waitFor();
    await dialog.getByLabel('Input (JSON)').fill('{ "audience": "all" }');
    await dialog.getByLabel('When the previous run has not ended').selectOption('QUEUE');
    await dialog.getByLabel('Catch up missed ticks').selectOption('ALL');
    await dialog.getByLabel('Missed ticks to run, at most').fill('3');
    await page.screenshot({ path: join(shots, 'schedule-form-01.png'), fullPage: true });
    await dialog.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.locator('tr', { hasText: 'weekly-digest' });
    await row.getByText('30 8 * * 1').waitFor();
    expect(await row.textContent()).toContain('Europe/Berlin');
    expect(await row.textContent()).toContain('QUEUE · catch up ALL');
    const { schedules } = await api<{ schedules: ScheduleView[] }>(SCHEDULES, {});
    expect(schedules.find((s) => s.workflow.name === 'weekly-digest')).toMatchObject({ cron: '30 8 * * 1', timezone: 'Europe/Berlin', input: { audience: 'all' }, overlap: 'QUEUE', catchUp: 'ALL', catchUpLimit: 3 });
  });

  it("shows a schedule's ticks with those missed while down and why, and deletes it after asking", async () => {
    const { createWorkflow } = await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
      input: { name: 'hourly-sync', steps: [{ id: 'a', capability: 'noop' }] },
    });
    const { createSchedule } = await api<{ createSchedule: { id: string } }>('mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }', {
      i: { workflowId: createWorkflow.id, cron: '0 * * * *', catchUp: 'NONE' },
    });
    // As if no orchestration process had run for three hours: the ticks since then are due and missed.
    const schema = platform.schemas.orchestration;
    await platform.pool.query(`UPDATE "${schema}".schedules SET next_fire_at = date_trunc('hour', now()) - interval '3 hours' WHERE id = $1`, [createSchedule.id]);
    const missed = async () => (await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".schedule_fires WHERE schedule_id = $1 AND outcome = 'MISSED'`, [createSchedule.id])).rows[0]!.n;
    for (const started = Date.now(); (await missed()) < 3; ) {
      if (Date.now() - started > 30_000) throw new Error('the ticker did not record the missed ticks');
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.reload();
    const row = page.locator('tr', { hasText: 'hourly-sync' });
    await row.getByRole('button', { name: 'Ticks' }).click();
    const ticks = page.getByRole('table', { name: 'Schedule ticks' });
    await ticks.locator('tr[data-tick="MISSED"]').nth(2).waitFor();
    expect(await ticks.locator('tr[data-tick="MISSED"]').first().textContent()).toMatch(/MISSED.*catchUp NONE runs no missed tick/);
    await page.screenshot({ path: join(shots, 'schedule-ticks-01.png'), fullPage: true });
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    await row.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog');
    expect(await confirm.textContent()).toContain('hourly-sync');
    await confirm.getByRole('button', { name: 'Delete schedule' }).click();
    await row.waitFor({ state: 'detached' });
    const { schedules } = await api<{ schedules: ScheduleView[] }>(SCHEDULES, {});
    expect(schedules.some((s) => s.workflow.name === 'hourly-sync')).toBe(false);
  });

  it("adds, changes and deletes a rate limit, refuses a bad name next to the field, and shows the organization's limits", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rate limits' }).click();
    await page.getByRole('heading', { name: 'Rate limits', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Add rate limit' }).click();
    let dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('bad name!');
    await dialog.getByLabel('Limit').fill('5');
    await dialog.getByRole('button', { name: 'Add rate limit' }).click();
    await dialog.getByText(/a rate limit name starts with a letter or digit/).waitFor();
    await dialog.getByLabel('Name').fill('openai');
    await dialog.getByLabel('Per').selectOption('SECOND');
    await dialog.getByRole('button', { name: 'Add rate limit' }).click();
    const row = page.locator('tr[data-rate-limit="openai"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('5 per second');
    expect(await row.getByRole('meter').getAttribute('aria-valuenow')).toBe('0');

    await row.getByRole('button', { name: 'Edit' }).click();
    dialog = page.getByRole('dialog');
    await dialog.getByLabel('Limit').fill('0');
    await dialog.getByRole('button', { name: 'Save' }).click();
    // limit 0 is refused by the API, named on the field.
    await dialog.locator('[aria-invalid="true"]').waitFor();
    await dialog.getByLabel('Limit').fill('10');
    await dialog.getByLabel('Per').selectOption('MINUTE');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await row.getByText('10 per minute').waitFor();

    // The limits an operator set for the organization (what `flow-limits set` writes), read-only here.
    const { rows } = await platform.pool.query<{ org_id: string }>(`SELECT org_id FROM "${platform.schemas.orchestration}".rate_limits WHERE name = 'openai'`);
    await platform.pool.query(
      `INSERT INTO "${platform.schemas.orchestration}".org_quotas (org_id, running_tasks_per_pool, queued_tasks, weight, updated_by) VALUES ($1, 8, 5000, 2, 'operator')
       ON CONFLICT (org_id) DO UPDATE SET running_tasks_per_pool = 8, queued_tasks = 5000, weight = 2`,
      [rows[0]!.org_id],
    );
    await page.reload();
    const limits = page.getByRole('table', { name: 'Organization limits' });
    await limits.locator('tr[data-limit="runningTasksPerPool"]').getByText('8', { exact: true }).waitFor();
    expect(await limits.locator('tr[data-limit="queuedTasks"]').textContent()).toContain('5000');
    expect(await limits.locator('tr[data-limit="runsStartedPerMinute"]').textContent()).toContain('no limit');
    expect(await page.getByTestId('fair-share-weight').textContent()).toMatch(/^2 /);
    expect(await page.getByTestId('allowed-pools').textContent()).toContain('default');
    await page.screenshot({ path: join(shots, 'rate-limits-01.png'), fullPage: true });

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete rate limit' }).click();
    await row.waitFor({ state: 'detached' });
    const { rateLimits } = await api<{ rateLimits: Array<{ name: string }> }>('query { rateLimits { name } }', {});
    expect(rateLimits).toEqual([]);
  });
});
