import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * Dark mode (issue 12) in real Chromium against the platform: the app follows the system's
 * prefers-color-scheme until the header's toggle chooses, and remembers the choice (localStorage)
 * across reloads; in dark mode the pages' computed colours are dark surfaces with light text — the
 * dashboard, the runs list, a run page's graph (SVG boxes and their labels), the workflows list and
 * the account page. Screenshots go to $WEB_SCREENSHOT_DIR (copies in docs/screenshots/).
 */

let platform: Platform;
let browser: Browser;
let origin: string;
let admin: { email: string; password: string };
let runId: string;
const shots = screenshotDir();

/**
 * Run in the page (a string: this workspace's types have no DOM): the relative luminance (0 black …
 * 1 white) of `selector`'s computed `property`, through a canvas so any CSS colour syntax (oklch…) reads.
 */
const LUMINANCE = `(([selector, property]) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const colour = getComputedStyle(el)[property];
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  const lin = (c) => { const v = c / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
})`;

const luminance = async (page: Page, selector: string, property: 'backgroundColor' | 'color' | 'fill'): Promise<number> => {
  await page.locator(selector).first().waitFor();
  const value = await page.evaluate(`${LUMINANCE}(${JSON.stringify([selector, property])})`);
  if (typeof value !== 'number') throw new Error(`no element ${selector}`);
  return value;
};

const themeOf = (page: Page) => page.evaluate(() => (globalThis as any).document.documentElement.dataset.theme as string | undefined);

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({ services: ['identity', 'catalog', 'orchestration'], workers: 0, env: { gateway: { WEB_DIST_DIR } } });
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  admin = first;
  origin = appOrigin(platform);
  const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: first.email, password: first.password } });
  const token = login.data!.login.accessToken;
  const workflow = await platform.graphql<{ createWorkflow: { id: string } }>(
    'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }',
    { input: { name: `dark-${Date.now()}`, steps: [{ id: 'fetch', capability: 'noop' }, { id: 'store', capability: 'noop', dependsOn: ['fetch'] }] } },
    { token },
  );
  // No worker: the run stays queued, its graph drawn with queued and pending boxes.
  const started = await platform.graphql<{ startRun: { run: { id: string } } }>('mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId: workflow.data!.createWorkflow.id } }, { token });
  runId = started.data!.startRun.run.id;
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('dark mode', () => {
  it('is switched on with the toggle, remembered across reloads, and every page checked reads light on dark', async () => {
    const page = await signedInPage(browser, origin, admin);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${origin}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await themeOf(page)).toBe('light');
    expect(await luminance(page, 'body', 'backgroundColor')).toBeGreaterThan(0.85);
    const toggle = page.getByRole('button', { name: 'Dark mode' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');

    await toggle.click();
    await eventually(async () => (await themeOf(page)) === 'dark', { timeoutMs: 5_000, what: 'the dark theme' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('orchestra.theme'))).toBe('dark');
    // Remembered: a reload (the system still light) stays dark.
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await themeOf(page)).toBe('dark');

    const pages: Array<{ path: string; ready: string; surface: string }> = [
      { path: '/', ready: 'h1', surface: 'main .bg-white' },
      { path: '/runs', ready: 'table', surface: 'aside' },
      { path: `/runs/${runId}`, ready: '[data-step="fetch"] rect', surface: 'section[aria-label="Run history"]' },
      { path: '/workflows', ready: 'table', surface: 'aside' },
      { path: '/account', ready: 'h1', surface: 'main section' },
    ];
    for (const p of pages) {
      await page.goto(`${origin}${p.path}`);
      await page.locator(p.ready).first().waitFor();
      const bg = await luminance(page, 'body', 'backgroundColor');
      const text = await luminance(page, 'body', 'color');
      const heading = await luminance(page, 'h1', 'color');
      const surface = await luminance(page, p.surface, 'backgroundColor');
      expect({ path: p.path, darkBackground: bg < 0.05, lightText: text > 0.6, lightHeading: heading > 0.6 }).toEqual({ path: p.path, darkBackground: true, lightText: true, lightHeading: true });
      // Cards and the sidebar are surfaces a little lighter than the page, still dark.
      expect({ path: p.path, surface: surface < 0.08 }).toEqual({ path: p.path, surface: true });
    }
    // The run's graph: its boxes' SVG fills are dark and their labels light (CSS variables in the SVG attributes).
    await page.goto(`${origin}/runs/${runId}`);
    const box = '[data-step="fetch"] rect';
    await page.locator(box).first().waitFor();
    expect(await luminance(page, box, 'fill')).toBeLessThan(0.08);
    expect(await luminance(page, '[data-step="fetch"] text', 'fill')).toBeGreaterThan(0.5);
    await page.screenshot({ path: join(shots, 'dark-mode-run.png') });
    await page.goto(`${origin}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.screenshot({ path: join(shots, 'dark-mode-dashboard.png') });
    process.stdout.write(`dark mode e2e: screenshots in ${shots}\n`);

    // Back to light with the toggle: the light colours again.
    await page.getByRole('button', { name: 'Dark mode' }).click();
    await eventually(async () => (await themeOf(page)) === 'light', { timeoutMs: 5_000, what: 'the light theme' });
    expect(await luminance(page, 'body', 'backgroundColor')).toBeGreaterThan(0.85);
  });

  it("follows the system's prefers-color-scheme until a choice is made, and again after 'Use system setting'", async () => {
    const page = await signedInPage(browser, origin, admin);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await themeOf(page)).toBe('dark');
    expect(await luminance(page, 'body', 'backgroundColor')).toBeLessThan(0.05);
    // The system turns light while the page is open: followed at once.
    await page.emulateMedia({ colorScheme: 'light' });
    await eventually(async () => (await themeOf(page)) === 'light', { timeoutMs: 5_000, what: 'the system change to be followed' });
    await page.emulateMedia({ colorScheme: 'dark' });
    await eventually(async () => (await themeOf(page)) === 'dark', { timeoutMs: 5_000, what: 'the system change back' });

    // Chosen light while the system is dark: it stays light across a reload.
    await page.getByRole('button', { name: 'Dark mode' }).click();
    await eventually(async () => (await themeOf(page)) === 'light', { timeoutMs: 5_000, what: 'light chosen' });
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await themeOf(page)).toBe('light');
    // Forgetting the choice: the system's dark again, and nothing remembered.
    await page.getByRole('button', { name: 'Use system setting' }).click();
    await eventually(async () => (await themeOf(page)) === 'dark', { timeoutMs: 5_000, what: "the system's theme again" });
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('orchestra.theme'))).toBeNull();
  });
});
