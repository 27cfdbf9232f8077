import { randomUUID } from 'node:crypto';
import { insecureCredentials, TEST_INTERNAL_TOKEN, unaryCall } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { apiKeyPrincipal, startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

/**
 * emitEvent and triggers against the real service (PostgreSQL, Redis, gRPC): matching by name and
 * filter, one start per workflow and idempotency key (also when emits race), bounds, roles and
 * another organization.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const operator = userPrincipal(orgId, 'operator');
const viewer = userPrincipal(orgId, 'viewer');
const otherAdmin = userPrincipal(randomUUID(), 'admin');

const EMIT = `mutation($n: String!, $p: JSON, $k: String) { emitEvent(name: $n, payload: $p, idempotencyKey: $k) {
  event { id name payload idempotencyKey source emittedBy }
  starts { workflow { id name } run { id input status } deduplicated error } } }`;
const CREATE_TRIGGER = `mutation($i: CreateTriggerInput!) { createTrigger(input: $i) { trigger { id eventName filter hasWebhook webhookUrl workflow { id } } webhookSecret } }`;

interface Start {
  workflow: { id: string; name: string } | null;
  run: { id: string; input: unknown; status: string } | null;
  deduplicated: boolean;
  error: string | null;
}
interface Emitted {
  emitEvent: { event: { id: string; name: string; payload: unknown; idempotencyKey: string; source: string; emittedBy: string }; starts: Start[] };
}

async function createWorkflow(principal = admin, name = `wf-${randomUUID().slice(0, 8)}`, steps: unknown[] = [{ id: 'a', capability: 'noop', input: {} }]): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(principal, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, { i: { name, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function createTrigger(input: Record<string, unknown>, principal = admin) {
  const res = await t.graphql<{ createTrigger: { trigger: { id: string; hasWebhook: boolean; webhookUrl: string | null }; webhookSecret: string | null } }>(principal, CREATE_TRIGGER, { i: input });
  expect(res.errors).toBeUndefined();
  return res.data!.createTrigger;
}

const emit = (name: string, payload: unknown, key?: string, principal = operator) => t.graphql<Emitted>(principal, EMIT, { n: name, p: payload, k: key });

const runCount = async (workflowId: string, principal = viewer): Promise<number> => {
  const res = await t.graphql<{ runs: { totalCount: number } }>(principal, `query($w: ID) { runs(filter: { workflowId: $w }) { totalCount } }`, { w: workflowId });
  expect(res.errors).toBeUndefined();
  return res.data!.runs.totalCount;
};

beforeAll(async () => {
  t = await startTestOrchestration();
});
afterAll(async () => {
  await t.stop();
});

describe('emitEvent and triggers', () => {
  it('starts every workflow whose trigger matches the name and filter, with the payload as input', async () => {
    const paid = await createWorkflow();
    const gold = await createWorkflow();
    const unrelated = await createWorkflow();
    await createTrigger({ workflowId: paid, eventName: 'order.paid' });
    await createTrigger({ workflowId: gold, eventName: 'order.paid', filter: [{ path: '/customer/tier', equals: 'gold' }] });
    await createTrigger({ workflowId: unrelated, eventName: 'order.refunded' });

    const silver = await emit('order.paid', { order: 1, customer: { tier: 'silver' } }, `k-${randomUUID()}`);
    expect(silver.errors).toBeUndefined();
    expect(silver.data!.emitEvent.event).toMatchObject({ name: 'order.paid', source: 'API', payload: { order: 1, customer: { tier: 'silver' } } });
    expect(silver.data!.emitEvent.starts.map((s) => s.workflow?.id)).toEqual([paid]);
    expect(silver.data!.emitEvent.starts[0]).toMatchObject({ deduplicated: false, error: null, run: { input: { order: 1, customer: { tier: 'silver' } }, status: 'QUEUED' } });

    const golden = await emit('order.paid', { order: 2, customer: { tier: 'gold' } }, `k-${randomUUID()}`);
    expect(golden.data!.emitEvent.starts.map((s) => s.workflow?.id).sort()).toEqual([paid, gold].sort());
    expect(await runCount(paid)).toBe(2);
    expect(await runCount(gold)).toBe(1);
    expect(await runCount(unrelated)).toBe(0);

    // The event and what it started can be read back.
    const read = await t.graphql<{ events: Array<{ id: string; starts: Array<{ run: { id: string } | null }> }> }>(viewer, `query { events(name: "order.paid", first: 5) { id starts { run { id } } } }`);
    expect(read.errors).toBeUndefined();
    expect(read.data!.events[0]).toMatchObject({ id: golden.data!.emitEvent.event.id });
    expect(read.data!.events[0]!.starts).toHaveLength(2);
  });

  it('never starts the same workflow twice for one idempotency key, also when emits race', async () => {
    const wf = await createWorkflow();
    await createTrigger({ workflowId: wf, eventName: 'invoice.created' });
    // Two triggers of one workflow on the same event: still one run.
    await createTrigger({ workflowId: wf, eventName: 'invoice.created', filter: [{ path: '/n', equals: 1 }] });
    const key = `inv-${randomUUID()}`;
    const first = await emit('invoice.created', { n: 1 }, key);
    expect(first.data!.emitEvent.starts).toHaveLength(1);
    const again = await emit('invoice.created', { n: 1 }, key);
    expect(again.errors).toBeUndefined();
    expect(again.data!.emitEvent.starts).toEqual([expect.objectContaining({ deduplicated: true, run: expect.objectContaining({ id: first.data!.emitEvent.starts[0]!.run!.id }) })]);
    expect(await runCount(wf)).toBe(1);

    // Ten emits of one new key at once: one run.
    const raced = `race-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => emit('invoice.created', { n: 2 }, raced)));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(await runCount(wf)).toBe(2);
    const runIds = new Set(results.map((r) => r.data!.emitEvent.starts[0]?.run?.id));
    expect(runIds.size).toBe(1);

    // No key: every emit starts a run.
    await emit('invoice.created', { n: 3 });
    await emit('invoice.created', { n: 3 });
    expect(await runCount(wf)).toBe(4);
  });

  it('records a start that failed and lets the same key try again', async () => {
    const wf = await createWorkflow(admin, undefined, [{ id: 'a', capability: 'noop', input: { who: '{{ input.customer }}' } }]);
    await createTrigger({ workflowId: wf, eventName: 'needs.customer' });
    const key = `retry-${randomUUID()}`;
    const missing = await emit('needs.customer', { other: 1 }, key);
    expect(missing.errors).toBeUndefined();
    expect(missing.data!.emitEvent.starts[0]).toMatchObject({ run: null, error: expect.stringMatching(/customer/) });
    const fixed = await emit('needs.customer', { customer: 'c-1' }, key);
    expect(fixed.data!.emitEvent.starts[0]).toMatchObject({ deduplicated: false, error: null, run: { input: { customer: 'c-1' } } });
    expect(await runCount(wf)).toBe(1);
  });

  it('refuses bad events and triggers, naming the field, with nothing written', async () => {
    const wf = await createWorkflow();
    const cases: Array<[Promise<{ errors?: Array<{ extensions?: Record<string, unknown> }> }>, string, string]> = [
      [emit('has space', {}), 'name', 'INVALID_EVENT_NAME'],
      [emit('ok', [1, 2]), 'payload', 'INVALID_EVENT_PAYLOAD'],
      [emit('ok', { big: 'x'.repeat(70 * 1024) }), 'payload', 'EVENT_PAYLOAD_TOO_LARGE'],
      [emit('ok', {}, 'k'.repeat(201)), 'idempotencyKey', 'INVALID_IDEMPOTENCY_KEY'],
      [t.graphql(admin, CREATE_TRIGGER, { i: { workflowId: wf, eventName: '' } }), 'input.eventName', 'INVALID_EVENT_NAME'],
      [t.graphql(admin, CREATE_TRIGGER, { i: { workflowId: wf, eventName: 'a', filter: [{ path: 'nope', equals: 1 }] } }), 'input.filter[0].path', 'INVALID_EVENT_FILTER'],
      [t.graphql(admin, CREATE_TRIGGER, { i: { workflowId: wf, eventName: 'a', filter: { path: '/a', equals: 1 } } }), 'input.filter', 'INVALID_EVENT_FILTER'],
      [t.graphql(admin, CREATE_TRIGGER, { i: { workflowId: randomUUID(), eventName: 'a' } }), 'input.workflowId', 'WORKFLOW_NOT_FOUND'],
    ];
    for (const [pending, field, reason] of cases) {
      const res = await pending;
      expect(res.errors?.[0]?.extensions).toMatchObject({ field, reason });
    }
    const listed = await t.graphql<{ triggers: unknown[]; events: Array<{ name: string }> }>(admin, `query($w: ID) { triggers(workflowId: $w) { id } events(first: 100) { name } }`, { w: wf });
    expect(listed.data!.triggers).toEqual([]);
    expect(listed.data!.events.map((e) => e.name)).not.toContain('ok');
  });

  it('lets only admins manage triggers and operators emit; a viewer reads', async () => {
    const wf = await createWorkflow();
    const denied = await t.graphql(operator, CREATE_TRIGGER, { i: { workflowId: wf, eventName: 'x.y' } });
    expect(denied.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const byViewer = await emit('x.y', {}, undefined, viewer);
    expect(byViewer.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { trigger } = await createTrigger({ workflowId: wf, eventName: 'x.y' });
    const listed = await t.graphql<{ trigger: { id: string } | null }>(viewer, `query($id: ID!) { trigger(id: $id) { id } }`, { id: trigger.id });
    expect(listed.data!.trigger).toEqual({ id: trigger.id });
    // An API key with runs:write emits (the public schema's door).
    const key = apiKeyPrincipal(orgId, ['runs:write', 'runs:read']);
    const byKey = await emit('x.y', { from: 'key' }, undefined, key);
    expect(byKey.errors).toBeUndefined();
    expect(byKey.data!.emitEvent.starts).toHaveLength(1);
    const deleted = await t.graphql<{ deleteTrigger: { id: string } }>(admin, `mutation($id: ID!) { deleteTrigger(id: $id) { id } }`, { id: trigger.id });
    expect(deleted.errors).toBeUndefined();
    expect((await emit('x.y', {})).data!.emitEvent.starts).toEqual([]);
  });

  it('keeps organizations apart: events, triggers and their runs', async () => {
    const wf = await createWorkflow();
    const { trigger } = await createTrigger({ workflowId: wf, eventName: 'shared.name' });
    const otherWf = await createWorkflow(otherAdmin);
    await createTrigger({ workflowId: otherWf, eventName: 'shared.name' }, otherAdmin);
    const key = `same-${randomUUID()}`;
    const mine = await emit('shared.name', { org: 'a' }, key);
    expect(mine.data!.emitEvent.starts.map((s) => s.workflow?.id)).toEqual([wf]);
    // The same key in another organization is its own.
    const theirs = await emit('shared.name', { org: 'b' }, key, userPrincipal(otherAdmin.orgId as string, 'operator'));
    expect(theirs.data!.emitEvent.starts.map((s) => [s.workflow?.id, s.deduplicated])).toEqual([[otherWf, false]]);
    expect(await runCount(wf)).toBe(1);

    const seen = await t.graphql<{ trigger: unknown; triggers: Array<{ id: string }>; events: Array<{ id: string }> }>(
      otherAdmin,
      `query($id: ID!) { trigger(id: $id) { id } triggers { id } events(first: 100) { id } }`,
      { id: trigger.id },
    );
    expect(seen.data!.trigger).toBeNull();
    expect(seen.data!.triggers.map((x) => x.id)).not.toContain(trigger.id);
    expect(seen.data!.events.map((e) => e.id)).not.toContain(mine.data!.emitEvent.event.id);
    for (const mutation of ['deleteTrigger', 'rotateTriggerSecret']) {
      const res = await t.graphql(otherAdmin, `mutation($id: ID!) { ${mutation}(id: $id) { __typename } }`, { id: trigger.id });
      expect(res.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
  });

  it('emits over gRPC for internal services, acting for the forwarded principal', async () => {
    const wf = await createWorkflow();
    await createTrigger({ workflowId: wf, eventName: 'grpc.event' });
    const client = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, insecureCredentials());
    try {
      const options = { internalToken: TEST_INTERNAL_TOKEN };
      const key = `g-${randomUUID()}`;
      const first = await unaryCall(client, client.emitEvent, { name: 'grpc.event', payload: { via: 'grpc' }, idempotencyKey: key }, options, { principalHeader: await t.sign(operator) });
      expect(first.starts).toEqual([expect.objectContaining({ workflowId: wf, deduplicated: false, error: '' })]);
      const again = await unaryCall(client, client.emitEvent, { name: 'grpc.event', payload: { via: 'grpc' }, idempotencyKey: key }, options, { principalHeader: await t.sign(operator) });
      expect(again.starts).toEqual([expect.objectContaining({ runId: first.starts[0]!.runId, deduplicated: true })]);
      const bad = await unaryCall(client, client.emitEvent, { name: 'bad name', payload: {}, idempotencyKey: '' }, options, { principalHeader: await t.sign(operator) }).catch((e: unknown) => e);
      expect(bad).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      const anonymous = await unaryCall(client, client.emitEvent, { name: 'grpc.event', payload: {}, idempotencyKey: '' }, options).catch((e: unknown) => e);
      expect(anonymous).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(await runCount(wf)).toBe(1);
    } finally {
      client.close();
    }
  });
});
