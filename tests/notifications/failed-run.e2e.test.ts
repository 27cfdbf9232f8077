import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually, recipientsOf, startTestSmtpServer, type TestSmtpServer } from '@orchestra/lib';
import { as, createWorkflow, signUp, startRun, waitForRun, type Session } from '../orchestration/helpers';
import { startPlatform, type Platform } from '../src/platform';

/**
 * Issue 13 end to end, every part real: a failed run reaches its organization's operators as an
 * in-app notification received live through the gateway's notificationAdded subscription, as an
 * e-mail (a real SMTP server in this process, parsed with mailparser) and as a webhook POST whose
 * Standard Webhooks signature this test verifies itself. With the notifications service down while
 * the run fails, the event waits in orchestration's outbox: after a restart all three arrive, once each.
 * The webhook receiver runs here on 127.0.0.1 (allowed by WEBHOOK_ALLOWED_PRIVATE_IPS).
 */

interface Hook {
  headers: Record<string, string>;
  body: string;
}

let platform: Platform;
let smtp: TestSmtpServer;
let receiver: Server;
let receiverUrl: string;
const hooks: Hook[] = [];
let owner: Session;
let secret: string;
let live: Client;
const received: Array<{ id: string; type: string; title: string; body: string; link: string | null }> = [];
let liveError: unknown;

/** Standard Webhooks, as a receiver would check it: HMAC-SHA256 of "<id>.<timestamp>.<body>" with the base64 key after whsec_. */
function signatureVerifies(hook: Hook, signingSecret: string): boolean {
  const id = hook.headers['webhook-id'];
  const timestamp = hook.headers['webhook-timestamp'];
  if (!id || !timestamp || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1,${createHmac('sha256', Buffer.from(signingSecret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${hook.body}`).digest('base64')}`);
  return (hook.headers['webhook-signature'] ?? '').split(' ').some((given) => given.length === expected.length && timingSafeEqual(Buffer.from(given), expected));
}

// The run's run.failed event (its task's task.dead_lettered comes too, as its own notification).
const hooksFor = (runId: string) => hooks.filter((h) => h.body.includes(runId));
const mailsFor = (runId: string) => smtp.messages.filter((m) => (m.text ?? '').includes(runId) && /^\[Orchestra\] Run of .+ failed$/.test(m.subject ?? ''));
const liveFor = (runId: string) => received.filter((n) => n.link === `/runs/${runId}` && n.type === 'run.failed');

async function failingRun(): Promise<string> {
  const { id } = await startRun(platform, owner, { workflowName: 'nightly-report', input: {} });
  const run = await waitForRun(platform, owner, id, ['FAILED'], 90_000);
  expect(run.status).toBe('FAILED');
  return id;
}

/** Waits for the run's in-app notification (live), e-mail and webhook, then checks each came once and the signature holds. */
async function expectAllThreeOnce(runId: string): Promise<void> {
  await eventually(() => (liveFor(runId).length > 0 && mailsFor(runId).length > 0 && hooksFor(runId).length > 0 ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 200,
    what: `the notification, e-mail and webhook of run ${runId} (live ${liveFor(runId).length}, mail ${mailsFor(runId).length}, webhook ${hooksFor(runId).length})`,
  });
  // Anything sent twice would have come by now (the fan-out polls every 200 ms here).
  await new Promise((r) => setTimeout(r, 3_000));
  expect(liveError).toBeUndefined();
  const [notification] = liveFor(runId);
  expect(liveFor(runId)).toHaveLength(1);
  expect(notification).toMatchObject({ type: 'run.failed', title: expect.stringMatching(/^Run of .+ failed$/) as unknown, body: expect.stringContaining(runId) as unknown });

  const mails = mailsFor(runId);
  expect(mails).toHaveLength(1);
  expect(recipientsOf(mails[0]!)).toEqual([owner.user.email.toLowerCase()]);
  expect(mails[0]!.subject).toMatch(/^\[Orchestra\] Run of .+ failed$/);
  expect(mails[0]!.html).toBeTruthy();

  const delivered = hooksFor(runId);
  expect(delivered).toHaveLength(1);
  expect(signatureVerifies(delivered[0]!, secret)).toBe(true);
  expect(signatureVerifies(delivered[0]!, 'whsec_' + Buffer.from('not the secret').toString('base64'))).toBe(false);
  expect(JSON.parse(delivered[0]!.body)).toMatchObject({ type: 'run.failed', data: expect.objectContaining({ runId }) as unknown });
}

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  platform = await startPlatform({
    services: ['identity', 'orchestration', 'notifications'],
    workers: 1,
    env: {
      notifications: { SMTP_URL: smtp.url, WEBHOOK_ALLOWED_PRIVATE_IPS: '127.0.0.1', NOTIFY_FANOUT_POLL_MS: '200', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_RETRY_MAX_DELAY_MS: '1000' },
      orchestration: { EVENT_FLUSH_INTERVAL_MS: '50' },
      // The failing step calls a closed port on 127.0.0.1.
      worker: { WORKER_ALLOW_PRIVATE_NETWORK: 'true' },
    },
  });
  owner = await signUp(platform, 'Notified Org');
  const created = await platform.graphql<{ createWebhookEndpoint: { secret: string } }>(
    'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }',
    { input: { url: receiverUrl, events: ['run.failed'], description: 'e2e receiver' } },
    as(owner),
  );
  expect(created.errors).toBeUndefined();
  secret = created.data!.createWebhookEndpoint.secret;
  // A closed port: connection refused, no retries.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await createWorkflow(platform, owner, 'nightly-report', [{ id: 'fetch', capability: 'http.request', input: { url: `http://127.0.0.1:${closedPort}/report` }, retry: { maxAttempts: 1 } }]);

  live = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${owner.accessToken}` } });
  const connected = new Promise<void>((resolve) => live.on('connected', () => resolve()));
  live.subscribe(
    { query: 'subscription { notificationAdded { id type title body link } }' },
    {
      next: (value) => {
        const n = (value.data as { notificationAdded?: (typeof received)[number] } | null | undefined)?.notificationAdded;
        if (n) received.push(n);
      },
      error: (error) => (liveError = error),
      complete: () => undefined,
    },
  );
  await connected;
  // The gateway listens on the organization's channel once the subscription is attached.
  await new Promise((r) => setTimeout(r, 1_000));
}, 180_000);

afterAll(async () => {
  await live?.dispose();
  await platform?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
  await smtp?.stop();
});

jest.setTimeout(300_000);

describe('a failed run notifies its operators', () => {
  it('in the app (live through the gateway), by e-mail and by a signed webhook, once each', async () => {
    await expectAllThreeOnce(await failingRun());
  });

  it('with the notifications service down during the failure, all three arrive after it restarts, once each', async () => {
    await platform.stopService('notifications');
    const runId = await failingRun();
    await new Promise((r) => setTimeout(r, 2_000));
    expect([liveFor(runId).length, mailsFor(runId).length, hooksFor(runId).length]).toEqual([0, 0, 0]);
    await platform.startService('notifications');
    await expectAllThreeOnce(runId);
  });
});
