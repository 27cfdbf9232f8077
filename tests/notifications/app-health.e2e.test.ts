import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '@orchestra/lib';
import { as, signUp, type Session } from '../orchestration/helpers';
import { startPlatform, type Platform } from '../src/platform';

/**
 * Issue 13, app health: catalog's prober sees an app's health URL go down (and up), writes
 * `app.health_changed` to its notification outbox in the same transaction, and its relay delivers it
 * to the notifications service, which makes an in-app notification for the organization's operators
 * and a signed webhook delivery. With the notifications service down during the change, the event
 * waits in catalog's outbox and arrives after the restart, once. Identity, catalog and notifications
 * run as real processes; the app's health endpoint and the webhook receiver are local HTTP servers
 * standing in for outside services (allowed by CATALOG_ALLOW_PRIVATE_NETWORK / WEBHOOK_ALLOWED_PRIVATE_IPS).
 */

interface Hook {
  headers: Record<string, string>;
  body: string;
}

interface InApp {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
}

let platform: Platform;
let receiver: Server;
const hooks: Hook[] = [];
let appEndpoint: Server;
let appEndpointUrl: string;
/** Per health-URL path: 200 while true, 503 while false. */
const upByPath = new Map<string, boolean>();
let owner: Session;
let secret: string;

function signatureVerifies(hook: Hook, signingSecret: string): boolean {
  const id = hook.headers['webhook-id'];
  const timestamp = hook.headers['webhook-timestamp'];
  if (!id || !timestamp) return false;
  const expected = Buffer.from(`v1,${createHmac('sha256', Buffer.from(signingSecret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${hook.body}`).digest('base64')}`);
  return (hook.headers['webhook-signature'] ?? '').split(' ').some((given) => given.length === expected.length && timingSafeEqual(Buffer.from(given), expected));
}

async function must<T>(query: string, variables: Record<string, unknown>, session: Session): Promise<T> {
  const res = await platform.graphql<T>(query, variables, as(session));
  if (res.errors) throw new Error(`${query.slice(0, 60)}... failed: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

async function createApp(slug: string): Promise<string> {
  upByPath.set(`/${slug}`, true);
  const { createApp: app } = await must<{ createApp: { id: string } }>(
    'mutation ($input: CreateAppInput!) { createApp(input: $input) { id } }',
    { input: { slug, name: `Health ${slug}`, healthCheckUrl: `${appEndpointUrl}/${slug}` } },
    owner,
  );
  return app.id;
}

const healthOf = async (appId: string): Promise<string | undefined> =>
  (await must<{ app: { health: { status: string } | null } | null }>('query ($id: ID!) { app(id: $id) { health { status } } }', { id: appId }, owner)).app?.health?.status;

const inAppFor = async (appId: string): Promise<InApp[]> =>
  (await must<{ notifications: { nodes: InApp[] } }>('{ notifications(first: 100) { nodes { id type title body link } } }', {}, owner)).notifications.nodes.filter(
    (n) => n.type === 'app.health_changed' && n.link === `/apps/${appId}`,
  );

const hooksFor = (appId: string, status: 'up' | 'down') =>
  hooks.filter((h) => {
    const body = JSON.parse(h.body) as { type: string; data: { appId?: string; status?: string } };
    return body.type === 'app.health_changed' && body.data.appId === appId && body.data.status === status;
  });

async function waitForStatus(appId: string, status: 'UP' | 'DOWN'): Promise<void> {
  await eventually(async () => ((await healthOf(appId)) === status ? true : undefined), { what: `app ${appId} ${status}`, timeoutMs: 30_000, intervalMs: 200 });
}

/** Waits for the app's in-app notification and webhook of `status`, then checks each came once. */
async function expectNoticeOnce(appId: string, status: 'up' | 'down'): Promise<void> {
  const title = status === 'down' ? /^App "Health .+" is down$/ : /^App "Health .+" is up again$/;
  const matching = async () => (await inAppFor(appId)).filter((n) => title.test(n.title));
  await eventually(async () => ((await matching()).length > 0 && hooksFor(appId, status).length > 0 ? true : undefined), {
    what: `the ${status} notification and webhook of app ${appId}`,
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  // Anything sent twice would have come by now (fan-out and relays poll every 200 ms here).
  await new Promise((r) => setTimeout(r, 2_500));
  const notes = await matching();
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatchObject({ type: 'app.health_changed', link: `/apps/${appId}` });
  const delivered = hooksFor(appId, status);
  expect(delivered).toHaveLength(1);
  expect(signatureVerifies(delivered[0]!, secret)).toBe(true);
  expect(JSON.parse(delivered[0]!.body)).toMatchObject({
    type: 'app.health_changed',
    organizationId: owner.organization.id,
    data: { appId, status, previousStatus: status === 'down' ? 'up' : 'down' },
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  appEndpoint = createServer((req, res) => {
    const up = upByPath.get(new URL(req.url ?? '/', 'http://x').pathname) ?? false;
    res.writeHead(up ? 200 : 503).end(up ? 'ok' : 'unavailable');
  });
  await new Promise<void>((resolve) => appEndpoint.listen(0, '127.0.0.1', resolve));
  appEndpointUrl = `http://127.0.0.1:${(appEndpoint.address() as AddressInfo).port}`;
  platform = await startPlatform({
    services: ['identity', 'catalog', 'notifications'],
    env: {
      catalog: { CATALOG_ALLOW_PRIVATE_NETWORK: 'true', CATALOG_HEALTH_INTERVAL_MS: '200', CATALOG_HEALTH_DOWN_AFTER: '1', CATALOG_HEALTH_NOTIFY_QUIET_MS: '0' },
      notifications: { WEBHOOK_ALLOWED_PRIVATE_IPS: '127.0.0.1', NOTIFY_FANOUT_POLL_MS: '200', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_RETRY_MAX_DELAY_MS: '1000' },
    },
  });
  owner = await signUp(platform, 'Health Watchers');
  const { createWebhookEndpoint } = await must<{ createWebhookEndpoint: { secret: string } }>(
    'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }',
    { input: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['app.health_changed'], description: 'health receiver' } },
    owner,
  );
  secret = createWebhookEndpoint.secret;
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  appEndpoint?.closeAllConnections();
  await new Promise((resolve) => appEndpoint?.close(resolve));
});

jest.setTimeout(240_000);

describe("an app's health going down and up notifies its operators", () => {
  it('in the app and by a signed webhook, once per transition (not per probe)', async () => {
    const appId = await createApp('flaky');
    await waitForStatus(appId, 'UP');
    // Seen up first: no notice for the first status an app shows.
    expect(await inAppFor(appId)).toEqual([]);

    upByPath.set('/flaky', false);
    await waitForStatus(appId, 'DOWN');
    await expectNoticeOnce(appId, 'down');

    upByPath.set('/flaky', true);
    await waitForStatus(appId, 'UP');
    await expectNoticeOnce(appId, 'up');
    // Dozens of probes ran meanwhile (every 200 ms): two transitions, two notifications.
    expect(await inAppFor(appId)).toHaveLength(2);
    expect(hooks.filter((h) => h.body.includes(appId))).toHaveLength(2);
  });

  it('with the notifications service down during the change, the event arrives after it restarts, once', async () => {
    const appId = await createApp('while-away');
    await waitForStatus(appId, 'UP');
    await platform.stopService('notifications');
    upByPath.set('/while-away', false);
    await waitForStatus(appId, 'DOWN');
    // The event waits, undelivered, in catalog's notification outbox.
    const pending = async () =>
      (
        await platform.pool.query(
          `SELECT 1 FROM "${platform.schemas.catalog}".notification_outbox WHERE event->>'type' = 'app.health_changed' AND event->'data'->>'appId' = $1 AND delivered_at IS NULL`,
          [appId],
        )
      ).rows.length;
    await eventually(async () => ((await pending()) === 1 ? true : undefined), { what: 'the notice in the outbox', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(hooksFor(appId, 'down')).toHaveLength(0);

    await platform.startService('notifications');
    await expectNoticeOnce(appId, 'down');
    expect(await pending()).toBe(0);
  });
});
