import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, signedInPage, WEB_DIST_DIR } from './browser';

/**
 * A page reload while the start-up refresh is in flight must not sign the user out (identity's refresh-token
 * reuse grace, subgraphs/identity/src/auth/sessions.ts). Every page load trades the stored refresh token;
 * here the server trades it but the page never gets the answer (the request is let through to the gateway
 * and its answer dropped, as when the user reloads or leaves meanwhile). The next load presents the traded
 * token again: it answers the same successor, and the load after that continues from the successor.
 * Real Chromium through the gateway, identity and orchestration in their own processes.
 */

let platform: Platform;
let browser: Browser;
let origin: string;

const isRefresh = (body: string | null): boolean => body?.includes('"operationName":"RefreshToken"') ?? false;

const storedRefreshToken = async (page: Page): Promise<string | undefined> => {
  const raw = await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem('orchestra.session'));
  return raw ? (JSON.parse(raw) as { refreshToken?: string }).refreshToken : undefined;
};

/** Waits until the page shows the app (signed in) or the sign-in form, and says which. */
async function landed(page: Page): Promise<'app' | 'sign-in'> {
  const nav = page.getByRole('navigation', { name: 'Main' });
  const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
  await nav.or(signIn).first().waitFor();
  return (await nav.isVisible()) ? 'app' : 'sign-in';
}

/** The refresh token in a RefreshToken answer (a page's response, or route.fetch's). */
const refreshTokenOf = async (response: { json(): Promise<unknown> }): Promise<string | undefined> =>
  ((await response.json()) as { data?: { refreshToken?: { refreshToken?: string } } }).data?.refreshToken?.refreshToken;

beforeAll(async () => {
  ensureWebBuilt();
  // The grace at its largest: under CI load a reload of the app can take seconds, and this test is about the
  // page's part (a reload presents the traded token again), not about how many seconds the default allows.
  platform = await startPlatform({ services: ['identity', 'orchestration'], workers: 0, env: { gateway: { WEB_DIST_DIR }, identity: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '60' } } });
  origin = appOrigin(platform);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

it('a reload while the start-up refresh is in flight keeps the user signed in, and so does the next one', async () => {
  const first = platform.firstAdmin;
  if (!first) throw new Error('the platform created no first admin');
  const page = await signedInPage(browser, origin, first);
  const traded = await storedRefreshToken(page);
  expect(traded).toMatch(/^ort_/);

  // The next load's refresh reaches the server (which trades the token) but its answer never reaches the page.
  let lost: string | undefined;
  let tradedOnce: () => void = () => undefined;
  const tradedByServer = new Promise<void>((resolve) => (tradedOnce = resolve));
  await page.route('**/graphql', async (route) => {
    if (lost !== undefined || !isRefresh(route.request().postData())) return route.fallback();
    const answer = await route.fetch();
    lost = (await refreshTokenOf(answer)) ?? '';
    tradedOnce();
    await route.abort('aborted');
  });
  await page.reload();
  await tradedByServer;
  expect(lost).toMatch(/^ort_/);
  // The page still holds the token the server has just traded.
  expect(await storedRefreshToken(page)).toBe(traded);

  // Reload: the page presents the traded token again and stays signed in with the successor the lost answer carried.
  const resumed = page.waitForResponse((r) => isRefresh(r.request().postData()));
  await page.reload();
  const second = await resumed;
  expect(await landed(page)).toBe('app');
  expect(await refreshTokenOf(second)).toBe(lost);
  expect(await storedRefreshToken(page)).toBe(lost);

  // And again: this load trades the successor as usual.
  const again = page.waitForResponse((r) => isRefresh(r.request().postData()));
  await page.reload();
  const third = await refreshTokenOf(await again);
  expect(await landed(page)).toBe('app');
  expect(third).toMatch(/^ort_/);
  expect(third).not.toBe(lost);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  expect(new URL(page.url()).pathname).not.toBe('/sign-in');
});
