import { randomUUID } from 'node:crypto';
import { eventually, insecureCredentials, TEST_INTERNAL_TOKEN, unaryCall, type Principal } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import type { WorkerHandle } from '@orchestra/workers';
import { apiKeyPrincipal, startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Starting runs in bulk (startRuns, gRPC StartRuns: one transaction, all or nothing, bounded) and
 * concurrent startRun calls written together (each with its own answer), against the real service,
 * PostgreSQL, Redis and a worker process.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const operator = userPrincipal(orgId, 'operator');
const otherOrg = userPrincipal(randomUUID(), 'admin');

const START = `mutation($input: StartRunInput!) { startRun(input: $input) { deduplicated run { id status workflowVersion } } }`;
const START_MANY = `mutation($inputs: [StartRunInput!]!) { startRuns(inputs: $inputs) { runs { deduplicated run { id status input } } } }`;
type Started = { deduplicated: boolean; run: { id: string; status: string; input: Record<string, unknown> } };

async function createWorkflow(name: string, steps: unknown[], principal: Principal = admin): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(principal, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

const runCount = async (workflowId: string) => (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1', [workflowId])).rows[0]!.n;
const startAudits = async (runIds: readonly string[]) =>
  (await t.pool.query<{ target: string; outcome: string; actor: string }>(
    `SELECT event->>'targetId' AS target, event->>'outcome' AS outcome, event->'actor'->>'id' AS actor FROM audit_outbox WHERE event->>'action' = 'run.start' AND event->>'targetId' = ANY($1::text[])`,
    [runIds],
  )).rows;
const succeeded = (id: string) =>
  eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [id])).rows[0]?.status === 'SUCCEEDED', { what: `run ${id} to succeed`, timeoutMs: 20_000 });

beforeAll(async () => {
  t = await startTestOrchestration();
  worker = await t.startWorker({ WORKER_SLOTS: '8' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
});

describe('startRuns', () => {
  it('starts many runs in one call, answering in order, each with its audit row, and they run', async () => {
    const id = await createWorkflow('bulk', [{ id: 'echo', capability: 'noop', input: { n: '{{ input.n }}' } }]);
    const res = await t.graphql<{ startRuns: { runs: Started[] } }>(operator, START_MANY, { inputs: Array.from({ length: 5 }, (_, n) => ({ workflowId: id, input: { n } })) });
    expect(res.errors).toBeUndefined();
    const runs = res.data!.startRuns.runs;
    expect(runs.map((r) => [r.deduplicated, r.run.status, r.run.input])).toEqual(Array.from({ length: 5 }, (_, n) => [false, 'QUEUED', { n }]));
    const ids = runs.map((r) => r.run.id);
    expect(new Set(ids).size).toBe(5);
    // One transaction: the runs share its time.
    const { rows } = await t.pool.query<{ created: Date }>('SELECT DISTINCT created_at AS created FROM runs WHERE id = ANY($1::uuid[])', [ids]);
    expect(rows).toHaveLength(1);
    expect((await startAudits(ids)).map((a) => [a.target, a.outcome]).sort()).toEqual(ids.map((runId) => [runId, 'success']).sort());
    for (const runId of ids) await succeeded(runId);
  });

  it('answers an idempotency key seen before, or twice in one call, with that run', async () => {
    const id = await createWorkflow('bulk-keys', [{ id: 'a', capability: 'noop' }]);
    const first = await t.graphql<{ startRun: { run: { id: string } } }>(operator, START, { input: { workflowId: id, idempotencyKey: 'k-earlier', input: { x: 1 } } });
    const res = await t.graphql<{ startRuns: { runs: Started[] } }>(operator, START_MANY, {
      inputs: [
        { workflowName: 'bulk-keys', idempotencyKey: 'k-earlier', input: { x: 1 } },
        { workflowId: id, idempotencyKey: 'k-new', input: { y: 2 } },
        { workflowId: id, idempotencyKey: 'k-new', input: { y: 2 } },
        { workflowId: id, input: { y: 2 } },
      ],
    });
    expect(res.errors).toBeUndefined();
    const runs = res.data!.startRuns.runs;
    expect(runs.map((r) => r.deduplicated)).toEqual([true, false, true, false]);
    expect(runs[0]!.run.id).toBe(first.data!.startRun.run.id);
    expect(runs[2]!.run.id).toBe(runs[1]!.run.id);
    expect(runs[3]!.run.id).not.toBe(runs[1]!.run.id);
    expect(await runCount(id)).toBe(3);
  });

  it('is all or nothing: an input that cannot start fails the call, naming it, and no run starts', async () => {
    const id = await createWorkflow('bulk-atomic', [{ id: 'a', capability: 'noop', input: { url: '{{ input.url }}' } }]);
    await t.graphql(operator, START, { input: { workflowId: id, idempotencyKey: 'k-used', input: { url: 'a' } } });
    const before = await runCount(id);
    const cases: Array<[unknown[], Record<string, unknown>]> = [
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, input: { url: 'b' } }, { workflowName: 'no-such-workflow', input: {} }], { code: 'NOT_FOUND', field: 'inputs[2].workflowName' }],
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, input: {} }], { code: 'BAD_USER_INPUT', reason: 'MISSING_RUN_INPUT', field: 'inputs[1].input' }],
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, idempotencyKey: 'k-used', input: { url: 'other' } }], { code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_REUSED', field: 'inputs[1].idempotencyKey' }],
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, version: 7, input: { url: 'a' } }], { code: 'NOT_FOUND', reason: 'WORKFLOW_VERSION_NOT_FOUND', field: 'inputs[1].version' }],
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, workflowName: 'bulk-atomic', input: { url: 'a' } }], { code: 'BAD_USER_INPUT', reason: 'WORKFLOW_REQUIRED', field: 'inputs[1].workflowId' }],
      [[{ workflowId: id, input: { url: 'a' } }, { workflowId: id, input: [1, 2] }], { code: 'BAD_USER_INPUT', reason: 'INVALID_RUN_INPUT', field: 'inputs[1].input' }],
    ];
    for (const [inputs, error] of cases) {
      const res = await t.graphql(operator, START_MANY, { inputs });
      expect(res.data).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject(error);
    }
    expect(await runCount(id)).toBe(before);
  });

  it('is bounded: at most 100 inputs per call (and 2 MiB of inputs: see gRPC; a GraphQL body has at most 1 MiB)', async () => {
    const id = await createWorkflow('bulk-bounds', [{ id: 'a', capability: 'noop' }]);
    const tooMany = await t.graphql(operator, START_MANY, { inputs: Array.from({ length: 101 }, () => ({ workflowId: id })) });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_MANY_RUNS', field: 'inputs' });
    const tooBig = await t.graphql(operator, START_MANY, { inputs: [{ workflowId: id }, { workflowId: id, input: { big: 'x'.repeat(257 * 1024) } }] });
    expect(tooBig.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'RUN_INPUT_TOO_LARGE', field: 'inputs[1].input' });
    expect(await runCount(id)).toBe(0);
    const none = await t.graphql<{ startRuns: { runs: unknown[] } }>(operator, START_MANY, { inputs: [] });
    expect(none.data?.startRuns.runs).toEqual([]);
  });

  it('needs runs:write like startRun, and starts only workflows of the caller’s organization', async () => {
    const id = await createWorkflow('bulk-private', [{ id: 'a', capability: 'noop' }]);
    const viewer = await t.graphql(userPrincipal(orgId, 'viewer'), START_MANY, { inputs: [{ workflowId: id }] });
    expect(viewer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const readOnlyKey = await t.graphql(apiKeyPrincipal(orgId, ['runs:read']), START_MANY, { inputs: [{ workflowId: id }] });
    expect(readOnlyKey.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
    const byKey = await t.graphql<{ startRuns: { runs: Started[] } }>(apiKeyPrincipal(orgId, ['runs:write']), START_MANY, { inputs: [{ workflowId: id }] });
    expect(byKey.data?.startRuns.runs).toHaveLength(1);
    for (const input of [{ workflowId: id }, { workflowName: 'bulk-private' }]) {
      const other = await t.graphql(otherOrg, START_MANY, { inputs: [input] });
      expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(await runCount(id)).toBe(1);
  });
});

describe('concurrent startRun calls', () => {
  it('are written together, each with its own answer, error and audit row', async () => {
    const id = await createWorkflow('together', [{ id: 'a', capability: 'noop', input: { n: '{{ input.n }}' } }]);
    // Each call as a user of its own (one organization): the runs remember who started them.
    const users = Array.from({ length: 24 }, () => userPrincipal(orgId, 'operator'));
    const calls = Array.from({ length: 24 }, (_, n) => {
      const principal = users[n]!;
      if (n === 5) return t.graphql(principal, START, { input: { workflowName: 'not-there' } });
      if (n === 9) return t.graphql(principal, START, { input: { workflowId: id, input: {} } });
      return t.graphql<{ startRun: { run: { id: string } } }>(principal, START, { input: { workflowId: id, input: { n } } });
    });
    const answers = await Promise.all(calls);
    expect(answers[5]!.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.workflowName' });
    expect(answers[9]!.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'MISSING_RUN_INPUT', field: 'input.input' });
    const started = answers.flatMap((a, n) => (n === 5 || n === 9 ? [] : [{ n, id: (a.data as { startRun: { run: { id: string } } }).startRun.run.id }]));
    expect(started).toHaveLength(22);
    const { rows } = await t.pool.query<{ id: string; input: { n: number }; started_by_user_id: string; created_at: Date }>('SELECT id, input, started_by_user_id, created_at FROM runs WHERE workflow_id = $1', [id]);
    expect(rows).toHaveLength(22);
    // Each run is the one its call asked for, started by its caller ...
    for (const { n, id: runId } of started) expect(rows.find((r) => r.id === runId)).toMatchObject({ input: { n }, started_by_user_id: users[n]!.userId });
    // ... with its own audit row naming its caller, though several were written in one transaction (they share its time).
    const audits = await startAudits(started.map((s) => s.id));
    expect(audits.map((a) => [a.target, a.actor]).sort()).toEqual(started.map((s) => [s.id, users[s.n]!.userId]).sort());
    expect(new Set(rows.map((r) => r.created_at.getTime())).size).toBeLessThan(22);
    for (const { id: runId } of started) await succeeded(runId);
  });

  it('of two organizations never share a transaction: neither starts the other’s workflow', async () => {
    const id = await createWorkflow('mine-only', [{ id: 'a', capability: 'noop' }]);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => (n % 2 === 0 ? t.graphql(operator, START, { input: { workflowId: id } }) : t.graphql(otherOrg, START, { input: { workflowId: id } }))),
    );
    answers.forEach((a, n) => {
      if (n % 2 === 0) expect(a.errors).toBeUndefined();
      else expect(a.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    });
    const { rows } = await t.pool.query<{ org_id: string }>('SELECT DISTINCT org_id FROM runs WHERE workflow_id = $1', [id]);
    expect(rows).toEqual([{ org_id: orgId }]);
  });
});

describe('gRPC StartRuns', () => {
  it('starts runs in order for the forwarded principal, all or nothing, at most 100', async () => {
    const id = await createWorkflow('bulk-grpc', [{ id: 'a', capability: 'noop' }]);
    const client = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, insecureCredentials());
    try {
      const options = { internalToken: TEST_INTERNAL_TOKEN };
      const principalHeader = await t.sign(operator);
      const item = (input: Record<string, unknown>, workflow = 'bulk-grpc') => ({ workflow, version: 0, input, idempotencyKey: '' });
      const res = await unaryCall(client, client.startRuns, { items: [item({ i: 0 }), item({ i: 1 }, id), item({ i: 2 })] }, options, { principalHeader });
      expect(res.results.map((r) => [r.deduplicated, r.run?.input, r.run?.workflowId, r.run?.status])).toEqual(
        [0, 1, 2].map((i) => [false, { i }, id, orchestrationV1.RunStatus.RUN_STATUS_QUEUED]),
      );
      const failed = await unaryCall(client, client.startRuns, { items: [item({ i: 3 }), item({}, 'ghost')] }, options, { principalHeader }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: 'NOT_FOUND', field: 'items[1].workflowName' });
      const tooMany = await unaryCall(client, client.startRuns, { items: Array.from({ length: 101 }, () => item({})) }, options, { principalHeader }).catch((e: unknown) => e);
      expect(tooMany).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_MANY_RUNS', field: 'items' });
      const big = 'x'.repeat(200 * 1024);
      const tooLarge = await unaryCall(client, client.startRuns, { items: Array.from({ length: 11 }, () => item({ big })) }, options, { principalHeader }).catch((e: unknown) => e);
      expect(tooLarge).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'RUN_INPUTS_TOO_LARGE', field: 'items' });
      const otherOrgHeader = await t.sign(otherOrg);
      const foreign = await unaryCall(client, client.startRuns, { items: [item({}, id)] }, options, { principalHeader: otherOrgHeader }).catch((e: unknown) => e);
      expect(foreign).toMatchObject({ code: 'NOT_FOUND' });
      expect(await runCount(id)).toBe(3);
    } finally {
      client.close();
    }
  });
});
