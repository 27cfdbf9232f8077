import { createHmac } from 'node:crypto';
import type { Platform } from '../src/platform';
import { as, createWorkflow, signUp, startOrchestraPlatform, type Session } from './helpers';

/**
 * Inbound webhooks end to end: a third party POSTs to /hooks/<trigger id> on the gateway, the body
 * signed as the README shows; orchestration verifies it, starts the trigger's workflow and records
 * every delivery. No worker is needed: the runs only have to start.
 */

let platform: Platform;
let owner: Session;
let hooksUrl: string;

/** What the README tells third parties to do: HMAC-SHA256 of "<timestamp>.<body>", hex, as v1=. */
const sign = (secret: string, timestamp: string, body: string) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const post = (triggerId: string, body: string | Buffer, headers: Record<string, string>) =>
  fetch(`${hooksUrl}/${triggerId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

beforeAll(async () => {
  platform = await startOrchestraPlatform(0);
  owner = await signUp(platform, 'Webhooks Org');
  hooksUrl = platform.gatewayUrl.replace(/\/graphql$/, '/hooks');
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

describe('POST /hooks/<id> on the gateway', () => {
  it('starts the run for a good signature and refuses (and records) a bad one, an old timestamp, an oversized body', async () => {
    const workflowId = await createWorkflow(platform, owner, 'on-invoice-paid', [{ id: 'a', capability: 'noop' }]);
    const created = await platform.graphql<{ createTrigger: { trigger: { id: string; webhookUrl: string }; webhookSecret: string } }>(
      `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id webhookUrl } webhookSecret } }`,
      { i: { workflowId, eventName: 'invoice.paid', webhook: true } },
      as(owner),
    );
    expect(created.errors).toBeUndefined();
    const { trigger, webhookSecret } = created.data!.createTrigger;
    expect(trigger.webhookUrl).toMatch(new RegExp(`/hooks/${trigger.id}$`));

    const body = JSON.stringify({ invoice: 'in_1', amount: 4200 });
    const ts = String(Math.floor(Date.now() / 1000));
    const good = await post(trigger.id, body, { 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign(webhookSecret, ts, body) });
    expect(good.status).toBe(202);
    const accepted = (await good.json()) as { accepted: boolean; runIds: string[] };
    expect(accepted).toMatchObject({ accepted: true, runIds: [expect.any(String)] });
    const run = await platform.graphql<{ run: { input: unknown; workflow: { id: string } } }>(`query($id: ID!) { run(id: $id) { input workflow { id } } }`, { id: accepted.runIds[0] }, as(owner));
    expect(run.data!.run).toEqual({ input: { invoice: 'in_1', amount: 4200 }, workflow: { id: workflowId } });

    const bad = await post(trigger.id, body, { 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign('whsec_not-it', ts, body) });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ accepted: false, reason: 'BAD_SIGNATURE' });

    const oldTs = String(Math.floor(Date.now() / 1000) - 600);
    const stale = await post(trigger.id, body, { 'x-orchestra-timestamp': oldTs, 'x-orchestra-signature': sign(webhookSecret, oldTs, body) });
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ reason: 'STALE_TIMESTAMP' });

    const huge = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
    const oversized = await post(trigger.id, huge, { 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign(webhookSecret, ts, huge) });
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ reason: 'BODY_TOO_LARGE' });

    // A body in another content type is verified on its exact bytes too.
    const text = await fetch(`${hooksUrl}/${trigger.id}`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-orchestra-timestamp': ts, 'x-orchestra-signature': sign(webhookSecret, ts, '{"n":2}') }, body: '{"n":2}' });
    expect(text.status).toBe(202);

    const unknown = await post('0190a5c6-0000-7000-8000-000000000000', body, { 'x-orchestra-timestamp': ts, 'x-orchestra-signature': 'v1=00' });
    expect(unknown.status).toBe(404);

    const log = await platform.graphql<{ trigger: { deliveries: Array<{ outcome: string; reason: string | null; bodyBytes: number }> } }>(
      `query($id: ID!) { trigger(id: $id) { deliveries(first: 10) { outcome reason bodyBytes } } }`,
      { id: trigger.id },
      as(owner),
    );
    expect(log.errors).toBeUndefined();
    expect(log.data!.trigger.deliveries.map((d) => `${d.outcome}:${d.reason ?? ''}`)).toEqual(['ACCEPTED:', 'REFUSED:BODY_TOO_LARGE', 'REFUSED:STALE_TIMESTAMP', 'REFUSED:BAD_SIGNATURE', 'ACCEPTED:']);
    expect(log.data!.trigger.deliveries[1]!.bodyBytes).toBe(Buffer.byteLength(huge));
  });
});
