import { randomUUID } from 'node:crypto';
import { insecureCredentials, TEST_INTERNAL_TOKEN, unaryCall } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { randomBytes } from 'node:crypto';
import { createRateLimiter } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import type { SecretKeyring } from '../secrets/keyring';
import { rewrapWebhookSecrets } from './trigger-commands';
import { deliverWebhook, signWebhook } from './webhooks';

/**
 * Inbound webhooks as the gateway hands them over (gRPC DeliverWebhook with the raw body) to the real
 * service: a good signature starts the run; a bad signature, an old timestamp, an oversized body, a
 * flood past the hook's rate limit are refused — and every delivery is in the trigger's log.
 */

let t: TestOrchestration;
let client: orchestrationV1.OrchestrationServiceClient;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const viewer = userPrincipal(orgId, 'viewer');
const otherAdmin = userPrincipal(randomUUID(), 'admin');
const RATE = 5;
const MAX_BODY = 2048;

const now = () => String(Math.floor(Date.now() / 1000));

async function hookedWorkflow(eventName = `hook.${randomUUID().slice(0, 8)}`) {
  const wf = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name: `wf-${randomUUID().slice(0, 8)}`, steps: [{ id: 'a', capability: 'noop', input: {} }] },
  });
  expect(wf.errors).toBeUndefined();
  const created = await t.graphql<{ createTrigger: { trigger: { id: string; webhookUrl: string }; webhookSecret: string } }>(
    admin,
    `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id webhookUrl } webhookSecret } }`,
    { i: { workflowId: wf.data!.createWorkflow.id, eventName, webhook: true } },
  );
  expect(created.errors).toBeUndefined();
  return { workflowId: wf.data!.createWorkflow.id, ...created.data!.createTrigger };
}

function deliver(triggerId: string, body: string, headers: { timestamp?: string; signature?: string; idempotencyKey?: string }, extra: Partial<orchestrationV1.DeliverWebhookRequest> = {}) {
  return unaryCall(
    client,
    client.deliverWebhook,
    {
      triggerId,
      timestamp: headers.timestamp ?? '',
      signature: headers.signature ?? '',
      body: Buffer.from(body),
      bodyTooLarge: false,
      bodyBytes: Buffer.byteLength(body),
      idempotencyKey: headers.idempotencyKey ?? '',
      sourceIp: '203.0.113.7',
      requestId: `req-${randomUUID()}`,
      ...extra,
    },
    { internalToken: TEST_INTERNAL_TOKEN },
  );
}

const signed = (secret: string, body: string, timestamp = now()) => ({ timestamp, signature: signWebhook(secret, timestamp, body) });

interface Delivery {
  outcome: string;
  reason: string | null;
  bodyBytes: number;
  sourceIp: string | null;
  event: { id: string; source: string; payload: unknown } | null;
}
const deliveriesOf = async (triggerId: string, principal = viewer): Promise<Delivery[] | null> => {
  const res = await t.graphql<{ trigger: { deliveries: Delivery[] } | null }>(
    principal,
    `query($id: ID!) { trigger(id: $id) { deliveries(first: 50) { outcome reason bodyBytes sourceIp event { id source payload } } } }`,
    { id: triggerId },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.trigger?.deliveries ?? null;
};

const runCount = async (workflowId: string): Promise<number> => {
  const res = await t.graphql<{ runs: { totalCount: number } }>(viewer, `query($w: ID) { runs(filter: { workflowId: $w }) { totalCount } }`, { w: workflowId });
  return res.data!.runs.totalCount;
};

beforeAll(async () => {
  t = await startTestOrchestration({ WEBHOOK_RATE_LIMIT_PER_MINUTE: String(RATE), WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY), ARTIFACT_URL_BASE: 'https://orchestra.example' });
  client = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, insecureCredentials());
});
afterAll(async () => {
  client.close();
  await t.stop();
});

describe('inbound webhooks', () => {
  it('starts the run for a good signature, once per signed request, and records the delivery', async () => {
    const hook = await hookedWorkflow();
    expect(hook.webhookSecret).toMatch(/^whsec_/);
    expect(hook.trigger.webhookUrl).toBe(`https://orchestra.example/hooks/${hook.trigger.id}`);
    const body = JSON.stringify({ invoice: 'in-1', amount: 12 });
    const headers = signed(hook.webhookSecret, body);
    const accepted = await deliver(hook.trigger.id, body, headers);
    expect(accepted).toMatchObject({ accepted: true, reason: '', runIds: [expect.any(String)] });
    // The same signed request again (a replay inside its 5 minutes): accepted, nothing new started.
    const replay = await deliver(hook.trigger.id, body, headers);
    expect(replay).toMatchObject({ accepted: true, runIds: [] });
    expect(await runCount(hook.workflowId)).toBe(1);
    const log = await deliveriesOf(hook.trigger.id);
    expect(log).toHaveLength(2);
    expect(log![1]).toMatchObject({ outcome: 'ACCEPTED', reason: null, bodyBytes: Buffer.byteLength(body), sourceIp: '203.0.113.7', event: { source: 'WEBHOOK', payload: { invoice: 'in-1', amount: 12 } } });
    // The sender's Idempotency-Key decides when given.
    const keyed = { ...signed(hook.webhookSecret, body), idempotencyKey: 'delivery-1' };
    expect((await deliver(hook.trigger.id, body, keyed)).runIds).toHaveLength(1);
    expect((await deliver(hook.trigger.id, body, { ...signed(hook.webhookSecret, body), idempotencyKey: 'delivery-1' })).runIds).toHaveLength(0);
    expect(await runCount(hook.workflowId)).toBe(2);
  });

  it('refuses a bad signature, an old or missing timestamp, an oversized or non-JSON body — each recorded with its reason', async () => {
    const hook = await hookedWorkflow();
    const body = JSON.stringify({ ok: true });
    const old = String(Math.floor(Date.now() / 1000) - 301);
    const cases: Array<[Promise<orchestrationV1.DeliverWebhookResponse>, string]> = [
      [deliver(hook.trigger.id, body, { timestamp: now(), signature: signWebhook('whsec_wrong', now(), body) }), 'BAD_SIGNATURE'],
      [deliver(hook.trigger.id, JSON.stringify({ ok: false }), signed(hook.webhookSecret, body)), 'BAD_SIGNATURE'],
      [deliver(hook.trigger.id, body, signed(hook.webhookSecret, body, old)), 'STALE_TIMESTAMP'],
      [deliver(hook.trigger.id, body, {}), 'MISSING_SIGNATURE'],
    ];
    for (const [pending, reason] of cases) expect(await pending).toMatchObject({ accepted: false, reason, runIds: [] });
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_BODY) });
    expect(await deliver(hook.trigger.id, big, signed(hook.webhookSecret, big))).toMatchObject({ accepted: false, reason: 'BODY_TOO_LARGE' });
    expect(await deliver(hook.trigger.id, '', {}, { bodyTooLarge: true, bodyBytes: 10 * MAX_BODY, body: Buffer.alloc(0) })).toMatchObject({ accepted: false, reason: 'BODY_TOO_LARGE' });
    expect(await runCount(hook.workflowId)).toBe(0);
    const log = await deliveriesOf(hook.trigger.id);
    expect(log!.map((d) => d.reason).sort()).toEqual(['BAD_SIGNATURE', 'BAD_SIGNATURE', 'BODY_TOO_LARGE', 'BODY_TOO_LARGE', 'MISSING_SIGNATURE', 'STALE_TIMESTAMP']);
    expect(log!.every((d) => d.outcome === 'REFUSED' && d.event === null)).toBe(true);
    expect(log!.find((d) => d.bodyBytes === 10 * MAX_BODY)).toBeDefined();
  });

  it('refuses a signed body that is not a JSON object (INVALID_BODY, the payload check)', async () => {
    const hook = await hookedWorkflow();
    expect(await deliver(hook.trigger.id, 'not json', signed(hook.webhookSecret, 'not json'))).toMatchObject({ accepted: false, reason: 'INVALID_BODY' });
    expect(await deliver(hook.trigger.id, '[1,2]', signed(hook.webhookSecret, '[1,2]'))).toMatchObject({ accepted: false, reason: 'INVALID_EVENT_PAYLOAD' });
    expect(await runCount(hook.workflowId)).toBe(0);
  });

  it('rate-limits each hook on its own', async () => {
    const hook = await hookedWorkflow();
    const other = await hookedWorkflow();
    const outcomes: string[] = [];
    for (let i = 0; i < RATE + 2; i += 1) {
      const body = JSON.stringify({ i });
      const answer = await deliver(hook.trigger.id, body, signed(hook.webhookSecret, body));
      outcomes.push(answer.accepted ? 'ACCEPTED' : answer.reason);
    }
    expect(outcomes).toEqual([...Array.from({ length: RATE }, () => 'ACCEPTED'), 'RATE_LIMITED', 'RATE_LIMITED']);
    const body = JSON.stringify({ other: true });
    expect(await deliver(other.trigger.id, body, signed(other.webhookSecret, body))).toMatchObject({ accepted: true });
    expect((await deliveriesOf(hook.trigger.id))!.filter((d) => d.reason === 'RATE_LIMITED')).toHaveLength(2);
  });

  it('rotates the secret: the old one stops working at once', async () => {
    const hook = await hookedWorkflow();
    const rotated = await t.graphql<{ rotateTriggerSecret: { webhookSecret: string } }>(admin, `mutation($id: ID!) { rotateTriggerSecret(id: $id) { webhookSecret } }`, { id: hook.trigger.id });
    expect(rotated.errors).toBeUndefined();
    const fresh = rotated.data!.rotateTriggerSecret.webhookSecret;
    expect(fresh).not.toBe(hook.webhookSecret);
    const body = '{"a":1}';
    expect(await deliver(hook.trigger.id, body, signed(hook.webhookSecret, body))).toMatchObject({ accepted: false, reason: 'BAD_SIGNATURE' });
    expect(await deliver(hook.trigger.id, body, signed(fresh, body))).toMatchObject({ accepted: true });
    // The secret is never readable afterwards.
    const read = await t.graphql(admin, `query($id: ID!) { trigger(id: $id) { webhookSecret } }`, { id: hook.trigger.id });
    expect(read.errors?.[0]?.message).toMatch(/webhookSecret/);
  });

  it('answers NOT_FOUND for an unknown hook and records nothing; another org never sees the log', async () => {
    const unknown = await deliver(randomUUID(), '{}', { timestamp: now(), signature: 'v1=00' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'NOT_FOUND' });
    const notId = await deliver('../etc', '{}', {}).catch((e: unknown) => e);
    expect(notId).toMatchObject({ code: 'NOT_FOUND' });
    const hook = await hookedWorkflow();
    await deliver(hook.trigger.id, '{}', {});
    expect(await deliveriesOf(hook.trigger.id, otherAdmin)).toBeNull();
    expect(await deliveriesOf(hook.trigger.id)).toHaveLength(1);
  });

  it('keeps webhook secrets readable across a SECRETS_KEYS rotation (re-wrapped with the new key, the old one then removed)', async () => {
    const hook = await hookedWorkflow();
    const engine = t.service.engine;
    const old = engine.config.SECRETS_KEYS as SecretKeyring;
    const fresh = { id: `k${randomBytes(3).toString('hex')}`, key: randomBytes(32) };
    const rotated: SecretKeyring = { active: fresh, keys: new Map([[fresh.id, fresh], ...old.keys]) };
    const withKeys = (keyring: SecretKeyring): Engine => ({ ...engine, config: { ...engine.config, SECRETS_KEYS: keyring } });
    expect(await rewrapWebhookSecrets(withKeys(rotated))).toBeGreaterThanOrEqual(1);
    // Only the new key is left: the re-wrapped secret still verifies a delivery.
    const onlyNew: SecretKeyring = { active: fresh, keys: new Map([[fresh.id, fresh]]) };
    const deps = { engine: withKeys(onlyNew), log: t.log, limiter: createRateLimiter({ redis: t.redis, prefix: `${t.prefix}:rl:rotation`, limit: 100, windowMs: 60_000 }), maxBodyBytes: MAX_BODY };
    const body = '{"after":"rotation"}';
    const request = { triggerId: hook.trigger.id, body: Buffer.from(body), bodyTooLarge: false, bodyBytes: body.length, idempotencyKey: '', sourceIp: '', requestId: 'r-rotation', ...signed(hook.webhookSecret, body) };
    expect((await deliverWebhook(deps, request)).delivery).toMatchObject({ outcome: 'ACCEPTED' });
  });
});
