import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, type Principal } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Triage (issue 12): the runs list's search, bulk cancel and retry of runs, and the dead-letter list's
 * groups, filters, bulk replay and discard. Each bulk item stands alone (one that cannot be done says
 * why; the others are done), and ids of another organization are not found and left untouched.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
let site: Server;
let siteUrl: string;
let down = true;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const operator = userPrincipal(orgId, 'operator');
const viewer = userPrincipal(orgId, 'viewer');
const otherOrg = randomUUID();
const otherAdmin = userPrincipal(otherOrg, 'admin');
const otherOperator = userPrincipal(otherOrg, 'operator');

async function gql<T>(principal: Principal, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.graphql<T>(principal, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data as T;
}

const createWorkflow = async (name: string, steps: unknown[], principal: Principal = admin) =>
  (await gql<{ createWorkflow: { id: string } }>(principal, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name, steps } })).createWorkflow.id;

const startRun = async (input: Record<string, unknown>, principal: Principal = operator) =>
  (await gql<{ startRun: { run: { id: string } } }>(principal, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input })).startRun.run.id;

const statusOf = async (id: string, principal: Principal = viewer) => (await gql<{ run: { status: string } | null }>(principal, `query($id: ID!) { run(id: $id) { status } }`, { id })).run?.status;

const settled = (id: string, principal: Principal = viewer) =>
  eventually(async () => {
    const status = await statusOf(id, principal);
    return status && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status) ? status : undefined;
  }, { timeoutMs: 30_000, what: `run ${id} to end` });

const failingStep = (id: string) => ({ id, capability: 'http.request', input: { url: `${siteUrl}/flaky` }, retry: { maxAttempts: 1 } });

beforeAll(async () => {
  site = createServer((_req, res) => {
    if (down) res.writeHead(503).end('down');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestOrchestration();
  worker = await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '8' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('runs list search', () => {
  it('finds a run by its id or its idempotency key, and bounds the search text', async () => {
    const workflowId = await createWorkflow('searched', [{ id: 'a', capability: 'noop' }]);
    const keyed = await startRun({ workflowId, idempotencyKey: 'order-4711' });
    const other = await startRun({ workflowId });
    const search = (text: string, principal: Principal = viewer) =>
      t.graphql<{ runs: { totalCount: number; edges: Array<{ node: { id: string } }> } }>(principal, `query($s: String) { runs(filter: { search: $s }) { totalCount edges { node { id } } } }`, { s: text });
    expect((await search('order-4711')).data?.runs.edges.map((e) => e.node.id)).toEqual([keyed]);
    expect((await search(` ${other.toUpperCase()} `)).data?.runs.edges.map((e) => e.node.id)).toEqual([other]);
    expect((await search('order-47')).data?.runs.totalCount).toBe(0);
    // Another organization's search does not see them.
    expect((await search('order-4711', userPrincipal(otherOrg, 'viewer'))).data?.runs.totalCount).toBe(0);
    expect((await search(other, userPrincipal(otherOrg, 'viewer'))).data?.runs.totalCount).toBe(0);
    const long = await search('k'.repeat(201));
    expect(long.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.search', reason: 'TOO_LONG' });
  });
});

describe('bulk actions on runs', () => {
  it('cancels several runs, each on its own, and reports the ones it could not cancel', async () => {
    const workflowId = await createWorkflow('long-naps', [{ id: 'nap', capability: 'sleep', input: { ms: 60_000 } }]);
    const running = [await startRun({ workflowId }), await startRun({ workflowId })];
    const quickId = await createWorkflow('quick', [{ id: 'a', capability: 'noop' }]);
    const finished = await startRun({ workflowId: quickId });
    expect(await settled(finished)).toBe('SUCCEEDED');
    const foreignWorkflow = await createWorkflow('foreign-naps', [{ id: 'nap', capability: 'sleep', input: { ms: 60_000 } }], otherAdmin);
    const foreign = await startRun({ workflowId: foreignWorkflow }, otherOperator);
    const ids = [running[0]!, finished, foreign, 'not-a-uuid', running[1]!];

    const res = await gql<{ cancelRuns: Array<{ id: string; run: { id: string; status: string } | null; error: { code: string; reason: string | null } | null }> }>(
      operator,
      `mutation($ids: [ID!]!) { cancelRuns(ids: $ids, reason: "bulk test") { id run { id status } error { code reason message } } }`,
      { ids },
    );
    expect(res.cancelRuns.map((r) => r.id)).toEqual(ids);
    expect(res.cancelRuns[0]).toMatchObject({ run: { status: 'CANCELLED' }, error: null });
    expect(res.cancelRuns[1]).toMatchObject({ run: null, error: { code: 'CONFLICT', reason: 'RUN_FINISHED' } });
    expect(res.cancelRuns[2]).toMatchObject({ run: null, error: { code: 'NOT_FOUND' } });
    expect(res.cancelRuns[3]).toMatchObject({ run: null, error: { code: 'NOT_FOUND' } });
    expect(res.cancelRuns[4]).toMatchObject({ run: { status: 'CANCELLED' }, error: null });
    // The other organization's run kept going.
    expect(await statusOf(foreign, otherAdmin)).not.toBe('CANCELLED');
    await gql(otherOperator, `mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id: foreign });
    // Failed items are audited with their outcome, done ones as usual.
    const audit = await t.pool.query<{ outcome: string; n: number }>(
      `SELECT event->>'outcome' AS outcome, count(*)::int AS n FROM audit_outbox WHERE event->>'action' = 'run.cancel' AND event->>'orgId' = $1 GROUP BY 1 ORDER BY 1`,
      [orgId],
    );
    expect(audit.rows).toEqual([
      { outcome: 'CONFLICT', n: 1 },
      { outcome: 'NOT_FOUND', n: 2 },
      { outcome: 'success', n: 2 },
    ]);
  });

  it('retries three failed runs at once', async () => {
    down = true;
    const workflowId = await createWorkflow('flaky-bulk', [failingStep('call')]);
    const runs = [await startRun({ workflowId }), await startRun({ workflowId }), await startRun({ workflowId })];
    for (const id of runs) expect(await settled(id)).toBe('FAILED');
    down = false;
    const res = await gql<{ retryRuns: Array<{ id: string; run: { status: string } | null; error: unknown }> }>(operator, `mutation($ids: [ID!]!) { retryRuns(ids: $ids) { id run { status } error { code } } }`, { ids: runs });
    expect(res.retryRuns.map((r) => [r.id, r.error])).toEqual(runs.map((id) => [id, null]));
    for (const id of runs) expect(await settled(id)).toBe('SUCCEEDED');
  });

  it('takes 1 to 100 distinct ids and only from operators', async () => {
    const tooMany = await t.graphql(operator, `mutation($ids: [ID!]!) { retryRuns(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, () => randomUUID()) });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ids', reason: 'TOO_MANY' });
    const none = await t.graphql(operator, `mutation { cancelRuns(ids: []) { id } }`);
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'EMPTY' });
    const byViewer = await t.graphql(viewer, `mutation($ids: [ID!]!) { cancelRuns(ids: $ids) { id } }`, { ids: [randomUUID()] });
    expect(byViewer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('dead-letter triage', () => {
  interface Letter {
    id: string;
    stepId: string;
    error: { code: string };
    run: { id: string; workflow: { name: string } };
    replayedAt: string | null;
    discardedAt: string | null;
    discardedBy: string | null;
  }
  const LETTERS = `query($filter: DeadLetterFilter) { deadLetters(first: 100, filter: $filter) { totalCount edges { node { id stepId error { code } run { id workflow { name } } replayedAt discardedAt discardedBy } } } }`;
  const letters = async (filter: Record<string, unknown>, principal: Principal = viewer) => (await gql<{ deadLetters: { totalCount: number; edges: Array<{ node: Letter }> } }>(principal, LETTERS, { filter })).deadLetters;

  it('groups open dead letters by error code, workflow and step; replays a group and discards another, leaving other organizations alone', async () => {
    down = true;
    const alpha = await createWorkflow('dl-alpha', [failingStep('fetch')]);
    const beta = await createWorkflow('dl-beta', [failingStep('post')]);
    const alphaRuns = [await startRun({ workflowId: alpha }), await startRun({ workflowId: alpha }), await startRun({ workflowId: alpha })];
    const betaRuns = [await startRun({ workflowId: beta }), await startRun({ workflowId: beta })];
    const foreignWorkflow = await createWorkflow('dl-foreign', [failingStep('fetch')], otherAdmin);
    const foreignRun = await startRun({ workflowId: foreignWorkflow }, otherOperator);
    for (const id of [...alphaRuns, ...betaRuns]) expect(await settled(id)).toBe('FAILED');
    expect(await settled(foreignRun, otherAdmin)).toBe('FAILED');

    const groups = await gql<{ deadLetterGroups: Array<{ errorCode: string; stepId: string; workflow: { id: string; name: string }; count: number; message: string }> }>(
      viewer,
      `{ deadLetterGroups { errorCode stepId workflow { id name } count lastAt message } }`,
    );
    const mine = groups.deadLetterGroups.filter((g) => g.workflow.name.startsWith('dl-'));
    expect(mine.map((g) => [g.workflow.name, g.stepId, g.count])).toEqual([
      ['dl-alpha', 'fetch', 3],
      ['dl-beta', 'post', 2],
    ]);
    const code = mine[0]!.errorCode;
    expect(code).toMatch(/\S/);
    expect(mine[0]!.message).toMatch(/503/);

    // The list filtered to a group.
    const alphaLetters = await letters({ workflowId: alpha, stepId: 'fetch', errorCode: code });
    expect(alphaLetters.totalCount).toBe(3);
    expect(alphaLetters.edges.map((e) => e.node.run.id).sort()).toEqual([...alphaRuns].sort());
    expect((await letters({ workflowId: alpha, stepId: 'post' })).totalCount).toBe(0);
    const betaLetters = await letters({ workflowId: beta });
    const [foreignLetter] = (await letters({ runId: foreignRun }, userPrincipal(otherOrg, 'viewer'))).edges.map((e) => e.node);
    expect(foreignLetter).toBeDefined();

    // Replay the alpha group, with the other organization's entry slipped in.
    down = false;
    const replayIds = [...alphaLetters.edges.map((e) => e.node.id), foreignLetter!.id];
    const replayed = await gql<{ replayDeadLetters: Array<{ id: string; deadLetter: { replayedAt: string | null } | null; error: { code: string } | null }> }>(
      operator,
      `mutation($ids: [ID!]!) { replayDeadLetters(ids: $ids) { id deadLetter { replayedAt } error { code reason message } } }`,
      { ids: replayIds },
    );
    expect(replayed.replayDeadLetters.map((r) => r.id)).toEqual(replayIds);
    for (const r of replayed.replayDeadLetters.slice(0, 3)) expect(r).toMatchObject({ deadLetter: { replayedAt: expect.any(String) }, error: null });
    expect(replayed.replayDeadLetters[3]).toMatchObject({ deadLetter: null, error: { code: 'NOT_FOUND' } });
    for (const id of alphaRuns) expect(await settled(id)).toBe('SUCCEEDED');
    // Replaying again says it was done.
    const again = await gql<{ replayDeadLetters: Array<{ error: { code: string; reason: string } | null }> }>(operator, `mutation($ids: [ID!]!) { replayDeadLetters(ids: $ids) { error { code reason } } }`, { ids: replayIds.slice(0, 1) });
    expect(again.replayDeadLetters[0]?.error).toEqual({ code: 'CONFLICT', reason: 'ALREADY_REPLAYED' });

    // Discard the beta group (and the foreign entry, which stays as it is).
    const discardIds = [...betaLetters.edges.map((e) => e.node.id), foreignLetter!.id];
    const discarded = await gql<{ discardDeadLetters: Array<{ id: string; deadLetter: { discardedAt: string | null; discardedBy: string | null } | null; error: { code: string } | null }> }>(
      operator,
      `mutation($ids: [ID!]!) { discardDeadLetters(ids: $ids) { id deadLetter { discardedAt discardedBy } error { code } } }`,
      { ids: discardIds },
    );
    expect(discarded.discardDeadLetters.slice(0, 2)).toEqual(betaLetters.edges.map((e) => ({ id: e.node.id, deadLetter: { discardedAt: expect.any(String), discardedBy: operator.display }, error: null })));
    expect(discarded.discardDeadLetters[2]).toMatchObject({ deadLetter: null, error: { code: 'NOT_FOUND' } });
    const twice = await gql<{ discardDeadLetters: Array<{ error: { code: string; reason: string } | null }> }>(operator, `mutation($ids: [ID!]!) { discardDeadLetters(ids: $ids) { error { code reason } } }`, { ids: discardIds.slice(0, 1) });
    expect(twice.discardDeadLetters[0]?.error).toEqual({ code: 'CONFLICT', reason: 'ALREADY_DISCARDED' });
    // Discarding left the runs as they were.
    for (const id of betaRuns) expect(await statusOf(id)).toBe('FAILED');

    // Nothing of the groups is open now; the other organization's entry still is.
    const after = await gql<{ deadLetterGroups: Array<{ workflow: { name: string } }> }>(viewer, `{ deadLetterGroups { workflow { name } } }`);
    expect(after.deadLetterGroups.filter((g) => g.workflow.name.startsWith('dl-'))).toEqual([]);
    expect((await letters({ runId: foreignRun }, userPrincipal(otherOrg, 'viewer'))).edges[0]?.node).toMatchObject({ replayedAt: null, discardedAt: null });
    const foreignGroups = await gql<{ deadLetterGroups: Array<{ workflow: { name: string }; count: number }> }>(userPrincipal(otherOrg, 'viewer'), `{ deadLetterGroups { workflow { name } count } }`);
    expect(foreignGroups.deadLetterGroups).toEqual([{ workflow: { name: 'dl-foreign' }, count: 1 }]);
    // Discarded entries are listed with the replayed ones.
    expect((await letters({ workflowId: beta, includeReplayed: true })).edges.every((e) => e.node.discardedAt !== null)).toBe(true);

    // A discarded task that fails again after a retry of its run is dead-lettered anew.
    down = true;
    await gql(operator, `mutation($id: ID!) { retryRun(id: $id) { id } }`, { id: betaRuns[0] });
    expect(await settled(betaRuns[0]!)).toBe('FAILED');
    expect((await letters({ runId: betaRuns[0] })).totalCount).toBe(1);
  });
});
