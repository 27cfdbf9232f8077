import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { eventually } from '@orchestra/lib';
import { queueNameOf } from './engine/task-queues';
import { refreshPriorityReasons } from './flow-control/priority-waits';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * The PRIORITY wait reason and TASK_WAITING run events (issue 10), with real workers over gRPC.
 * Nothing here waits on the clock: each step is driven (a run cancelled, a job promoted, a reconcile or
 * wait-event pass nudged) and then waited for until it shows.
 */

let t: TestOrchestration;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;
const START_RUNS = `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`;
const EVENTS = `query($id: ID!) { run(id: $id) { events(first: 100) { seq kind taskStatus message waitReason { kind message since details } } } }`;

interface WaitReasonView {
  kind: string;
  message: string;
  since: string;
  details: Record<string, unknown> | null;
}
interface EventView {
  seq: number;
  kind: string;
  taskStatus: string | null;
  message: string | null;
  waitReason: WaitReasonView | null;
}

beforeAll(async () => {
  t = await startTestOrchestration();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function createWorkflow(steps: unknown[]): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name: `wf-${randomUUID().slice(0, 8)}`, steps } });
  expect(res.errors).toBeUndefined();
  return res.data!.createWorkflow.id;
}

async function start(workflowId: string, n: number, priority?: number): Promise<string[]> {
  const res = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(admin, START_RUNS, { i: Array.from({ length: n }, () => ({ workflowId, ...(priority === undefined ? {} : { priority }) })) });
  expect(res.errors).toBeUndefined();
  return res.data!.startRuns.runs.map((r) => r.run.id);
}

const taskOf = async (runId: string) =>
  (await t.pool.query<{ id: string; status: string; wait_reason: WaitReasonView | null; current_attempt_id: string }>('SELECT id, status, wait_reason, current_attempt_id FROM tasks WHERE run_id = $1', [runId])).rows[0]!;

const statusOf = async (runId: string): Promise<string> => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]!.status;

const eventsOf = async (runId: string): Promise<EventView[]> => {
  const res = await t.graphql<{ run: { events: EventView[] } }>(admin, EVENTS, { id: runId });
  expect(res.errors ?? []).toEqual([]);
  return res.data!.run.events;
};

async function cancel(runId: string): Promise<void> {
  expect((await t.graphql(admin, `mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: runId })).errors).toBeUndefined();
}

/** One reconcile pass (PRIORITY and FAIR_SHARE) and one wait-event pass, as the background loops run them. */
async function passes(): Promise<void> {
  await t.service.reconciler.reconcileOnce();
  await t.service.waitEvents.recordOnce();
}

const untilRunning = (runId: string) => eventually(async () => ((await statusOf(runId)) === 'RUNNING' ? true : undefined), { timeoutMs: 30_000, what: `run ${runId} to take the slot` });

describe('PRIORITY wait reason', () => {
  it('says PRIORITY, naming what goes first, on a waiting priority-1 task while priority-5 work is queued ahead of it; clears once it starts', async () => {
    const pool = 'priority-waits';
    await t.grantPool(orgId, pool);
    await t.startWorker({ WORKER_SLOTS: '1', WORKER_POOL: pool });
    // Long sleeps: each holds the one slot until the test cancels its run.
    const holding = await createWorkflow([{ id: 'hold', capability: 'sleep', pool, input: { ms: 600_000 } }]);
    const quick = await createWorkflow([{ id: 'quick', capability: 'sleep', pool, input: { ms: 10 } }]);

    const [blocker] = await start(holding, 1, 5);
    await untilRunning(blocker!);
    const [low] = await start(quick, 1, 1);
    const [high1, high2] = await start(holding, 2, 5);

    const reasonWhen = async (check: (reason: WaitReasonView | null) => boolean, what: string) =>
      eventually(
        async () => {
          await passes();
          const task = await taskOf(low!);
          return task.status === 'QUEUED' && check(task.wait_reason) ? (task.wait_reason ?? ('none' as const)) : undefined;
        },
        { timeoutMs: 30_000, what },
      );

    const first = await reasonWhen((r) => r?.kind === 'PRIORITY', 'PRIORITY on the priority-1 task');
    expect(first).toMatchObject({ kind: 'PRIORITY', details: { pool, priority: 1, tasksAhead: 2, byPriority: { '5': 2 } } });
    expect((first as WaitReasonView).message).toMatch(/^2 tasks of priority 5 go first: .*pool "priority-waits" \(it is priority 1\)$/);

    // The run page shows it (Task.waitReason), and the event log has said it once.
    const view = await t.graphql<{ run: { tasks: Array<{ waitReason: WaitReasonView | null }> } }>(admin, `query($id: ID!) { run(id: $id) { tasks { waitReason { kind message since details } } } }`, { id: low });
    expect(view.data!.run.tasks[0]!.waitReason).toMatchObject({ kind: 'PRIORITY', message: (first as WaitReasonView).message });

    // The starvation bound: had it been queued more than 4 minutes before the priority-5 work, that work
    // would go behind it (aging), and it would not wait for priority. (In a transaction rolled back.)
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE dispatch_outbox SET created_at = created_at - interval '5 minutes' WHERE task_id = $1`, [(await taskOf(low!)).id]);
      await refreshPriorityReasons(client);
      const aged = await client.query<{ wait_reason: WaitReasonView | null }>('SELECT wait_reason FROM tasks WHERE run_id = $1', [low]);
      expect(aged.rows[0]!.wait_reason?.kind).not.toBe('PRIORITY');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }

    // The slot frees up and the next priority-5 task takes it: one goes first now (same kind, no new event).
    await cancel(blocker!);
    await untilRunning(high1!);
    const second = await reasonWhen((r) => r?.kind === 'PRIORITY' && r.details?.['tasksAhead'] === 1, 'PRIORITY with one task ahead');
    expect((second as WaitReasonView).message).toMatch(/^1 task of priority 5 goes first: /);
    expect((second as WaitReasonView).since).toBe((first as WaitReasonView).since);

    // The last priority-5 task takes the slot: nothing of higher priority is queued ahead any more.
    await cancel(high1!);
    await untilRunning(high2!);
    await reasonWhen((r) => r?.kind !== 'PRIORITY', 'PRIORITY taken off');

    // The slot frees up: it starts, and no reason is left.
    await cancel(high2!);
    await eventually(async () => ((await statusOf(low!)) === 'SUCCEEDED' ? true : undefined), { timeoutMs: 30_000, what: 'the priority-1 run to succeed' });
    expect((await taskOf(low!)).wait_reason).toBeNull();

    // Its log: waiting for priority (once, however many passes looked), then no particular reason, then it ran.
    await t.service.waitEvents.recordOnce();
    const events = await eventsOf(low!);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const waiting = events.filter((e) => e.kind === 'TASK_WAITING');
    expect(waiting.filter((e) => e.waitReason?.kind === 'PRIORITY')).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ taskStatus: null, waitReason: { kind: 'PRIORITY', details: { tasksAhead: 2 } } });
    expect(waiting[0]!.message).toBe(waiting[0]!.waitReason!.message);
    const running = events.find((e) => e.kind === 'TASK_STATUS' && e.taskStatus === 'RUNNING')!;
    expect(waiting.every((e) => e.seq < running.seq)).toBe(true);
    // Each event is a change of kind: no two in a row say the same.
    const kinds = waiting.map((e) => e.waitReason?.kind ?? null);
    for (let i = 1; i < kinds.length; i += 1) expect(kinds[i]).not.toBe(kinds[i - 1]);
  }, 180_000);
});

describe('TASK_WAITING run events', () => {
  it("a rate-limited task's events show the waiting event once per change of kind, in seq order, however often the dispatcher looks again", async () => {
    const name = `hourly-${randomUUID().slice(0, 8)}`;
    const created = await t.graphql<{ createRateLimit: { id: string } }>(admin, `mutation($i: CreateRateLimitInput!) { createRateLimit(input: $i) { id } }`, { i: { name, limit: 1, per: 'HOUR' } });
    expect(created.errors).toBeUndefined();
    await t.startWorker({ WORKER_SLOTS: '4' });
    const workflowId = await createWorkflow([{ id: 'call', capability: 'noop', rateLimits: [{ name, units: 1 }] }]);
    const [firstRun] = await start(workflowId, 1);
    await eventually(async () => ((await statusOf(firstRun!)) === 'SUCCEEDED' ? true : undefined), { timeoutMs: 30_000, what: 'the first run (it takes the hour\'s unit)' });
    const [held] = await start(workflowId, 1);

    const waitingEvents = async () => (await eventsOf(held!)).filter((e) => e.kind === 'TASK_WAITING');
    await eventually(
      async () => {
        await t.service.waitEvents.recordOnce();
        return (await waitingEvents()).length > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the TASK_WAITING event of the rate-limited task' },
    );

    // The dispatcher looks at it again and again (its delayed job promoted): each look finds the limit used up.
    const attemptId = (await taskOf(held!)).current_attempt_id;
    const connection = t.redis.duplicate();
    const queue = new Queue(queueNameOf('default'), { connection, prefix: t.prefix });
    try {
      for (let look = 0; look < 3; look += 1) {
        const before = await eventually(
          async () => {
            const job = await queue.getJob(attemptId);
            return job && (await job.isDelayed()) ? job : undefined;
          },
          { timeoutMs: 30_000, what: 'the held job to be delayed' },
        );
        const processedOn = before.processedOn ?? 0;
        await before.promote();
        await eventually(
          async () => {
            const job = await queue.getJob(attemptId);
            return job && (job.processedOn ?? 0) > processedOn && (await job.isDelayed()) ? true : undefined;
          },
          { timeoutMs: 30_000, what: 'the dispatcher to look at the held task again' },
        );
        await t.service.waitEvents.recordOnce();
      }
      expect((await taskOf(held!)).wait_reason?.kind).toBe('RATE_LIMIT');

      // The limit is raised: the next look starts it.
      const limits = await t.graphql<{ rateLimits: Array<{ id: string; name: string }> }>(admin, `{ rateLimits { id name } }`);
      const id = limits.data!.rateLimits.find((l) => l.name === name)!.id;
      expect((await t.graphql(admin, `mutation($id: ID!, $i: UpdateRateLimitInput!) { updateRateLimit(id: $id, input: $i) { id } }`, { id, i: { limit: 10 } })).errors).toBeUndefined();
      const job = await eventually(
        async () => {
          const j = await queue.getJob(attemptId);
          return j && (await j.isDelayed()) ? j : undefined;
        },
        { timeoutMs: 30_000, what: 'the held job to be delayed' },
      );
      await job.promote();
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await eventually(async () => ((await statusOf(held!)) === 'SUCCEEDED' ? true : undefined), { timeoutMs: 30_000, what: 'the held run to succeed' });
    await t.service.waitEvents.recordOnce();

    const events = await eventsOf(held!);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const waiting = events.filter((e) => e.kind === 'TASK_WAITING');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ taskStatus: null, waitReason: { kind: 'RATE_LIMIT', details: { name, limit: 1, period: 'HOUR' } } });
    expect(waiting[0]!.message).toMatch(new RegExp(`^rate limit "${name}": 1 of 1 units per hour used; it needs 1$`));
    const at = (kind: string, status: string | null) => events.findIndex((e) => e.kind === kind && e.taskStatus === status);
    // QUEUED → waiting: rate limit → RUNNING → SUCCEEDED, in that order.
    expect(at('TASK_STATUS', 'QUEUED')).toBeLessThan(at('TASK_WAITING', null));
    expect(at('TASK_WAITING', null)).toBeLessThan(at('TASK_STATUS', 'RUNNING'));
    expect(at('TASK_STATUS', 'RUNNING')).toBeLessThan(at('TASK_STATUS', 'SUCCEEDED'));
  }, 180_000);

  it("another organization cannot read a run's waiting events", async () => {
    const other = userPrincipal(randomUUID(), 'admin');
    const [runId] = (await t.pool.query<{ run_id: string }>(`SELECT run_id FROM run_events WHERE org_id = $1 AND kind = 'TASK_WAITING' LIMIT 1`, [orgId])).rows.map((r) => r.run_id);
    expect(runId).toBeDefined();
    const res = await t.graphql<{ run: unknown }>(other, EVENTS, { id: runId });
    expect(res.data?.run ?? null).toBeNull();
  });
});
