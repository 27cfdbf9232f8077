import { randomUUID } from 'node:crypto';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { poolSlotUsage, prunePoolSlotUsage, samplePoolSlots, SLOT_USAGE_RETENTION_DAYS } from './slot-usage';

// The worker side of the metrics (issue 12) on the real service and PostgreSQL: runMetrics of the runs
// that ran on a worker (only the asking organization's), and slot usage per pool sampled from the
// dispatcher's slot rows. Workers, slots, runs and attempts are written straight into the tables as
// the registry and the dispatcher would have left them.

let t: TestOrchestration;
const orgA = randomUUID();
const orgB = randomUUID();
const viewerA = userPrincipal(orgA, 'viewer');
const viewerB = userPrincipal(orgB, 'viewer');
const DAY = 86_400_000;
/** A UTC midnight three days from now: every seeded time is before it. */
const END = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY);
const at = (daysBeforeEnd: number, plusMs = 0) => new Date(END.getTime() - daysBeforeEnd * DAY + plusMs);
const q = (table: string) => `"${t.schema}".${table}`;

async function gql<T>(principal: typeof viewerA, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.graphql<T>(principal, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!;
}

async function workflowOf(org: string): Promise<string> {
  const id = randomUUID();
  await t.pool.query(`INSERT INTO ${q('workflows')} (id, org_id, name, created_by) VALUES ($1, $2, $3, 'seed')`, [id, org, `w-${id}`]);
  return id;
}

/** A run created at `created` with one task whose one attempt ran on `workerId` (RUNNING: still holding a slot). */
async function runOn(org: string, workflow: string, workerId: string, created: Date, status: 'SUCCEEDED' | 'FAILED' | 'RUNNING'): Promise<{ runId: string; attemptId: string }> {
  const runId = randomUUID();
  const taskId = randomUUID();
  const attemptId = randomUUID();
  const finished = status === 'RUNNING' ? null : new Date(created.getTime() + 2_000);
  await t.pool.query(
    `INSERT INTO ${q('runs')} (id, org_id, workflow_id, workflow_version, status, input, started_by_kind, started_by_id, created_at, started_at, finished_at)
     VALUES ($1, $2, $3, 1, $4, '{}', 'user', 'seed', $5, $5::timestamptz + interval '1 second', $6)`,
    [runId, org, workflow, status, created, finished],
  );
  await t.pool.query(
    `INSERT INTO ${q('tasks')} (id, org_id, run_id, step_id, position, capability, status, depends_on, pool, timeout_ms, retry, max_attempts, attempts)
     VALUES ($1, $2, $3, 'a', 0, 'noop', $4, '{}', 'gpu', 60000, '{}', 1, 1)`,
    [taskId, org, runId, status],
  );
  await t.pool.query(
    // A RUNNING attempt belongs to this service's live dispatcher (the reconciler leaves it be).
    `INSERT INTO ${q('task_attempts')} (id, org_id, run_id, task_id, attempt, status, worker_id, dispatcher_id, queued_at, available_at, started_at, finished_at)
     VALUES ($1, $2, $3, $4, 1, $5, $6, $9, $7, $7, $7::timestamptz + interval '1 second', $8)`,
    [attemptId, org, runId, taskId, status, workerId, created, finished, status === 'RUNNING' ? t.service.dispatcherId : null],
  );
  return { runId, attemptId };
}

async function worker(id: string, pool: string, slots: number, status: 'ONLINE' | 'LOST' = 'ONLINE'): Promise<void> {
  await t.pool.query(
    `INSERT INTO ${q('workers')} (id, endpoint, pool, capabilities, slots_total, slots_free, status, lease_expires_at) VALUES ($1, '127.0.0.1:1', $2, '{noop}', $3, $3, $4, now() + interval '1 hour')`,
    [id, pool, slots, status],
  );
  await t.pool.query(`INSERT INTO ${q('worker_slots')} (worker_id, slot) SELECT $1, g FROM generate_series(0, $2::int - 1) AS g`, [id, slots]);
}

const holdSlot = (workerId: string, slot: number, attemptId: string | null) => t.pool.query(`UPDATE ${q('worker_slots')} SET attempt_id = $3 WHERE worker_id = $1 AND slot = $2`, [workerId, slot, attemptId]);

beforeAll(async () => {
  t = await startTestOrchestration();
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const RUN_METRICS = `query($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workerId: ID) {
  runMetrics(from: $from, to: $to, bucket: $bucket, workerId: $workerId) { totals { total succeeded failed running } buckets { counts { total } } }
}`;
type Totals = { runMetrics: { totals: { total: number; succeeded: number; failed: number; running: number }; buckets: Array<{ counts: { total: number } }> } };

describe('runMetrics of a worker', () => {
  it('counts the runs that had an attempt on the worker, only the asking organization’s, in the range', async () => {
    const [wa, wb] = [await workflowOf(orgA), await workflowOf(orgB)];
    await runOn(orgA, wa, 'metrics-w1', at(5), 'SUCCEEDED');
    await runOn(orgA, wa, 'metrics-w1', at(2), 'FAILED');
    await runOn(orgA, wa, 'metrics-w2', at(2), 'SUCCEEDED');
    await runOn(orgB, wb, 'metrics-w1', at(2), 'FAILED');
    await runOn(orgB, wb, 'metrics-w1', at(1), 'FAILED');
    const range = { from: at(7).toISOString(), to: END.toISOString(), bucket: 'DAY' };
    const mine = await gql<Totals>(viewerA, RUN_METRICS, { ...range, workerId: 'metrics-w1' });
    expect(mine.runMetrics.totals).toEqual({ total: 2, succeeded: 1, failed: 1, running: 0 });
    expect(mine.runMetrics.buckets.map((b) => b.counts.total)).toEqual([0, 0, 1, 0, 0, 1, 0]);
    // Org B sees its own two on the same worker, never org A's.
    expect((await gql<Totals>(viewerB, RUN_METRICS, { ...range, workerId: 'metrics-w1' })).runMetrics.totals).toEqual({ total: 2, succeeded: 0, failed: 2, running: 0 });
    // A range that starts after the first run leaves it out.
    expect((await gql<Totals>(viewerA, RUN_METRICS, { ...range, from: at(3).toISOString(), workerId: 'metrics-w1' })).runMetrics.totals.total).toBe(1);
    expect((await gql<Totals>(viewerA, RUN_METRICS, { ...range, workerId: 'no-such-worker' })).runMetrics.totals.total).toBe(0);
  });

  it('refuses an empty or over-long worker id, naming the field', async () => {
    for (const workerId of ['', 'x'.repeat(201)]) {
      const res = await t.graphql(viewerA, RUN_METRICS, { from: at(2).toISOString(), to: END.toISOString(), bucket: 'DAY', workerId });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'workerId' });
    }
  });
});

const SLOT_USAGE = `query($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $pool: String) {
  poolSlotUsage(from: $from, to: $to, bucket: $bucket, pool: $pool) { bucket pools { pool points { start busySlots peakBusySlots totalSlots utilization } } }
}`;
interface SlotUsage {
  poolSlotUsage: { bucket: string; pools: Array<{ pool: string; points: Array<{ start: string; busySlots: number | null; peakBusySlots: number | null; totalSlots: number | null; utilization: number | null }> }> };
}

describe('slot usage per pool', () => {
  // Sampled minutes one day before END (within the retention, and before any minute the service's own sampler writes).
  const minute = (m: number, s = 0) => at(1, m * 60_000 + s * 1_000);

  it('samples busy and total slots of each pool’s ONLINE workers from the slot rows, the busier sample of a minute winning', async () => {
    const wf = await workflowOf(orgA);
    await worker('slots-gpu-1', 'slots-gpu', 4);
    await worker('slots-gpu-2', 'slots-gpu', 2);
    await worker('slots-cpu-1', 'slots-cpu', 8);
    await worker('slots-gpu-lost', 'slots-gpu', 16, 'LOST');
    const running = await Promise.all([0, 1, 2].map(() => runOn(orgA, wf, 'slots-gpu-1', at(1), 'RUNNING')));
    await holdSlot('slots-gpu-1', 0, running[0]!.attemptId);
    await holdSlot('slots-gpu-1', 1, running[1]!.attemptId);
    await holdSlot('slots-gpu-2', 0, running[2]!.attemptId);
    expect(await samplePoolSlots(t.pool, minute(0, 10))).toBeGreaterThanOrEqual(2);
    // Later in the same minute one attempt has finished: the minute keeps the busier sample.
    await holdSlot('slots-gpu-2', 0, null);
    await samplePoolSlots(t.pool, minute(0, 40));
    await samplePoolSlots(t.pool, minute(1));
    await samplePoolSlots(t.pool, minute(2));
    const { rows } = await t.pool.query<{ at: Date; pool: string; busy_slots: number; total_slots: number; workers: number }>(
      `SELECT at, pool, busy_slots, total_slots, workers FROM ${q('pool_slot_usage')} WHERE pool LIKE 'slots-%' ORDER BY at, pool`,
    );
    expect(rows.map((r) => [r.at.getTime() - minute(0).getTime(), r.pool, r.busy_slots, r.total_slots, r.workers])).toEqual([
      [0, 'slots-cpu', 0, 8, 1],
      [0, 'slots-gpu', 3, 6, 2],
      [60_000, 'slots-cpu', 0, 8, 1],
      [60_000, 'slots-gpu', 2, 6, 2],
      [120_000, 'slots-cpu', 0, 8, 1],
      [120_000, 'slots-gpu', 2, 6, 2],
    ]);
  });

  it('answers every bucket of the range per pool, busiest first, the same for every organization (the fleet is shared)', async () => {
    const range = { from: minute(-5).toISOString(), to: minute(10).toISOString(), bucket: 'FIVE_MINUTES' };
    const a = (await gql<SlotUsage>(viewerA, SLOT_USAGE, range)).poolSlotUsage;
    const ours = a.pools.filter((p) => p.pool.startsWith('slots-'));
    expect(ours.map((p) => p.pool)).toEqual(['slots-gpu', 'slots-cpu']);
    expect(ours[0]!.points).toEqual([
      { start: minute(-5).toISOString(), busySlots: null, peakBusySlots: null, totalSlots: null, utilization: null },
      { start: minute(0).toISOString(), busySlots: 2.33, peakBusySlots: 3, totalSlots: 6, utilization: 0.3889 },
      { start: minute(5).toISOString(), busySlots: null, peakBusySlots: null, totalSlots: null, utilization: null },
    ]);
    expect((await gql<SlotUsage>(viewerB, SLOT_USAGE, range)).poolSlotUsage).toEqual(a);
    const one = (await gql<SlotUsage>(viewerA, SLOT_USAGE, { ...range, pool: 'slots-cpu' })).poolSlotUsage;
    expect(one.pools.map((p) => [p.pool, p.points[1]?.utilization])).toEqual([['slots-cpu', 0]]);
  });

  it('keeps samples for the retention only, and refuses bad input naming the field', async () => {
    await t.pool.query(`INSERT INTO ${q('pool_slot_usage')} (at, pool, busy_slots, total_slots, workers) VALUES (now() - interval '40 days', 'slots-old', 1, 1, 1)`);
    expect(await prunePoolSlotUsage(t.pool, SLOT_USAGE_RETENTION_DAYS)).toBe(1);
    expect(await poolSlotUsage(t.pool, { from: minute(0), to: minute(1), bucket: 'FIVE_MINUTES', pool: 'slots-old' })).toEqual([]);
    for (const [vars, field, reason] of [
      [{ from: minute(0).toISOString(), to: minute(10).toISOString(), bucket: 'HOUR', pool: '' }, 'pool', 'INVALID_NAME'],
      [{ from: new Date(Date.now() - 60 * DAY).toISOString(), to: new Date().toISOString(), bucket: 'DAY' }, 'from', 'RANGE_TOO_OLD'],
      [{ from: minute(10).toISOString(), to: minute(0).toISOString(), bucket: 'HOUR' }, 'to', 'INVALID_RANGE'],
    ] as const) {
      const res = await t.graphql(viewerA, SLOT_USAGE, vars);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
  });
});
