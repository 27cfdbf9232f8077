import { randomUUID } from 'node:crypto';
import type { PoolClient, Principal } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { refreshFairShareReasons } from './fair-share';

/**
 * A reconcile pass's FAIR_SHARE labels (refreshFairShareReasons) cost PostgreSQL O(waiting attempts),
 * not O(waiting attempts²): its statement joined the waiting attempts to their tasks in a way a plan
 * could turn into a scan of the labelled tasks for every waiting attempt (3,000 waiting: 28 s a pass,
 * every pass, holding the rows it labels — what made cancelling a backlog take minutes). Counted, not
 * timed: the rows the pass's transaction read (pg_stat_xact_user_tables of this suite's schema, read
 * twice in the transaction: PostgreSQL reports a backend's counts only when it is idle).
 */

let t: TestOrchestration;

beforeAll(async () => {
  t = await startTestOrchestration();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUNS = `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`;
/** No worker serves it: the attempts stay waiting, with the places they were given. */
const POOL = 'fair-share-cost';
const BACKLOG = 600;

async function orgStarting(n: number): Promise<Principal> {
  const principal = userPrincipal(randomUUID(), 'admin');
  await t.grantPool(principal.orgId as string, POOL);
  const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { i: { name: 'work', steps: [{ id: 'work', capability: 'sleep', pool: POOL, input: { ms: 10 } }] } });
  expect(created.errors).toBeUndefined();
  for (let started = 0; started < n; started += 100) {
    const res = await t.graphql(principal, START_RUNS, { i: Array.from({ length: Math.min(100, n - started) }, () => ({ workflowId: created.data!.createWorkflow.id })) });
    expect(res.errors).toBeUndefined();
  }
  return principal;
}

async function rowsRead(tx: PoolClient): Promise<number> {
  const { rows } = await tx.query<{ n: string }>(
    `SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::text AS n FROM pg_stat_xact_user_tables WHERE schemaname = $1`,
    [t.schema],
  );
  return Number(rows[0]!.n);
}

/** One pass of the labels, as the reconciler runs it (a system transaction): tasks changed and rows read. */
const pass = () =>
  t.service.engine.inSystem(async (tx) => {
    const before = await rowsRead(tx);
    const changed = await refreshFairShareReasons(tx);
    return { changed, read: (await rowsRead(tx)) - before };
  });

describe("the cost of a reconcile pass's FAIR_SHARE labels", () => {
  it(`reads a few rows per waiting attempt with ${BACKLOG} of one organization waiting behind another's`, async () => {
    const a = await orgStarting(BACKLOG);
    await orgStarting(1);
    // The reconciler's own passes label them too: take the labels to where a pass has nothing left to do.
    const passes = [];
    for (let i = 0; i < 5; i += 1) {
      const p = await pass();
      passes.push(p);
      if (p.changed === 0 && i > 0) break;
    }
    const kinds = await t.pool.query<{ kind: string | null; n: number }>(
      `SELECT wait_reason ->> 'kind' AS kind, count(*)::int AS n FROM tasks WHERE org_id = $1 GROUP BY 1`,
      [a.orgId],
    );
    const count = (kind: string): number => kinds.rows.find((r) => r.kind === kind)?.n ?? 0;
    // The dispatcher keeps looking at the head of A's queue (no worker serves the pool) and says NO_WORKER
    // there, which FAIR_SHARE does not replace: how many it reached depends on how long the starts took
    // (11 of 600 on a slow CI machine). Every other task of A's but its first few (those whose place is
    // not behind B's task: a minute of queueing is worth a place) waits for B's in turn.
    expect(count('FAIR_SHARE') + count('NO_WORKER')).toBeGreaterThanOrEqual(BACKLOG - 10);
    expect(count('FAIR_SHARE')).toBeGreaterThanOrEqual(BACKLOG / 2);
    // Every pass reads each waiting attempt and its task a bounded number of times (before: a pass with the labels in place read ~BACKLOG² rows).
    const worst = Math.max(...passes.map((p) => p.read));
    if (worst > 10 * BACKLOG) process.stderr.write(`passes (tasks changed, rows read): ${JSON.stringify(passes)}\n`);
    expect(worst).toBeLessThanOrEqual(10 * BACKLOG);
  }, 120_000);
});
