import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, type Principal } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type GraphQLResult, type TestOrchestration } from './testing/harness';

/**
 * Run.attempts (issue 12, the run page's timeline): every attempt of a run — a retried step's two,
 * a forEach step's items' — a page at a time in the order they were made, each naming its task,
 * step and item index; pages bounded; another organization's run (and so its attempts) not found.
 * The retried step calls a local HTTP server standing in for a remote website (503 once, then 200).
 */

let t: TestOrchestration;
let site: Server;
let siteUrl: string;
let failuresLeft = 0;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const viewer = userPrincipal(orgId, 'viewer');
const otherAdmin = userPrincipal(randomUUID(), 'admin');

interface AttemptView {
  id: string;
  number: number;
  taskId: string;
  stepId: string;
  itemIndex: number | null;
  status: string;
  workerId: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
}
interface AttemptPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: Array<{ cursor: string; node: AttemptView }>;
}

const ATTEMPTS = `query($id: ID!, $first: Int, $after: String) { run(id: $id) { id status
  attempts(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id number taskId stepId itemIndex status workerId queuedAt startedAt finishedAt error { code message } } } } } }`;

async function gql<T>(principal: Principal, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.graphql<T>(principal, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data as T;
}

const attemptsPage = (principal: Principal, id: string, first?: number, after?: string) =>
  t.graphql<{ run: { id: string; status: string; attempts: AttemptPage } | null }>(principal, ATTEMPTS, { id, first, after });

const errorOf = (res: GraphQLResult<unknown>) => ({ message: res.errors?.[0]?.message, ...res.errors?.[0]?.extensions });

beforeAll(async () => {
  site = createServer((_req, res) => {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('busy, try again');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  t = await startTestOrchestration();
  const worker = await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '8' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await new Promise((resolve) => site?.close(resolve));
});

describe('Run.attempts', () => {
  it("lists every attempt of a run — a retried step's two and each forEach item's — in pages, each placed by task, step and item", async () => {
    failuresLeft = 1;
    const { createWorkflow } = await gql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
      i: {
        name: `attempts-${randomUUID().slice(0, 8)}`,
        steps: [
          { id: 'call', capability: 'http.request', input: { url: `${siteUrl}/flaky` }, retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 100 } },
          { id: 'each', capability: 'noop', dependsOn: ['call'], input: { n: '{{ item }}' }, forEach: { items: '{{ input.items }}' } },
        ],
      },
    });
    const { startRun } = await gql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, {
      i: { workflowId: createWorkflow.id, input: { items: [1, 2, 3] } },
    });
    const runId = startRun.run.id;
    await eventually(async () => (await attemptsPage(viewer, runId)).data?.run?.status === 'SUCCEEDED', { timeoutMs: 30_000, what: 'the run to succeed' });

    // Pages of 2, followed by their cursors, until the last says there is no next.
    const seen: AttemptView[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const res = await attemptsPage(viewer, runId, 2, after);
      expect(res.errors).toBeUndefined();
      const page = res.data!.run!.attempts;
      expect(page.totalCount).toBe(6);
      seen.push(...page.edges.map((e) => e.node));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? undefined;
    }
    expect(pages).toBe(3);
    // In the order they were made: the step's failed attempt, its retry, then the forEach step's.
    expect(seen.slice(0, 2).map((a) => [a.stepId, a.itemIndex, a.number, a.status])).toEqual([
      ['call', null, 1, 'FAILED'],
      ['call', null, 2, 'SUCCEEDED'],
    ]);
    // The forEach step's own task (which expanded the list; no item index), then its three items.
    expect(seen.slice(2).map((a) => [a.stepId, a.itemIndex, a.number, a.status]).sort((x, y) => (x[1] === null ? -1 : y[1] === null ? 1 : Number(x[1]) - Number(y[1])))).toEqual([
      ['each', null, 1, 'SUCCEEDED'],
      ...[0, 1, 2].map((i) => ['each', i, 1, 'SUCCEEDED']),
    ]);
    expect(new Set(seen.map((a) => a.id)).size).toBe(6);
    const [failed, retried] = seen;
    expect(failed!.taskId).toBe(retried!.taskId);
    expect(failed!.error?.code).toBe('HTTP_STATUS');
    // Both attempts waited in the queue before they ran, and ran on the worker.
    for (const a of [failed!, retried!]) {
      expect(a.workerId).toBeTruthy();
      expect(Date.parse(a.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.queuedAt));
      expect(Date.parse(a.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(a.startedAt!));
    }
    // The retry was queued after the first attempt ended (its backoff is its queue wait).
    expect(Date.parse(retried!.queuedAt)).toBeGreaterThanOrEqual(Date.parse(failed!.finishedAt!));

    // The items' attempts name their own tasks, the items of step "each" (as Task.attemptHistory places them too).
    const items = seen.slice(2).filter((a) => a.itemIndex !== null);
    const { task } = await gql<{ task: { stepId: string; itemIndex: number; attemptHistory: Array<{ id: string; taskId: string; stepId: string; itemIndex: number | null }> } | null }>(
      viewer,
      `query($id: ID!) { task(id: $id) { stepId itemIndex attemptHistory { id taskId stepId itemIndex } } }`,
      { id: items[1]!.taskId },
    );
    expect(task?.attemptHistory).toEqual([{ id: items[1]!.id, taskId: items[1]!.taskId, stepId: 'each', itemIndex: items[1]!.itemIndex }]);

    // Another organization: the run is not found, so neither are its attempts; an id of its own run cannot page into this one.
    const foreign = await attemptsPage(otherAdmin, runId, 10);
    expect(foreign.errors).toBeUndefined();
    expect(foreign.data?.run).toBeNull();
    const foreignTask = await t.graphql<{ task: unknown }>(otherAdmin, `query($id: ID!) { task(id: $id) { attemptHistory { id } } }`, { id: failed!.taskId });
    expect(foreignTask.data?.task ?? null).toBeNull();
  });

  it('bounds a page and refuses a cursor it did not give out, naming the argument', async () => {
    const { createWorkflow } = await gql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
      i: { name: `attempts-bounds-${randomUUID().slice(0, 8)}`, steps: [{ id: 'a', capability: 'noop' }] },
    });
    const { startRun } = await gql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId: createWorkflow.id } });
    const runId = startRun.run.id;
    for (const first of [0, 1001]) {
      expect(errorOf(await attemptsPage(viewer, runId, first))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first', reason: 'INVALID_PAGE_SIZE' });
    }
    expect(errorOf(await attemptsPage(viewer, runId, 10, 'not-a-cursor'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after', reason: 'INVALID_CURSOR' });
    // A page as large as the bound is fine.
    const full = await attemptsPage(viewer, runId, 1000);
    expect(full.errors).toBeUndefined();
    expect(full.data?.run?.attempts.totalCount).toBeGreaterThanOrEqual(1);
  });
});
