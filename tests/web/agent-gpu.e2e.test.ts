import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startOpenAiStandIn, type OpenAiStandIn, type StandInBehaviour, type StandInChatRequest } from '@orchestra/lib';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { accessTokenOf, appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Issue 14's admin app parts beyond the growing answer, in a real browser (Chromium through
 * playwright-core) against the gateway, identity, orchestration and a worker process:
 * - a browser.agent step's steps on the run page, each with the screenshot taken after it, and the
 *   task's tokens and cost; for an agent that failed (no output), the steps it streamed;
 * - the GPU a task ran on, the GPU time it was accounted, and why a GPU step waits;
 * - the workers page showing the worker's GPU and the LLM servers it declares (WORKER_LLM_ENDPOINTS).
 * Stand-ins for what we do not run here, as the issue allows: the model provider is an HTTP server on
 * 127.0.0.1 speaking the OpenAI wire protocol (lib/src/openai-stand-in.ts), scripted as a model that
 * reads the page observation it is sent; the worker's `nvidia-smi` is a shell script printing one GPU
 * (there is no GPU on these machines); the 3-page website is served by this test on 127.0.0.1.
 */

let platform: Platform;
let standIn: OpenAiStandIn;
let browser: Browser;
let page: Page;
let origin: string;
let token: string;
let site: Server;
let siteUrl = '';
let smiDir = '';
const shots = screenshotDir();

const contentOf = (m: { content?: unknown }) => (typeof m.content === 'string' ? m.content : '');
const observationOf = (request: StandInChatRequest) => contentOf((request.messages ?? []).filter((m) => contentOf(m).includes('URL: ')).at(-1) ?? {});
const refOf = (observation: string, role: string, name: string) => new RegExp(`\\[(e\\d+)\\] ${role} "${name}"`).exec(observation)?.[1];
const call = (name: string, args: unknown): StandInBehaviour => ({ kind: 'answer', text: '', toolCalls: [{ name, arguments: JSON.stringify(args) }] });

/**
 * The scripted model: to find the mug's price it goes home → Products → Blue mug and returns the
 * price it reads; when the goal says to wander, it goes back and forth between home and Products.
 */
const model = (request: StandInChatRequest): StandInBehaviour => {
  const goal = (request.messages ?? []).map(contentOf).find((c) => c.startsWith('Goal: ')) ?? '';
  const observation = observationOf(request);
  const path = new URL(/URL: (\S+)/.exec(observation)?.[1] ?? 'http://x/').pathname;
  if (goal.includes('wander')) return call('click', { ref: refOf(observation, 'link', path === '/products' ? 'Home' : 'Products') });
  if (path === '/') return call('click', { ref: refOf(observation, 'link', 'Products') });
  if (path === '/products') return call('click', { ref: refOf(observation, 'link', 'Blue mug') });
  if (path === '/products/mug') return call('done', { result: { item: 'Blue mug', price: /Price: ([\d.]+)/.exec(observation)?.[1] ?? null } });
  return call('fail', { reason: `unexpected page ${path}` });
};

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data || res.errors) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

async function startWorkflow(name: string, steps: unknown[]): Promise<string> {
  await api(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name, steps } });
  const started = await api<{ startRun: { run: { id: string } } }>(`mutation($name: String!) { startRun(input: { workflowName: $name }) { run { id } } }`, { name });
  return started.startRun.run.id;
}

async function runStatus(runId: string): Promise<string> {
  return (await api<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id: runId })).run.status;
}

const finished = (runId: string, timeoutMs = 120_000) =>
  eventually(async () => {
    const status = await runStatus(runId);
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status) ? status : undefined;
  }, { timeoutMs, what: `run ${runId} to finish` });

const agentStep = (goal: string, maxSteps: number) => ({
  id: 'agent',
  capability: 'browser.agent',
  retry: { maxAttempts: 1 },
  input: { provider: 'stand-in', model: 'small', goal, startUrl: `${siteUrl}/`, maxSteps },
});

beforeAll(async () => {
  ensureWebBuilt();
  site = createServer((req, res) => {
    const html = (title: string, body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${title}</title><body>${body}</body>`);
    if (req.url === '/products') return html('Products', '<h1>Products</h1><a href="/products/mug">Blue mug</a> <a href="/">Home</a>');
    if (req.url === '/products/mug') return html('Blue mug', '<h1>Blue mug</h1><p>Price: 12.50</p>');
    return html('Home', '<h1>Shop</h1><a href="/products">Products</a>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  standIn = await startOpenAiStandIn({ respond: model });
  smiDir = mkdtempSync(join(tmpdir(), 'orchestra-nvidia-smi-'));
  const smi = join(smiDir, 'nvidia-smi');
  // Stand-in nvidia-smi (no GPU on the test machine): one 24 GiB GPU, 1 GiB used, 7% busy.
  writeFileSync(smi, '#!/bin/sh\necho "0, NVIDIA L4, 24576, 1024, 7"\n');
  chmodSync(smi, 0o755);
  platform = await startPlatform({
    services: ['identity', 'orchestration'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      orchestration: { WORKER_HEARTBEAT_INTERVAL_MS: '500', EVENT_FLUSH_INTERVAL_MS: '50', DISPATCH_RETRY_DELAY_MS: '100' },
      // The site and the stand-in are on 127.0.0.1: the worker may reach private addresses (a hosted provider would be public).
      // It also declares the stand-in as an LLM server of its own machine (listed on the workers page).
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true', NVIDIA_SMI_PATH: smi, WORKER_SLOTS: '4', WORKER_LLM_ENDPOINTS: standIn.baseUrl },
    },
  });
  const admin = platform.firstAdmin;
  if (!admin) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  token = await accessTokenOf(platform, admin);
  await eventually(async () => ((await api<{ capabilities: string[] }>('{ capabilities }')).capabilities.includes('browser.agent') ? true : undefined), { timeoutMs: 60_000, what: 'a worker offering browser.agent' });
  await api(`mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, {
    input: { name: 'stand-in', baseUrl: standIn.baseUrl, models: [{ alias: 'small', model: 'agent-model-1', pricePer1MInput: 2, pricePer1MOutput: 8 }] },
  });

  browser = await launchBrowser();
  page = await signedInPage(browser, origin, admin);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await standIn?.stop();
  await new Promise((resolve) => site?.close(resolve));
  if (smiDir) rmSync(smiDir, { recursive: true, force: true });
});

describe('a browser agent on the run page', () => {
  it('lists the steps it took, each with its screenshot, and the task’s tokens and cost', async () => {
    const runId = await startWorkflow('agent-mug', [agentStep('Find the price of the blue mug', 6)]);
    expect(await finished(runId)).toBe('SUCCEEDED');
    await page.goto(`${origin}/runs/${runId}?task=agent`);
    const steps = page.locator('ol[aria-label="Agent steps of agent"] > li');
    await steps.nth(2).waitFor({ timeout: 30_000 });
    expect(await steps.count()).toBe(3);
    expect(await steps.nth(0).textContent()).toMatch(/click \[e\d+\] link "Products"/);
    expect(await steps.nth(1).textContent()).toMatch(/click \[e\d+\] link "Blue mug"/);
    expect(await steps.nth(2).textContent()).toContain('done');
    // The two actions have the screenshots taken after them (served through the gateway); done has none.
    for (const i of [1, 2]) {
      const shot = page.locator(`img[alt="Screenshot after step ${i}"]`);
      await shot.waitFor();
      await shot.scrollIntoViewIfNeeded();
      await eventually(async () => ((await shot.evaluate((img: any) => img.complete && img.naturalWidth > 0)) ? true : undefined), { what: `screenshot ${i} to load` });
    }
    expect(await steps.nth(2).locator('img').count()).toBe(0);
    // Enlarging one opens it full size.
    await page.getByRole('button', { name: 'Enlarge the screenshot after step 2' }).click();
    await page.locator('img[alt="Screenshot step-02.jpg, full size"]').waitFor();
    await page.screenshot({ path: join(shots, 'agent-steps-enlarged.png'), fullPage: true });
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    // Its three model calls, their tokens and cost, as accounted (Task.usage).
    const usage = await api<{ run: { tasks: Array<{ usage: { calls: number; promptTokens: number; completionTokens: number } }> } }>(`query($id: ID!) { run(id: $id) { tasks { usage { calls promptTokens completionTokens } } } }`, { id: runId });
    const spent = usage.run.tasks[0]!.usage;
    expect(spent.calls).toBe(3);
    const line = page.locator('[data-task-usage]');
    await line.waitFor();
    const shown = (await line.textContent()) ?? '';
    expect(shown).toContain(`${spent.promptTokens.toLocaleString('en-US')} in · ${spent.completionTokens.toLocaleString('en-US')} out tokens`);
    // It ran on the worker with the (stand-in) GPU, so its GPU time follows.
    expect(shown).toMatch(/\$0\.\d+ · 3 model calls · \d+(\.\d)? GPU-s$/);
    await page.screenshot({ path: join(shots, 'agent-steps.png'), fullPage: true });
  });

  it('lists the steps of an agent that failed at maxSteps from what it streamed, with their screenshots', async () => {
    const runId = await startWorkflow('agent-wander', [agentStep('wander around the shop', 2)]);
    expect(await finished(runId)).toBe('FAILED');
    await page.goto(`${origin}/runs/${runId}?task=agent`);
    await page.locator('#task-panel').getByRole('alert').getByText('MAX_STEPS_REACHED').first().waitFor({ timeout: 30_000 });
    const steps = page.locator('ol[aria-label="Agent steps of agent"] > li');
    await steps.nth(1).waitFor({ timeout: 30_000 });
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).textContent()).toMatch(/click \[e\d+\] link "Products"/);
    expect(await steps.nth(1).textContent()).toMatch(/click \[e\d+\] link "Home"/);
    for (const i of [1, 2]) await page.locator(`img[alt="Screenshot after step ${i}"]`).waitFor();
    await page.screenshot({ path: join(shots, 'agent-steps-failed.png'), fullPage: true });
  });
});

describe('GPU tasks on the run page and the workers page', () => {
  it('shows the GPU a task ran on and its GPU time; and why a GPU step that no worker fits waits', async () => {
    const ranId = await startWorkflow('on-gpu', [{ id: 'infer', capability: 'sleep', input: { ms: 1_500 }, resources: { gpus: 1, gpuMemoryMiB: 8_192 }, retry: { maxAttempts: 1 } }]);
    expect(await finished(ranId)).toBe('SUCCEEDED');
    await page.goto(`${origin}/runs/${ranId}?task=infer`);
    const panel = page.locator('#task-panel');
    await panel.getByText('#0 NVIDIA L4 (8.0 GB reserved)').waitFor({ timeout: 30_000 });
    expect(await panel.locator('[data-task-usage]').textContent()).toMatch(/^\d+(\.\d)? GPU-s$/);

    const waitingId = await startWorkflow('too-big', [{ id: 'huge', capability: 'sleep', input: { ms: 1 }, resources: { gpus: 2, gpuMemoryMiB: 40_960 }, retry: { maxAttempts: 1 } }]);
    await page.goto(`${origin}/runs/${waitingId}?task=huge`);
    const reason = page.locator('#task-panel [data-wait-kind="GPU"]');
    await reason.waitFor({ timeout: 60_000 });
    expect(await reason.textContent()).toContain('no worker with 2 GPUs of 40 GiB online');
    await page.screenshot({ path: join(shots, 'gpu-wait-reason.png'), fullPage: true });
    await api(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: waitingId });
  });

  it('lists the worker’s GPU with its model, memory and utilization, and the LLM servers it declares', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workers' }).click();
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    await page.getByText('NVIDIA L4').first().waitFor({ timeout: 30_000 });
    await page.getByRole('meter', { name: /Utilization of GPU 0 on / }).first().waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toMatch(/#0\s*NVIDIA L4/);
    expect(text).toContain('7%');
    const servers = page.getByRole('list', { name: /^LLM servers of / });
    await servers.first().waitFor({ timeout: 30_000 });
    expect(await servers.first().getByRole('listitem').allTextContents()).toEqual([standIn.baseUrl]);
    await page.screenshot({ path: join(shots, 'workers-gpu.png'), fullPage: true });
  });
});
