import { eventually, startOpenAiStandIn, type OpenAiStandIn } from '@orchestra/lib';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { startPlatform, type Platform } from '../src/platform';
import { accessTokenOf, appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Issue 14 on the run page, in a real browser (Chromium through playwright-core) against the gateway,
 * identity, orchestration and a worker: a model's answer grows live on the run page as its tokens
 * stream, the page having loaded after the answer began (it fetches the text so far), and once the
 * task ends the page shows the whole answer with its tokens, cost and time to first token. The model
 * provider is an outside service we do not run: a stand-in HTTP server on 127.0.0.1 speaking the
 * OpenAI wire protocol (lib/src/openai-stand-in.ts), pacing its answer token by token.
 */

let platform: Platform;
let standIn: OpenAiStandIn;
let browser: Browser;
let page: Page;
let origin: string;
let token: string;
const shots = screenshotDir();

const ANSWER = Array.from({ length: 120 }, (_, i) => `piece${i}`).join(' ');

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await platform.graphql<T>(query, variables, { token });
  if (!res.data || res.errors) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}

beforeAll(async () => {
  ensureWebBuilt();
  standIn = await startOpenAiStandIn({});
  platform = await startPlatform({
    services: ['identity', 'orchestration'],
    workers: 1,
    env: {
      gateway: { WEB_DIST_DIR },
      orchestration: { WORKER_HEARTBEAT_INTERVAL_MS: '500', EVENT_FLUSH_INTERVAL_MS: '50', DISPATCH_RETRY_DELAY_MS: '100' },
      // The stand-in is on 127.0.0.1: the worker may reach private addresses (a hosted provider would be public).
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true' },
    },
  });
  const admin = platform.firstAdmin;
  if (!admin) throw new Error('the platform created no first admin');
  origin = appOrigin(platform);
  token = await accessTokenOf(platform, admin);
  await eventually(async () => ((await api<{ capabilities: string[] }>('{ capabilities }')).capabilities.includes('llm') ? true : undefined), { timeoutMs: 60_000, what: 'a worker offering llm' });
  await api(`mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, {
    input: { name: 'stand-in', baseUrl: standIn.baseUrl, models: [{ alias: 'small', model: 'gpt-small-1', pricePer1MInput: 2, pricePer1MOutput: 8 }] },
  });
  await api(`mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'ask-live', steps: [{ id: 'ask', capability: 'llm', input: { provider: 'stand-in', model: 'small', messages: [{ role: 'user', content: 'Count' }] }, retry: { maxAttempts: 1 } }] },
  });

  browser = await launchBrowser();
  page = await signedInPage(browser, origin, admin);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await standIn?.stop();
});

describe('an llm step on the run page', () => {
  it('shows the answer growing live, then whole with its tokens, cost and time to first token', async () => {
    // 120 tokens at 80 ms: about 10 s of streaming.
    standIn.script({ kind: 'answer', text: ANSWER, tokenDelayMs: 80 });
    const started = await api<{ startRun: { run: { id: string } } }>('mutation { startRun(input: { workflowName: "ask-live" }) { run { id } } }');
    const runId = started.startRun.run.id;
    // The page opens once the answer has begun: it starts from the text so far.
    await eventually(async () => ((await api<{ run: { tasks: Array<{ streamedOutput: { text: string } | null }> } }>(`query($id: ID!) { run(id: $id) { tasks { streamedOutput { text } } } }`, { id: runId })).run.tasks[0]?.streamedOutput ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the answer to begin',
    });
    await page.goto(`${origin}/runs/${runId}?task=ask`);
    await page.evaluate(() => ((globalThis as any).__orchestraMark = 42));
    const answer = page.locator('[aria-label="Answer of ask"]');
    const streaming = page.locator('[aria-label="Answer of ask"][data-streaming="true"]');

    await streaming.filter({ hasText: 'piece' }).waitFor();
    const first = (await streaming.textContent()) ?? '';
    expect(ANSWER.startsWith(first.trim())).toBe(true);
    // Grows while the task still runs, without a reload.
    const longer = await eventually(
      async () => {
        const text = ((await streaming.textContent({ timeout: 1_000 }).catch(() => null)) ?? '').trim();
        return text.length > first.trim().length && ANSWER.startsWith(text) ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the answer to grow while the task runs' },
    );
    expect(longer.length).toBeLessThan(ANSWER.length);
    await page.screenshot({ path: join(shots, 'llm-answer-streaming.png'), fullPage: true });

    await page.locator('[aria-label="Answer of ask"][data-streaming="false"]').waitFor({ timeout: 60_000 });
    expect(((await answer.textContent()) ?? '').trim()).toBe(ANSWER);
    const usage = page.getByLabel('Answer usage');
    await usage.getByText('First token').waitFor();
    expect(await usage.textContent()).toMatch(/Tokens\d+ in · 120 out/);
    expect(await usage.textContent()).toMatch(/Cost\$/);
    expect(await page.evaluate(() => (globalThis as any).__orchestraMark === 42)).toBe(true);
    await page.screenshot({ path: join(shots, 'llm-answer-done.png'), fullPage: true });
  });
});
