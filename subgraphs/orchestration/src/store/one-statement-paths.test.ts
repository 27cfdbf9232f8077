import { withSystemTransaction, withSystemTransactionFrom } from '@orchestra/lib';
import { createDispatchSchema, slotNeeds, type DispatchSchema } from '../testing/dispatch-schema';
import { lockedRuns, lockRuns, lockRunsStatement, startAttemptsOnFreeSlots, type SlotNeeds } from './dispatch';

/**
 * The claim's and the result's one-statement forms (issue 11): startAttemptsOnFreeSlots (free slots
 * found, locked and taken in one statement) and applySuccesses through succeedAttemptsAndAdvance
 * (attempts, tasks and what their runs do next in one statement), against a schema of their own
 * with real concurrent transactions. Each test has a capability of its own, so its workers' slots
 * are the only candidates.
 */

let t: DispatchSchema;

beforeAll(async () => {
  t = await createDispatchSchema('orch_one_statement', 'orchestration-one-statement-test');
});

afterAll(async () => {
  await t?.drop();
});

describe('lockRunsStatement with the BEGIN (withSystemTransactionFrom)', () => {
  it('locks the runs inside the transaction, until its commit, and reads them as lockRuns does', async () => {
    const runs = await Promise.all(Array.from({ length: 3 }, () => t.startRunOf([{ id: 'a' }], 'lock-begin')));
    const ids = runs.map((r) => r.runId);
    const first = lockRunsStatement([...ids, ids[0]!]);
    expect(first).toBeDefined();
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = withSystemTransactionFrom<{ run: Record<string, unknown> }, Map<string, unknown>>(t.pool, first!, async (_tx, rows) => {
      locked();
      await released;
      return lockedRuns(rows);
    });
    await isLocked;
    // Held by the open transaction: had the statement run outside it, its locks would be gone.
    await expect(t.pool.query(`SELECT id FROM runs WHERE id = $1 FOR UPDATE NOWAIT`, [ids[1]])).rejects.toMatchObject({ code: '55P03' });
    release();
    const read = await holder;
    const byLockRuns = await withSystemTransaction(t.pool, (tx) => lockRuns(tx, ids));
    expect([...read.keys()].sort()).toEqual([...ids].sort());
    expect(read).toEqual(byLockRuns);
    expect((await t.pool.query(`SELECT id FROM runs WHERE id = $1 FOR UPDATE NOWAIT`, [ids[1]])).rowCount).toBe(1);
  });

  it('is only written for well-formed run ids (they go in as a literal)', () => {
    expect(lockRunsStatement([])).toBeUndefined();
    expect(lockRunsStatement(['0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', "x}'::uuid[]); DROP TABLE runs; --"])).toBeUndefined();
    expect(lockRunsStatement(['0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'])).toContain(`'{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}'::uuid[]`);
  });
});

describe('startAttemptsOnFreeSlots', () => {
  it('gives each slot out once when claims race: of eight concurrent claims on three slots, three start', async () => {
    await t.registerWorker('w1-race', 3, 'race');
    const runs = await Promise.all(Array.from({ length: 8 }, () => t.startRunOf([{ id: 'a' }], 'race')));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const answers: Array<string | undefined> = [];
    let allAnswered = () => {};
    const answered = new Promise<void>((resolve) => (allAnswered = resolve));
    const claims = runs.map(({ runId, tasks }) =>
      withSystemTransaction(t.pool, async (tx) => {
        const { taskId, attemptId } = tasks.get('a')!;
        await lockRuns(tx, [runId]);
        const started = await startAttemptsOnFreeSlots(tx, slotNeeds('race'), [{ runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test');
        answers.push(started.placed.get(attemptId!)?.workerId);
        if (answers.length === runs.length) allAnswered();
        // Held open until every claim answered: the others skipped the slots this one locked.
        await released;
      }),
    );
    await answered;
    release();
    await Promise.all(claims);
    expect(answers.filter((w) => w === 'w1-race')).toHaveLength(3);
    expect(answers.filter((w) => w === undefined)).toHaveLength(5);
    const busy = await t.busySlots('w1-race');
    expect(busy.map((b) => b.slot)).toEqual([0, 1, 2]);
    expect(new Set(busy.map((b) => b.attempt_id)).size).toBe(3);
  });

  it('starts as many of a batch as there are free slots, the rest left QUEUED in the outbox; the runs that started come back once', async () => {
    await t.registerWorker('w1-batch', 2, 'batch');
    const runs = await Promise.all(Array.from({ length: 4 }, () => t.startRunOf([{ id: 'a' }], 'batch')));
    const asked = runs.map(({ runId, tasks }) => ({ runId, attemptId: tasks.get('a')!.attemptId!, taskId: tasks.get('a')!.taskId, input: { from: runId } }));
    const started = await withSystemTransaction(t.pool, async (tx) => {
      await lockRuns(
        tx,
        runs.map((r) => r.runId),
      );
      return startAttemptsOnFreeSlots(tx, slotNeeds('batch'), asked, 'dispatcher-test');
    });
    expect(started.placed.size).toBe(2);
    expect([...started.placed.values()].map((p) => p.worker.id)).toEqual(['w1-batch', 'w1-batch']);
    expect(new Set([...started.placed.values()].map((p) => p.slot))).toEqual(new Set([0, 1]));
    const placedRuns = asked.filter((a) => started.placed.has(a.attemptId)).map((a) => a.runId);
    expect(started.startedRuns.map((r) => r.id).sort()).toEqual([...placedRuns].sort());
    expect(started.startedRuns.every((r) => r.status === 'RUNNING')).toBe(true);
    const { rows } = await t.pool.query<{ id: string; status: string; task_status: string; input: unknown; outbox: boolean; dispatcher_id: string | null }>(
      `SELECT a.id, a.status, t.status AS task_status, t.input, a.dispatcher_id, EXISTS (SELECT 1 FROM dispatch_outbox o WHERE o.attempt_id = a.id) AS outbox
         FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.id = ANY($1::uuid[])`,
      [asked.map((a) => a.attemptId)],
    );
    for (const a of asked) {
      const row = rows.find((r) => r.id === a.attemptId)!;
      if (started.placed.has(a.attemptId)) {
        expect(row).toMatchObject({ status: 'RUNNING', task_status: 'RUNNING', input: { from: a.runId }, outbox: false, dispatcher_id: 'dispatcher-test' });
      } else {
        expect(row).toMatchObject({ status: 'QUEUED', task_status: 'QUEUED', input: null, outbox: true, dispatcher_id: null });
      }
    }
  });

  it('passes over avoided workers and workers without the capability', async () => {
    await t.registerWorker('w1-avoid', 1, 'avoid');
    await t.registerWorker('w2-avoid', 1, 'other');
    const run = await t.startRunOf([{ id: 'a' }], 'avoid');
    const { taskId, attemptId } = run.tasks.get('a')!;
    const start = (needs: SlotNeeds) =>
      withSystemTransaction(t.pool, async (tx) => {
        await lockRuns(tx, [run.runId]);
        return (await startAttemptsOnFreeSlots(tx, needs, [{ runId: run.runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test')).placed.get(attemptId!)?.workerId;
      });
    expect(await start({ ...slotNeeds('avoid'), avoidWorkerIds: ['w1-avoid'] })).toBeUndefined();
    expect(await start({ ...slotNeeds('avoid'), avoidEndpoints: ['127.0.0.1:w1-avoid'] })).toBeUndefined();
    expect(await start(slotNeeds('avoid'))).toBe('w1-avoid');
  });
});

describe('applySuccesses in one statement', () => {
  /** Starts QUEUED attempts on free slots of capability `fan`. */
  const start = (runId: string, attempts: Array<{ attemptId: string; taskId: string }>) =>
    withSystemTransaction(t.pool, async (tx) => {
      await lockRuns(tx, [runId]);
      const started = await startAttemptsOnFreeSlots(
        tx,
        slotNeeds('fan'),
        attempts.map((a) => ({ ...a, runId, input: {} })),
        'dispatcher-test',
      );
      expect(started.placed.size).toBe(attempts.length);
    });
  it('counts the steps it succeeds as succeeded: dependents ready once all their dependencies are, and the run ends with the outputs it just wrote', async () => {
    await t.registerWorker('w1-fan', 4, 'fan');
    const run = await t.startRunOf([{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'e', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c', 'e'] }], 'fan');
    const id = (step: string) => run.tasks.get(step)!.taskId;
    const a = { taskId: id('a'), attemptId: run.tasks.get('a')!.attemptId! };
    await start(run.runId, [a]);

    // a succeeds: b, c and e are ready (queued once each, in step order), d is not.
    const first = await t.succeed(run.runId, [{ ...a, output: { step: 'a' } }]);
    expect(first.answers.map((x) => x.applied)).toEqual([true]);
    expect(first.effects.enqueue.map((e) => e.taskId)).toEqual([id('b'), id('c'), id('e')]);
    const attemptOf = (step: string) => first.effects.enqueue.find((e) => e.taskId === id(step))!.attemptId;
    const [b, c, e] = (['b', 'c', 'e'] as const).map((step) => ({ taskId: id(step), attemptId: attemptOf(step) }));
    await start(run.runId, [b!, c!, e!]);

    // b alone: d still waits for c and e.
    const second = await t.succeed(run.runId, [{ ...b!, output: { step: 'b' } }]);
    expect(second.effects.enqueue).toEqual([]);
    expect(second.answers[0]!.run.status).toBe('RUNNING');

    // c and e together, in one statement: d is ready, once.
    const third = await t.succeed(run.runId, [
      { ...c!, output: { step: 'c' } },
      { ...e!, output: { step: 'e' } },
    ]);
    expect(third.answers.map((x) => x.applied)).toEqual([true, true]);
    expect(third.effects.enqueue.map((x) => x.taskId)).toEqual([id('d')]);
    const events = third.effects.events.map((x) => `${x.kind}:${x.stepId ?? ''}:${x.taskStatus ?? x.runStatus ?? ''}`);
    expect(events).toEqual(['TASK_STATUS:c:SUCCEEDED', 'TASK_STATUS:e:SUCCEEDED', 'TASK_STATUS:d:QUEUED']);
    const d = { taskId: id('d'), attemptId: third.effects.enqueue[0]!.attemptId };
    await start(run.runId, [d]);

    // d, the last step: the run SUCCEEDED in the same statement, its output d's output (written by that statement).
    const last = await t.succeed(run.runId, [{ ...d, output: { step: 'd', n: 4 } }]);
    expect(last.answers[0]!.run).toMatchObject({ status: 'SUCCEEDED', output: { d: { step: 'd', n: 4 } } });
    expect(last.effects.events.map((x) => `${x.kind}:${x.stepId ?? ''}:${x.taskStatus ?? x.runStatus ?? ''}`)).toEqual(['TASK_STATUS:d:SUCCEEDED', 'RUN_STATUS::SUCCEEDED']);
    const { rows } = await t.pool.query<{ status: string; output: unknown }>('SELECT status, output FROM runs WHERE id = $1', [run.runId]);
    expect(rows[0]).toEqual({ status: 'SUCCEEDED', output: { d: { step: 'd', n: 4 } } });
    expect(await t.busySlots('w1-fan')).toEqual([]);

    // The same result again changes nothing.
    const again = await t.succeed(run.runId, [{ ...d, output: { step: 'd', n: 5 } }]);
    expect(again.answers[0]).toMatchObject({ applied: false, reason: 'attempt is no longer RUNNING' });
    expect(again.effects.events).toEqual([]);
  });

  it('ends a run whose leaves are several steps with all their outputs, two of them written by the same statement', async () => {
    const run = await t.startRunOf([{ id: 'x' }, { id: 'y' }], 'fan');
    const x = { taskId: run.tasks.get('x')!.taskId, attemptId: run.tasks.get('x')!.attemptId! };
    const y = { taskId: run.tasks.get('y')!.taskId, attemptId: run.tasks.get('y')!.attemptId! };
    await start(run.runId, [x, y]);
    const done = await t.succeed(run.runId, [
      { ...x, output: 1 },
      { ...y, output: [2] },
    ]);
    expect(done.answers.map((a) => a.run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(done.answers[0]!.run.output).toEqual({ x: 1, y: [2] });
    expect(done.effects.events.filter((e) => e.kind === 'RUN_STATUS')).toHaveLength(1);
  });
});
