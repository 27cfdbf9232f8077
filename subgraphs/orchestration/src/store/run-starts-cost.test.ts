import { newId, withSystemTransaction, type PoolClient } from '@orchestra/lib';
import { BUILTIN_CAPABILITIES, validateSteps } from '../domain/workflow-definition';
import { createDispatchSchema, testRunRow, type DispatchSchema } from '../testing/dispatch-schema';
import { insertRunStarts, type RunStart } from './run-starts';

/**
 * What starting runs costs PostgreSQL (issue 11): the fair rank insertRunStarts gives each queued
 * attempt counts its organization's waiting attempts in the pool (the lane's backlog) once per lane
 * and statement, not once per run started. Counted, not timed: the entries this transaction read from
 * the outbox's (org_id, pool, priority) index (pg_stat_get_xact_tuples_returned), with a backlog of 300 and
 * 40 runs started in one statement. Before, the backlog was counted again for each of the 40 runs
 * (12,000 entries and as many heap visits).
 */

let t: DispatchSchema;

beforeAll(async () => {
  t = await createDispatchSchema('orch_start_cost', 'orchestration-run-starts-cost-test');
});

afterAll(async () => {
  await t?.drop();
});

const [step] = validateSteps([{ id: 'a', capability: 'noop' }], new Set(BUILTIN_CAPABILITIES));

/** `n` one-step runs of the schema's organization, their task queued at priority 3 in pool "default". */
function oneStepStarts(n: number): RunStart[] {
  return Array.from({ length: n }, () => {
    const runId = newId();
    const taskId = newId();
    return {
      run: testRunRow(runId, t.orgId, t.workflowId),
      tasks: [{ id: taskId, step: step!, priority: 3, concurrencyKey: null, concurrency: null }],
      attempts: [{ id: newId(), orgId: t.orgId, runId, taskId, attempt: 1, pool: 'default', availableAt: new Date(), waitReason: null }],
      events: [],
    };
  });
}

/** Index entries this transaction read from the outbox's lane index so far (reported at the end of each statement). */
async function laneEntriesRead(tx: PoolClient): Promise<number> {
  const { rows } = await tx.query<{ n: string }>(`SELECT pg_stat_get_xact_tuples_returned('dispatch_outbox_org_pool'::regclass)::text AS n`);
  return Number(rows[0]!.n);
}

describe('insertRunStarts: the fair rank', () => {
  it('counts the backlog of a lane once per statement, however many runs it starts', async () => {
    await withSystemTransaction(t.pool, (tx) => insertRunStarts(tx, oneStepStarts(300), []));
    const starts = oneStepStarts(40);
    const { read, ranks } = await withSystemTransaction(t.pool, async (tx) => {
      const before = await laneEntriesRead(tx);
      const written = await insertRunStarts(tx, starts, []);
      return { read: (await laneEntriesRead(tx)) - before, ranks: written.fairRanks };
    });
    // The 300 waiting, each read once (the old statement read them once per run: 12,000).
    expect(read).toBeGreaterThanOrEqual(300);
    expect(read).toBeLessThan(2 * 300);
    // Ranks as before: the backlog, then this statement's earlier attempts of the lane, in order.
    expect(starts.map((s) => ranks.get(s.attempts[0]!.id))).toEqual(starts.map((_, i) => 300 + i));
    const stored = await t.pool.query<{ attempt_id: string; fair_rank: number }>(`SELECT attempt_id, fair_rank FROM dispatch_outbox WHERE attempt_id = ANY($1::uuid[])`, [
      starts.map((s) => s.attempts[0]!.id),
    ]);
    expect(new Map(stored.rows.map((r) => [r.attempt_id, r.fair_rank]))).toEqual(ranks);
  });
});
