import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withSystemTransaction, type PoolClient, type RunEvent } from '@orchestra/lib';
import { migrationsDir } from '../schema';
import { createDispatchSchema, slotNeeds, type DispatchSchema } from '../testing/dispatch-schema';
import { endAttempts } from './attempts';
import { lockFreeSlots, lockRuns, startAttemptsOnSlots, type SlotNeeds } from './dispatch';
import { appendRunEvents, listRunEvents } from './events';

/**
 * The dispatch path's statements against a schema of their own (no service running on it), with
 * real concurrent transactions: worker slots are never given out twice, event seqs stay gap-free,
 * and a success applies once.
 */

let t: DispatchSchema;

const needs = (workerIds: string[] = []): SlotNeeds => slotNeeds('noop', workerIds);

/** Starts attempts on the free slots it locks, the i-th attempt on the i-th slot (what the default placement does); resolves to attempt id → worker id. */
async function startAttemptsOnFreeSlots(tx: PoolClient, wanted: SlotNeeds, attempts: Array<{ runId: string; attemptId: string; taskId: string; input: unknown }>, dispatcherId: string) {
  const slots = await lockFreeSlots(tx, wanted, attempts.length);
  const placed = attempts.flatMap((a, i) => (slots[i] ? [{ ...a, workerId: slots[i].workerId, slot: slots[i].slot }] : []));
  await startAttemptsOnSlots(tx, placed, dispatcherId);
  return { workers: new Map(placed.map((p) => [p.attemptId, { id: p.workerId }])) };
}

/** Claims one attempt in a transaction of its own, which stays open until `release` resolves. */
async function claimAndHold(run: { runId: string; taskId: string; attemptId: string }, claimed: (worker: string | undefined) => void, release: Promise<void>): Promise<void> {
  await withSystemTransaction(t.pool, async (tx) => {
    await lockRuns(tx, [run.runId]);
    const started = await startAttemptsOnFreeSlots(tx, needs(), [{ runId: run.runId, attemptId: run.attemptId, taskId: run.taskId, input: {} }], 'dispatcher-test');
    claimed(started.workers.get(run.attemptId)?.id);
    await release;
  });
}

beforeAll(async () => {
  t = await createDispatchSchema('orch_dispatch', 'orchestration-dispatch-test');
});

afterAll(async () => {
  await t?.drop();
});

describe('worker slots', () => {
  it('are given out once each when claims race: of eight concurrent claims on three slots, three start', async () => {
    await t.registerWorker('w-race', 3);
    const runs = await Promise.all(Array.from({ length: 8 }, () => t.startRunOf([{ id: 'a' }])));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const answers: Array<string | undefined> = [];
    let allAnswered = () => {};
    const answered = new Promise<void>((resolve) => (allAnswered = resolve));
    const claims = runs.map(({ runId, tasks }) => {
      const { taskId, attemptId } = tasks.get('a')!;
      const onAnswer = (worker: string | undefined) => {
        answers.push(worker);
        if (answers.length === runs.length) allAnswered();
      };
      return claimAndHold({ runId, taskId, attemptId: attemptId! }, onAnswer, released);
    });
    // Every claim answers while those that took a slot still hold it open: the others skipped those rows.
    await answered;
    release();
    await Promise.all(claims);
    expect(answers.filter((w) => w === 'w-race')).toHaveLength(3);
    expect(answers.filter((w) => w === undefined)).toHaveLength(5);
    const busy = await t.busySlots('w-race');
    expect(busy.map((b) => b.slot)).toEqual([0, 1, 2]);
    const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempts WHERE worker_id = 'w-race' AND status = 'RUNNING'`);
    expect(rows[0]!.n).toBe(3);
    expect(new Set(busy.map((b) => b.attempt_id)).size).toBe(3);
  });

  it('come back when an attempt ends, and a worker that registers again with fewer slots is never given more', async () => {
    await t.registerWorker('w-shrink', 3);
    const runs = await Promise.all(Array.from({ length: 5 }, () => t.startRunOf([{ id: 'a' }])));
    const claim = (i: number) =>
      withSystemTransaction(t.pool, async (tx) => {
        const { runId, tasks } = runs[i]!;
        const { taskId, attemptId } = tasks.get('a')!;
        await lockRuns(tx, [runId]);
        const started = await startAttemptsOnFreeSlots(tx, needs(['w-race']), [{ runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test');
        return started.workers.get(attemptId!)?.id;
      });
    expect([await claim(0), await claim(1), await claim(2), await claim(3)]).toEqual(['w-shrink', 'w-shrink', 'w-shrink', undefined]);

    // The worker comes back with one slot while three attempts run on it.
    await t.registerWorker('w-shrink', 1);
    const busy = await t.busySlots('w-shrink');
    expect(busy).toHaveLength(3);
    const onSlot = (slot: number) => busy.find((b) => b.slot === slot)!.attempt_id;
    await withSystemTransaction(t.pool, (tx) => endAttempts(tx, [onSlot(2)], ['RUNNING'], 'SUCCEEDED', null));
    expect(await claim(3)).toBeUndefined(); // slot 2 is free but beyond the one slot it offers now
    await withSystemTransaction(t.pool, (tx) => endAttempts(tx, [onSlot(1)], ['RUNNING'], 'SUCCEEDED', null));
    expect(await claim(3)).toBeUndefined(); // slot 0 still runs an attempt
    await withSystemTransaction(t.pool, (tx) => endAttempts(tx, [onSlot(0)], ['RUNNING'], 'LOST', { code: 'WORKER_LOST', message: 'gone' }));
    expect(await claim(3)).toBe('w-shrink');
    expect(await claim(4)).toBeUndefined();
    await t.registerWorker('w-shrink', 1);
    const { rows } = await t.pool.query<{ slot: number }>(`SELECT slot FROM worker_slots WHERE worker_id = 'w-shrink' ORDER BY slot`);
    expect(rows.map((r) => r.slot)).toEqual([0]);
  });

  it('are filled from the RUNNING attempts of workers registered before the slot migration', async () => {
    await t.registerWorker('w-old', 2);
    const run = await t.startRunOf([{ id: 'a' }]);
    const { taskId, attemptId } = run.tasks.get('a')!;
    await withSystemTransaction(t.pool, async (tx) => {
      await lockRuns(tx, [run.runId]);
      await startAttemptsOnFreeSlots(tx, needs(['w-race', 'w-shrink']), [{ runId: run.runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test');
    });
    const before = await t.pool.query('SELECT worker_id, slot, attempt_id FROM worker_slots ORDER BY worker_id, slot');
    // Run the migration's backfill again over empty slot rows: it rebuilds what the claims made.
    const backfill = readFileSync(join(migrationsDir, '002.do.worker-slots.sql'), 'utf8')
      .split(';')
      .filter((statement) => /^\s*(--.*\n\s*)*INSERT/.test(statement));
    expect(backfill).toHaveLength(2);
    await withSystemTransaction(t.pool, async (tx) => {
      await tx.query('DELETE FROM worker_slots');
      for (const statement of backfill) await tx.query(statement);
    });
    const after = await t.pool.query('SELECT worker_id, slot, attempt_id FROM worker_slots ORDER BY worker_id, slot');
    const busyOf = (rows: Array<{ worker_id: string; attempt_id: string | null }>) => rows.filter((r) => r.attempt_id !== null).map((r) => [r.worker_id, r.attempt_id]).sort();
    expect(busyOf(after.rows)).toEqual(busyOf(before.rows));
    expect(after.rows.filter((r: { worker_id: string }) => r.worker_id === 'w-old')).toHaveLength(2);
  });
});

describe('run events', () => {
  it('take gap-free seqs in commit order when many transactions record events of one run at once', async () => {
    const run = await t.startRunOf([{ id: 'a' }]);
    const event = (tag: string, i: number): Omit<RunEvent, 'seq'> => ({
      runId: run.runId,
      orgId: t.orgId,
      workflowId: t.workflowId,
      kind: 'TASK_LOG',
      at: new Date().toISOString(),
      runStatus: null,
      taskId: null,
      stepId: null,
      taskStatus: null,
      attemptId: null,
      attempt: null,
      progress: null,
      message: `${tag}-${i}`,
      level: 'INFO',
      error: null,
    });
    await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        withSystemTransaction(t.pool, (tx) => appendRunEvents(tx, [{ runId: run.runId, events: [event(`t${n}`, 0), event(`t${n}`, 1), event(`t${n}`, 2)] }])),
      ),
    );
    const events = await listRunEvents(t.pool, run.runId, 0, 1000);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    // Each transaction's three events are consecutive and in the order it recorded them.
    for (let i = 0; i < 36; i += 3) {
      const tag = events[i]!.message!.split('-')[0];
      expect(events.slice(i, i + 3).map((e) => e.message)).toEqual([`${tag}-0`, `${tag}-1`, `${tag}-2`]);
    }
    const { rows } = await t.pool.query<{ last_seq: number }>('SELECT last_seq FROM runs WHERE id = $1', [run.runId]);
    expect(rows[0]!.last_seq).toBe(36);
  });
});

describe('successes', () => {
  it('apply once even when the same result is given twice at once, and free the slot', async () => {
    await t.registerWorker('w-success', 2);
    const run = await t.startRunOf([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }]);
    const { taskId, attemptId } = run.tasks.get('a')!;
    await withSystemTransaction(t.pool, async (tx) => {
      await lockRuns(tx, [run.runId]);
      const started = await startAttemptsOnFreeSlots(tx, needs(['w-race', 'w-shrink', 'w-old']), [{ runId: run.runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test');
      expect(started.workers.get(attemptId!)?.id).toBe('w-success');
    });
    const { answers, effects } = await t.succeed(run.runId, [
      { taskId, attemptId: attemptId!, output: { n: 1 } },
      { taskId, attemptId: attemptId!, output: { n: 2 } },
    ]);
    expect(answers.map((a) => a.applied)).toEqual([true, false]);
    const succeeded = effects.events.filter((e) => e.kind === 'TASK_STATUS' && e.taskStatus === 'SUCCEEDED');
    expect(succeeded.map((e) => e.stepId)).toEqual(['a']);
    // b became ready: queued once, with its attempt in the outbox.
    expect(effects.enqueue.map((e) => e.taskId)).toEqual([run.tasks.get('b')!.taskId]);
    const { rows } = await t.pool.query<{ status: string; output: unknown }>('SELECT status, output FROM tasks WHERE run_id = $1 ORDER BY position', [run.runId]);
    expect(rows).toEqual([
      { status: 'SUCCEEDED', output: { n: 1 } },
      { status: 'QUEUED', output: null },
    ]);
    expect(await t.busySlots('w-success')).toEqual([]);
  });
});
