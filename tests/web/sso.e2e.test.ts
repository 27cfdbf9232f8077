import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startTestOidcProvider, type TestOidcProvider } from '@orchestra/identity/testing/oidc-provider';
import type { Page } from 'playwright-core';
import { startPlatform, type Platform } from '../src/platform';
import { appOrigin, type Browser, ensureWebBuilt, launchBrowser, screenshotDir, submitSignIn, WEB_DIST_DIR } from './browser';

/**
 * Single sign-on in real Chromium against the platform and a real OpenID provider (oidc-provider,
 * in-process on loopback): the admin sets the connection up on the SSO settings page (test
 * connection, save), then someone new clicks "Sign in with SSO", types their work address, goes
 * through the provider and lands in the app signed in, provisioned just in time.
 */

let platform: Platform;
let browser: Browser;
let idp: TestOidcProvider;
let origin: string;
const shots = screenshotDir();
const domain = `sso-${randomUUID().slice(0, 6)}.test`;
const client = { clientId: 'orchestra-web', clientSecret: `secret-${randomUUID()}` };

async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
  await submitSignIn(page, origin, email, password);
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
}

beforeAll(async () => {
  ensureWebBuilt();
  platform = await startPlatform({ services: ['identity'], workers: 0, env: { gateway: { WEB_DIST_DIR }, identity: { SSO_ALLOW_INSECURE_ISSUERS: 'true' } } });
  origin = appOrigin(platform);
  idp = await startTestOidcProvider({ clients: [client], redirectUris: [`${origin}/sso/callback`] });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await idp?.stop();
  await platform?.stop();
});

describe('single sign-on in the browser', () => {
  it('an admin sets it up, and a new person signs in with SSO and is provisioned', async () => {
    const first = platform.firstAdmin;
    if (!first) throw new Error('the platform created no first admin');
    const admin = await (await browser.newProfile()).newPage();
    await signInWithPassword(admin, first.email, first.password);
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Single sign-on' }).click();
    await admin.getByRole('heading', { name: 'Single sign-on', level: 1 }).waitFor();
    await admin.getByLabel('Issuer URL').fill(idp.issuer);
    await admin.getByRole('button', { name: 'Test connection' }).click();
    await admin.getByTestId('sso-discovery').getByText('The provider answers.').waitFor();
    await admin.getByLabel('Client id').fill(client.clientId);
    await admin.getByLabel('Client secret').fill(client.clientSecret);
    await admin.getByLabel('E-mail domains').fill(domain);
    await admin.getByLabel('Sign-in name').fill(`web-${domain.split('.')[0]}`);
    await admin.getByLabel('Role of new members').selectOption('OPERATOR');
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    await admin.getByText('Saved.').waitFor();
    expect(await admin.getByTestId('sso-redirect-uri').textContent()).toBe(`${origin}/sso/callback`);
    // The secret is write-only: the field is empty again, and says one is stored.
    expect(await admin.getByLabel('Client secret').inputValue()).toBe('');
    await admin.screenshot({ path: join(shots, 'sso-01-settings.png'), fullPage: true });

    const email = `newcomer@${domain}`;
    idp.accounts.set('newcomer', { email, name: 'Nia Newcomer' });
    idp.nextLogin = 'newcomer';
    const page = await (await browser.newProfile()).newPage();
    await page.goto(`${origin}/sign-in`);
    await page.getByRole('button', { name: 'Sign in with SSO' }).click();
    await page.getByLabel('Work e-mail or organization sign-in name').fill(email);
    await page.getByRole('button', { name: 'Continue with SSO' }).click();
    // Through the provider and back to /sso/callback, then into the app.
    await page.waitForURL((url) => url.origin === origin && !url.pathname.startsWith('/sso') && !url.pathname.startsWith('/sign-in'), { timeout: 60_000 });
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByText('Nia Newcomer').first().waitFor();
    await page.screenshot({ path: join(shots, 'sso-02-signed-in.png'), fullPage: true });

    const member = await platform.graphql<{ login: unknown }>('mutation($input: LoginInput!) { login(input: $input) { role } }', { input: { email, password: 'any-password-at-all' } });
    // Provisioned without a password: password sign-in is refused as for any wrong password.
    expect(member.errors?.[0]?.extensions?.reason).toBe('INVALID_CREDENTIALS');
  });

  it('a callback opened in another browser signs nobody in', async () => {
    const page = await (await browser.newProfile()).newPage();
    await page.goto(`${origin}/sso/callback?code=stolen&state=stolen`);
    await page.getByText('This sign-in was not started in this browser tab.').waitFor();
  });
});
