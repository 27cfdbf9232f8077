import { randomUUID } from 'node:crypto';
import type { PoolClient, Principal } from '@orchestra/lib';
import { startRunsIn, type StartRunInput } from '../engine/run-starts';
import type { EnqueueRequest } from '../engine/effects';
import { laneBacklogs } from '../store/fair-share';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { fairRank } from './fair-share';
import { setOrgQuotas } from './operator-commands';

/**
 * The fair rank of a queued attempt (fair-share.ts) is its organization's attempts already waiting in
 * the pool at its priority or above. It is read from the outbox's lane counts (migration 038), kept by
 * the outbox's triggers, instead of counting the outbox: (1) a start reads as many rows with 2,000
 * waiting as with 10 (the count read every waiting attempt, and every dead index entry claims left);
 * (2) the counts are the count they replace, in every snapshot, through starts, claims, retries,
 * cancels, priorities, weights and two start transactions of one organization open at once (which
 * do not wait for each other). Rows read are counted (pg_stat_xact_user_tables of this suite's
 * schema, as fair-share-cost.test.ts does), not timed.
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
const CANCEL_RUNS = `mutation($ids: [ID!]!) { cancelRuns(ids: $ids, reason: "test") { __typename } }`;

async function orgWithWorkflow(pool: string, step: Record<string, unknown> = {}): Promise<{ principal: Principal; workflowId: string }> {
  const principal = userPrincipal(randomUUID(), 'admin');
  await t.grantPool(principal.orgId as string, pool);
  const res = await t.graphql<{ createWorkflow: { id: string } }>(principal, CREATE, { i: { name: 'work', steps: [{ id: 'work', capability: 'sleep', pool, input: { ms: 20 }, ...step }] } });
  expect(res.errors).toBeUndefined();
  return { principal, workflowId: res.data!.createWorkflow.id };
}

async function startRuns(principal: Principal, inputs: readonly StartRunInput[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < inputs.length; i += 100) {
    const res = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(principal, START_RUNS, { i: inputs.slice(i, i + 100) });
    expect(res.errors).toBeUndefined();
    ids.push(...res.data!.startRuns.runs.map((r) => r.run.id));
  }
  return ids;
}

/** Rows read so far by tx's transaction in this suite's schema: in all its tables, and in the queue outbox and its lane counts. */
async function rowsRead(tx: PoolClient): Promise<{ all: number; queue: number }> {
  const { rows } = await tx.query<{ all: string; queue: string }>(
    `SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::text AS all,
            coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)) FILTER (WHERE relname IN ('dispatch_outbox', 'dispatch_lane_counts')), 0)::text AS queue
       FROM pg_stat_xact_user_tables WHERE schemaname = $1`,
    [t.schema],
  );
  return { all: Number(rows[0]!.all), queue: Number(rows[0]!.queue) };
}

/** The count the lane counts replace (what store/run-starts.ts and laneBacklogs counted before), in tx's snapshot. */
async function outboxCount(tx: PoolClient, lane: { orgId: string; pool: string; priority: number }, excluding: readonly string[] = []): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dispatch_outbox o WHERE o.org_id = $1 AND o.pool = $2 AND o.priority >= $3 AND NOT (o.attempt_id = ANY($4::uuid[]))`,
    [lane.orgId, lane.pool, lane.priority, excluding],
  );
  return rows[0]!.n;
}

/** Lanes whose counts differ from the outbox in tx's snapshot (none: they agree). */
async function lanesOff(tx: PoolClient | TestOrchestration['pool']): Promise<unknown[]> {
  const { rows } = await tx.query(
    `SELECT org_id, pool, priority, coalesce(o.n, 0) AS outbox, coalesce(c.n, 0) AS counted
       FROM (SELECT org_id, pool, priority, count(*)::int AS n FROM dispatch_outbox GROUP BY 1, 2, 3) o
       FULL JOIN (SELECT org_id, pool, priority, sum(waiting)::int AS n FROM dispatch_lane_counts GROUP BY 1, 2, 3) c USING (org_id, pool, priority)
      WHERE coalesce(o.n, 0) <> coalesce(c.n, 0)`,
  );
  return rows;
}

/** Starts `inputs` in one transaction of `principal`'s organization as startRuns does, reading what `inside` wants before the commit. */
async function startIn<T>(principal: Principal, inputs: readonly StartRunInput[], inside: (tx: PoolClient, enqueued: readonly EnqueueRequest[], read: { all: number; queue: number }) => Promise<T>): Promise<T> {
  const { result, effects } = await t.service.engine.changeCommitted(principal, async (ctx) => {
    const before = await rowsRead(ctx.tx);
    const outcomes = await startRunsIn(ctx, t.service.engine, principal, inputs);
    const after = await rowsRead(ctx.tx);
    const read = { all: after.all - before.all, queue: after.queue - before.queue };
    expect(outcomes.every((o) => o.ok)).toBe(true);
    return inside(ctx.tx, ctx.effects.enqueue, read);
  });
  await effects;
  return result;
}

describe('the fair rank of a start', () => {
  it('reads as many rows with 2,000 of its organization waiting as with 10 (and with a queuedTasks quota)', async () => {
    // A pool no worker serves: what is started stays waiting.
    const pool = 'fair-rank-cost';
    const small = await orgWithWorkflow(pool);
    const big = await orgWithWorkflow(pool);
    await startRuns(small.principal, Array.from({ length: 10 }, () => ({ workflowId: small.workflowId })));
    await startRuns(big.principal, Array.from({ length: 2_000 }, () => ({ workflowId: big.workflowId })));
    const readByStart = async ({ principal, workflowId }: { principal: Principal; workflowId: string }) =>
      startIn(principal, [{ workflowId }, { workflowId, priority: 5 }], async (tx, enqueued, read) => ({ read, ranks: enqueued.map((e) => e.rank), waiting: await outboxCount(tx, { orgId: principal.orgId as string, pool, priority: 1 }) }));
    const smallStart = await readByStart(small);
    const bigStart = await readByStart(big);
    // The ranks are still the backlog's: 10 then 0 (priority 5 goes before the 10 of priority 3), 2,000 then 0.
    expect([smallStart.ranks, bigStart.ranks]).toEqual([
      [10, 0],
      [2_000, 0],
    ]);
    expect([smallStart.waiting, bigStart.waiting]).toEqual([12, 2_002]);
    // Before the lane counts, the big organization's start read ~2,000 rows more (its waiting attempts).
    expect(bigStart.read).toEqual(smallStart.read);

    // An organization with a quota has its usage read at every start (quota-checks.ts), its waiting
    // tasks from the lane counts too. (Its runs of the last minute are read as well, by the
    // runsStartedPerMinute count: the big organization started 2,000 of them just now, so only the
    // queue's tables are compared here.)
    for (const { principal } of [small, big]) await setOrgQuotas(t.pool, t.service.engine.config, principal.orgId as string, { queuedTasks: 1_000_000 }, 'test');
    const smallQuota = await readByStart(small);
    const bigQuota = await readByStart(big);
    expect([smallQuota.ranks, bigQuota.ranks]).toEqual([
      [12, 1],
      [2_002, 1],
    ]);
    expect(bigQuota.read.queue).toBe(smallQuota.read.queue);
    expect(await lanesOff(t.pool)).toEqual([]);
  }, 180_000);

  it('equals the count it replaces through starts, claims, retries, cancels, priorities, weights and concurrent starts', async () => {
    const pool = 'fair-rank-mixed';
    const a = await orgWithWorkflow(pool);
    const b = await orgWithWorkflow(pool);
    // Retries: each attempt outlives its timeout and is queued again (queueAttempts, ranked by assignFairRanks).
    const retrying = await orgWithWorkflow(pool, { input: { ms: 2_000 }, timeoutMs: 50, retry: { maxAttempts: 3, initialDelayMs: 0 } });
    await setOrgQuotas(t.pool, t.service.engine.config, a.principal.orgId as string, { weight: 2 }, 'test');
    const mixed = (workflowId: string, n: number): StartRunInput[] => Array.from({ length: n }, (_, i) => ({ workflowId, priority: 1 + (i % 5) }));
    const aRuns = await startRuns(a.principal, mixed(a.workflowId, 60));
    await startRuns(b.principal, mixed(b.workflowId, 20));
    await startRuns(retrying.principal, mixed(retrying.workflowId, 6));
    expect(await lanesOff(t.pool)).toEqual([]);

    // Claims (and results, and retries) while a worker of 3 slots runs for a while.
    const worker = await t.startWorker({ WORKER_POOL: pool, WORKER_SLOTS: '3' });
    const claimed = async () => (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempts a JOIN tasks k ON k.id = a.task_id WHERE k.pool = $1 AND a.started_at IS NOT NULL`, [pool])).rows[0]!.n;
    const retried = async () => (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempts WHERE org_id = $1 AND attempt > 1`, [retrying.principal.orgId])).rows[0]!.n;
    // How many is not the point (a loaded CI machine claims slowly): some claims and a retry went through the triggers.
    const deadline = Date.now() + 150_000;
    while (((await claimed()) < 10 || (await retried()) === 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await worker.stop();
    expect(await claimed()).toBeGreaterThanOrEqual(10);
    expect(await retried()).toBeGreaterThan(0);
    expect(await lanesOff(t.pool)).toEqual([]);

    // Cancels: what of A still waits leaves the outbox.
    const cancelled = await t.graphql(a.principal, CANCEL_RUNS, { ids: aRuns.slice(40, 55) });
    expect(cancelled.errors).toBeUndefined();
    expect(await lanesOff(t.pool)).toEqual([]);

    // laneBacklogs (a re-queue's ranks) leaves out the attempts being queued, whatever their lane.
    await t.service.engine.inSystem(async (tx) => {
      const { rows } = await tx.query<{ attempt_id: string }>(`SELECT attempt_id FROM dispatch_outbox WHERE pool = $1 ORDER BY attempt_id LIMIT 12`, [pool]);
      const excluding = rows.map((r) => r.attempt_id);
      const lanes = [a, b, retrying].flatMap(({ principal }) => [1, 2, 3, 4, 5].map((priority) => ({ orgId: principal.orgId as string, pool, priority })));
      const backlogs = await laneBacklogs(tx, lanes, excluding);
      for (const lane of lanes) expect([lane.priority, backlogs.get(`${lane.orgId}:${pool}:${lane.priority}`)?.waiting]).toEqual([lane.priority, await outboxCount(tx, lane, excluding)]);
    });

    // Two start transactions of A open at once, in the same lanes: neither waits for the other's
    // lane rows, each ranks from what it sees (the other's rows are not committed), as counting did.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let firstWrote!: () => void;
    const wrote = new Promise<void>((resolve) => (firstWrote = resolve));
    const ranksAsCounted = async (tx: PoolClient, enqueued: readonly EnqueueRequest[]) => {
      const expected: number[] = [];
      const placed: number[] = [];
      for (const e of enqueued) {
        const priority = e.priority ?? 3;
        // The outbox now holds this transaction's own attempts: leave them out, then add those placed before this one.
        const before = await outboxCount(tx, { orgId: e.orgId, pool, priority }, enqueued.map((x) => x.attemptId));
        expected.push(fairRank(before + placed.filter((p) => p >= priority).length, 2));
        placed.push(priority);
      }
      expect(enqueued.map((e) => e.rank)).toEqual(expected);
      expect(await lanesOff(tx)).toEqual([]);
      return enqueued.length;
    };
    const first = startIn(a.principal, mixed(a.workflowId, 7), async (tx, enqueued) => {
      const n = await ranksAsCounted(tx, enqueued);
      firstWrote();
      await released;
      return n;
    });
    await wrote;
    const second = startIn(a.principal, mixed(a.workflowId, 9), async (tx, enqueued) => ranksAsCounted(tx, enqueued));
    // Had the second waited for the first's lane rows, it would never finish while the first is held open.
    let timer: NodeJS.Timeout | undefined;
    const secondDone = await Promise.race([second.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 20_000)))]);
    clearTimeout(timer);
    release();
    expect(secondDone).toBe(true);
    expect([await first, await second]).toEqual([7, 9]);
    expect(await lanesOff(t.pool)).toEqual([]);
    // Each held rows of A's lanes at the same time: at least two rows in a lane.
    const { rows } = await t.pool.query<{ most: number }>(`SELECT max(n)::int AS most FROM (SELECT count(*) AS n FROM dispatch_lane_counts WHERE org_id = $1 GROUP BY pool, priority) l`, [a.principal.orgId]);
    expect(rows[0]!.most).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
