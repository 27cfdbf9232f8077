import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, newId } from '@orchestra/lib';
import { member, notificationEvent, startNotificationsForTest, type NotificationsUnderTest } from '../test-harness';
import { verifyWebhook } from './signature';

// A real HTTP receiver on 127.0.0.1 (allowed for this suite by WEBHOOK_ALLOWED_PRIVATE_IPS; every
// other private address stays refused), and short retry windows so the suite takes seconds.

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let n: NotificationsUnderTest;
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Status codes to answer per path, in order; the last one repeats. */
const script = new Map<string, number[]>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const codes = script.get(path) ?? [200];
      const code = codes.length > 1 ? codes.shift()! : codes[0]!;
      res.writeHead(code, { 'content-type': 'text/plain' }).end(code === 200 ? 'ok' : `nope ${code}`);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  n = await startNotificationsForTest('hooks', {
    WEBHOOK_ALLOWED_PRIVATE_IPS: '127.0.0.1',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_RETRY_MAX_DELAY_MS: '300',
    WEBHOOK_RETRY_FOR_MS: '2000',
    WEBHOOK_TIMEOUT_MS: '2000',
  });
});

afterAll(async () => {
  await n.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id url events enabled } } }';
const LOG = `query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason deliveries { nodes { id eventId status attempts lastStatusCode lastLatencyMs lastResponseExcerpt lastError redeliveryOf attemptLog { statusCode succeeded } } } } }`;

type Delivery = { id: string; eventId: string; status: string; attempts: number; lastStatusCode: number | null; lastResponseExcerpt: string | null; lastError: string | null; redeliveryOf: string | null; attemptLog: Array<{ statusCode: number | null; succeeded: boolean }> };
type Log = { webhookEndpoint: { enabled: boolean; disabledReason: string | null; deliveries: { nodes: Delivery[] } } | null };

async function endpoint(orgId: string, path: string, events = ['run.failed']) {
  const admin = member(orgId, 'admin');
  const r = await n.graphql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(CREATE, { input: { url: `${base}${path}`, events } }, admin);
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return { admin, id: r.data.createWebhookEndpoint.endpoint.id, secret: r.data.createWebhookEndpoint.secret };
}

const runFailed = (orgId: string) => notificationEvent(orgId, 'run.failed', { runId: newId(), error: 'boom' });
const at = (path: string) => received.filter((r) => r.path === path);
const deliveriesOf = async (id: string, admin: ReturnType<typeof member>) => (await n.graphql<Log>(LOG, { id }, admin)).data?.webhookEndpoint?.deliveries.nodes ?? [];

describe('webhook deliveries', () => {
  it('POST the event as JSON with Standard Webhooks headers whose signature verifies', async () => {
    const org = newId();
    const { id, secret } = await endpoint(org, '/signed');
    const event = runFailed(org);
    await n.publish([event]);
    const hit = await eventually(() => at('/signed')[0], { what: 'the delivery' });
    expect(JSON.parse(hit.body)).toEqual({ id: event.eventId, type: 'run.failed', timestamp: expect.any(String), organizationId: org, data: { runId: expect.any(String), error: 'boom' } });
    expect(hit.headers['webhook-id']).toBe(event.eventId);
    expect(hit.headers['content-type']).toBe('application/json');
    const headers = { 'webhook-id': String(hit.headers['webhook-id']), 'webhook-timestamp': String(hit.headers['webhook-timestamp']), 'webhook-signature': String(hit.headers['webhook-signature']) };
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyWebhook(secret, headers, hit.body)).toBe(true);
    // A tampered body or another secret does not verify.
    expect(verifyWebhook(secret, headers, hit.body.replace('boom', 'fine'))).toBe(false);
    expect(verifyWebhook('whsec_' + Buffer.from('another secret 0123456789').toString('base64'), headers, hit.body)).toBe(false);
    const [delivery] = await eventually(async () => {
      const d = await deliveriesOf(id, member(org, 'admin'));
      return d[0]?.status === 'SUCCEEDED' ? d : undefined;
    });
    expect(delivery).toMatchObject({ eventId: event.eventId, attempts: 1, lastStatusCode: 200, lastResponseExcerpt: 'ok', attemptLog: [{ statusCode: 200, succeeded: true }] });
  });

  it('500 then 200: retried, then delivered once, every attempt in the log', async () => {
    const org = newId();
    script.set('/flaky', [500, 200]);
    const { id, admin } = await endpoint(org, '/flaky');
    await n.publish([runFailed(org)]);
    const [delivery] = await eventually(async () => {
      const d = await deliveriesOf(id, admin);
      return d[0]?.status === 'SUCCEEDED' ? d : undefined;
    }, { what: 'the retried delivery' });
    expect(delivery).toMatchObject({ attempts: 2, lastStatusCode: 200, attemptLog: [{ statusCode: 500, succeeded: false }, { statusCode: 200, succeeded: true }] });
    const hits = at('/flaky');
    expect(hits).toHaveLength(2);
    expect(hits[0]!.headers['webhook-id']).toBe(hits[1]!.headers['webhook-id']);
    expect(hits[0]!.body).toBe(hits[1]!.body);
  });

  it('an endpoint failing past the retry window is disabled and its admins are notified', async () => {
    const org = newId();
    const owner = n.directory.add(org, 'owner');
    script.set('/down', [503]);
    const { id, admin } = await endpoint(org, '/down');
    await n.publish([runFailed(org)]);
    const log = await eventually(async () => {
      const r = (await n.graphql<Log>(LOG, { id }, admin)).data?.webhookEndpoint;
      return r && !r.enabled ? r : undefined;
    }, { timeoutMs: 20_000, what: 'the endpoint disabled' });
    expect(log.disabledReason).toMatch(/kept failing/);
    expect(log.deliveries.nodes[0]).toMatchObject({ status: 'FAILED', lastStatusCode: 503 });
    expect(log.deliveries.nodes[0]!.attempts).toBeGreaterThan(1);
    const notified = await eventually(async () => {
      const r = await n.graphql<{ notifications: { nodes: Array<{ type: string; body: string }> } }>('{ notifications { nodes { type body } } }', {}, member(org, 'owner', owner.userId));
      return r.data?.notifications.nodes.find((x) => x.type === 'webhook.endpoint_disabled');
    }, { what: 'the admin notification' });
    expect(notified.body).toContain(`${base}/down`);
    // No more attempts while disabled; enabling it again and redelivering works.
    const before = at('/down').length;
    await n.handle.webhooks.sendDue();
    expect(at('/down')).toHaveLength(before);
    script.set('/down', [200]);
    await n.graphql('mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: true }) { enabled } }', { id }, admin);
    const again = await n.graphql<{ redeliverWebhook: { id: string; redeliveryOf: string } }>('mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { id redeliveryOf } }', { d: log.deliveries.nodes[0]!.id }, admin);
    expect(again.data?.redeliverWebhook.redeliveryOf).toBe(log.deliveries.nodes[0]!.id);
    await eventually(async () => (await deliveriesOf(id, admin)).find((d) => d.id === again.data?.redeliverWebhook.id && d.status === 'SUCCEEDED'), { what: 'the redelivery' });
  });

  it('after a secret rotation, deliveries carry both signatures for the overlap window', async () => {
    const org = newId();
    const { id, admin, secret: old } = await endpoint(org, '/rotated');
    const rotated = await n.graphql<{ rotateWebhookSecret: { secret: string } }>('mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id }, admin);
    const fresh = rotated.data!.rotateWebhookSecret.secret;
    expect(fresh).not.toBe(old);
    await n.publish([runFailed(org)]);
    const hit = await eventually(() => at('/rotated')[0]);
    const headers = { 'webhook-id': String(hit.headers['webhook-id']), 'webhook-timestamp': String(hit.headers['webhook-timestamp']), 'webhook-signature': String(hit.headers['webhook-signature']) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyWebhook(fresh, headers, hit.body)).toBe(true);
    expect(verifyWebhook(old, headers, hit.body)).toBe(true);
  });

  it('a private address is refused when registered and, should a host turn private, when delivering', async () => {
    const org = newId();
    const admin = member(org, 'admin');
    for (const url of ['http://10.0.0.5/hook', 'http://169.254.169.254/latest', 'http://[::1]:8080/', 'http://127.0.0.2/x']) {
      const r = await n.graphql(CREATE, { input: { url, events: ['run.failed'] } }, admin);
      expect([url, r.errors?.[0]?.extensions]).toEqual([url, expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'input.url', reason: 'PRIVATE_ADDRESS_BLOCKED' })]);
    }
    // As if its host now resolved to a private address: the guard refuses it at delivery, no retries.
    const { id } = await endpoint(org, '/never');
    await n.pool.query("UPDATE webhook_endpoints SET url = 'http://127.0.0.2:9/never' WHERE id = $1", [id]);
    await n.publish([runFailed(org)]);
    const [delivery] = await eventually(async () => {
      const d = await deliveriesOf(id, admin);
      return d[0]?.status === 'FAILED' ? d : undefined;
    });
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: null, lastError: expect.stringMatching(/not allowed/) });
    expect((await n.graphql<Log>(LOG, { id }, admin)).data?.webhookEndpoint?.enabled).toBe(true);
  });
});

describe('webhook endpoints', () => {
  it.each([
    ['an invalid URL', { url: 'not a url', events: ['run.failed'] }, 'input.url', 'INVALID_URL'],
    ['another scheme', { url: 'ftp://example.com/x', events: ['run.failed'] }, 'input.url', 'UNSUPPORTED_URL_SCHEME'],
    ['an unknown event', { url: 'https://example.com/hook', events: ['run.failed', 'run.exploded'] }, 'input.events[1]', 'UNKNOWN_EVENT_TYPE'],
    ['no events', { url: 'https://example.com/hook', events: [] }, 'input.events', 'EVENTS_REQUIRED'],
  ])('refuse %s, naming the field, and nothing is written', async (_what, input, field, reason) => {
    const org = newId();
    const r = await n.graphql(CREATE, { input }, member(org, 'admin'));
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    expect((await n.pool.query('SELECT 1 FROM webhook_endpoints WHERE org_id = $1', [org])).rowCount).toBe(0);
  });

  it("are an organization's own: another organization neither sees nor changes them or their deliveries", async () => {
    const orgA = newId();
    const orgB = newId();
    const { id, admin } = await endpoint(orgA, '/isolated');
    await n.publish([runFailed(orgA)]);
    const [delivery] = await eventually(async () => {
      const d = await deliveriesOf(id, admin);
      return d[0]?.status === 'SUCCEEDED' ? d : undefined;
    });
    const other = member(orgB, 'owner');
    expect((await n.graphql<{ webhookEndpoints: unknown[] }>('{ webhookEndpoints { id } }', {}, other)).data?.webhookEndpoints).toEqual([]);
    expect((await n.graphql<Log>(LOG, { id }, other)).data?.webhookEndpoint).toBeNull();
    for (const [query, vars] of [
      ['mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: "https://evil.example/x" }) { id } }', { id }],
      ['mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id }],
      ['mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }],
      ['mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: delivery!.id }],
    ] as const) {
      const r = await n.graphql(query, vars, other);
      expect([query, r.errors?.[0]?.extensions['code']]).toEqual([query, 'NOT_FOUND']);
    }
    const row = await n.pool.query('SELECT url FROM webhook_endpoints WHERE id = $1', [id]);
    expect(row.rows[0].url).toBe(`${base}/isolated`);
    expect((await n.pool.query('SELECT count(*)::int AS c FROM webhook_deliveries WHERE endpoint_id = $1', [id])).rows[0].c).toBe(1);
    // Operators cannot manage webhooks at all.
    expect((await n.graphql('{ webhookEndpoints { id } }', {}, member(orgA, 'operator'))).errors?.[0]?.extensions['code']).toBe('FORBIDDEN');
  });
});
