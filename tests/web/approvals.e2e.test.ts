import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { eventually } from '@orchestra/lib';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Approvals in a real browser (Chromium through playwright-core) against the platform (identity and
 * orchestration in their own processes, the gateway serving the built app): two runs wait at an
 * approval step; the nav's badge counts them; one is approved from the Approvals page with a comment
 * (the run goes on with the decision as the step's output), the other rejected from the run page's
 * task drawer (the run fails with APPROVAL_REJECTED); the badge counts down.
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

const runOf = (id: string) =>
  api<{ run: { status: string; error: { code: string } | null; tasks: Array<{ stepId: string; status: string; output: unknown; waitReason: { kind: string } | null }> } }>(
    'query($id: ID!) { run(id: $id) { status error { code } tasks { stepId status output waitReason { kind } } } }',
    { id },
  ).then((d) => d.run);

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

it('approves from the Approvals page and rejects from the task drawer; the badge counts them', async () => {
  const { createWorkflow } = await api<{ createWorkflow: { id: string } }>('mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
    input: { name: 'ship-order', steps: [{ id: 'approve', capability: 'wait', wait: { kind: 'APPROVAL', message: 'Ship order {{ input.orderId }}?' } }] },
  });
  const start = async (orderId: string) =>
    (await api<{ startRun: { run: { id: string } } }>('mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }', { i: { workflowId: createWorkflow.id, input: { orderId } } })).startRun.run.id;
  const first = await start('A-1');
  const second = await start('B-2');
  for (const id of [first, second]) await eventually(async () => (await runOf(id)).tasks[0]?.waitReason?.kind === 'APPROVAL', { timeoutMs: 20_000, what: `run ${id} to wait` });

  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: /Approvals/ }).click();
  await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
  // The badge is polled; the page's own list is read on open.
  await page.reload();
  await eventually(async () => (await nav.getByTestId('approvals-badge').textContent())?.trim() === '2', { timeoutMs: 20_000, what: 'the badge to count 2' });
  const row = page.locator('tr', { hasText: 'Ship order A-1?' });
  await row.waitFor();
  expect(await row.textContent()).toContain('ship-order');
  expect(await page.locator('tr', { hasText: 'Ship order B-2?' }).count()).toBe(1);
  await page.screenshot({ path: join(shots, 'approvals-01-list.png'), fullPage: true });

  await row.getByRole('button', { name: 'Approve approve' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Comment (optional)').fill('packed and ready');
  await page.screenshot({ path: join(shots, 'approvals-02-dialog.png'), fullPage: true });
  await dialog.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('approved.').waitFor();
  await page.locator('tr', { hasText: 'Ship order A-1?' }).waitFor({ state: 'detached' });
  await eventually(async () => (await nav.getByTestId('approvals-badge').textContent())?.trim() === '1', { timeoutMs: 20_000, what: 'the badge to count 1' });
  const approved = await eventually(async () => {
    const run = await runOf(first);
    return run.status === 'SUCCEEDED' ? run : undefined;
  });
  expect(approved.tasks[0]?.output).toMatchObject({ decision: 'APPROVED', comment: 'packed and ready' });

  await page.goto(`${origin}/runs/${second}?task=approve`);
  const drawer = page.getByTestId('task-drawer');
  const section = drawer.getByRole('region', { name: 'Approval' });
  await section.getByText('Ship order B-2?').waitFor();
  await page.screenshot({ path: join(shots, 'approvals-03-drawer.png'), fullPage: true });
  await section.getByRole('button', { name: 'Reject approve' }).click();
  await page.getByRole('dialog').getByLabel('Comment (optional)').fill('address unknown');
  await page.getByRole('dialog').getByRole('button', { name: 'Reject' }).click();
  await section.getByText(/REJECTED by .*address unknown/).waitFor({ timeout: 20_000 });
  const rejected = await eventually(async () => {
    const run = await runOf(second);
    return run.status === 'FAILED' ? run : undefined;
  });
  expect(rejected.error?.code).toBe('APPROVAL_REJECTED');
  await nav.getByTestId('approvals-badge').waitFor({ state: 'detached', timeout: 20_000 });
  await page.screenshot({ path: join(shots, 'approvals-04-rejected.png'), fullPage: true });
}, 180_000);
