import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '@orchestra/lib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Auth, Platform } from '../src/platform';

/**
 * Browser plumbing for the web app's end-to-end tests: Debian's Chromium driven by playwright-core
 * (browsers cannot be downloaded here), the app built from the current sources, and a small HTTP
 * server standing in for a remote website that workflow steps call.
 */

export const ROOT = resolve(__dirname, '..', '..');
export const WEB_DIST_DIR = join(ROOT, 'web', 'dist');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Builds web/dist when it is missing or older than its sources (web/scripts/ensure-built.mjs). */
export function ensureWebBuilt(): void {
  execFileSync(process.execPath, [join(ROOT, 'web', 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
}

export interface Browser {
  /** A fresh profile (own storage): one signed-in person. */
  newProfile(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH). The browser tests cannot run without it.`);
  }
  const profiles: Array<{ context: BrowserContext; dir: string }> = [];
  return {
    async newProfile() {
      const dir = mkdtempSync(join(tmpdir(), 'orchestra-chromium-'));
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
        viewport: { width: 1440, height: 900 },
      });
      context.setDefaultTimeout(30_000);
      profiles.push({ context, dir });
      return context;
    },
    async close() {
      for (const { context, dir } of profiles.splice(0)) {
        await context.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The origin the gateway serves the app on (http://127.0.0.1:<port>). */
export const appOrigin = (platform: Platform): string => new URL(platform.gatewayUrl).origin;

/** Where screenshots of the pages go (printed, so a person can look at them). */
export function screenshotDir(): string {
  const dir = process.env['WEB_SCREENSHOT_DIR'] ?? join(tmpdir(), 'orchestra-web-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface TestSite {
  url: string;
  close(): Promise<void>;
}

/** A local HTTP server standing in for a remote website (a fake of an outside service); /broken answers 503. */
export async function startTestSite(): Promise<TestSite> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path === '/broken') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path, items: [{ name: 'alpha', score: 3 }, { name: 'beta', score: 5 }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Signs in on the sign-in page with a password (the form's own "Sign in", not "Sign in with SSO"); the caller waits for where it lands. */
export async function submitSignIn(page: Page, origin: string, email: string, password: string): Promise<void> {
  await page.goto(`${origin}/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/**
 * A fresh profile's page signed in as `who` with a password, returned once the app shows its Main
 * navigation (the sign-in went through and the app shell is up): the setup of most browser suites.
 */
export async function signedInPage(browser: Browser, origin: string, who: { email: string; password: string }): Promise<Page> {
  const profile = await browser.newProfile();
  const page = profile.pages()[0] ?? (await profile.newPage());
  await submitSignIn(page, origin, who.email, who.password);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

/** Signs `who` in through the API (the login mutation); resolves to the access token, for `platform.graphql(..., { token })`. */
export async function accessTokenOf(platform: Platform, who: { email: string; password: string }): Promise<string> {
  const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', { input: { email: who.email, password: who.password } });
  if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.errors)}`);
  return login.data.login.accessToken;
}

/** Resolves once the organization `auth` signs in to lists a worker ONLINE (it registered with orchestration): before a suite starts runs. */
export async function waitForWorker(platform: Platform, auth: Auth, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, auth);
      return res.data?.workers.some((w) => w.status === 'ONLINE') === true;
    },
    { timeoutMs, what: 'the worker to register' },
  );
}
