import { randomUUID } from 'node:crypto';
import { createMemoryLogger, createPool, createTestSchema, newId, runMigrations, TEST_DATABASE_URL, withSystemTransaction, type Pool, type PoolClient } from '@orchestra/lib';
import { validateSteps, BUILTIN_CAPABILITIES } from '../domain/workflow-definition';
import { TransactionEffects } from '../engine/effects';
import { TENANT_ROLE } from '../engine/engine';
import { applySuccesses, type TransitionContext } from '../engine/transitions';
import { migrationsDir } from '../schema';
import { lockRuns, startAttemptsOnFreeSlots, tasksByIds, type SlotNeeds } from './dispatch';
import { insertRunStarts } from './run-starts';
import { syncWorkerSlots, upsertWorker } from './workers';
import { insertWorkflow, insertWorkflowVersion } from './workflows';

/**
 * The claim's and the result's one-statement forms (issue 11): startAttemptsOnFreeSlots (free slots
 * found, locked and taken in one statement) and applySuccesses through succeedAttemptsAndAdvance
 * (attempts, tasks and what their runs do next in one statement), against a schema of their own
 * with real concurrent transactions. Each test has a capability of its own, so its workers' slots
 * are the only candidates.
 */

let pool: Pool;
let drop: () => Promise<void>;
const orgId = randomUUID();
const log = createMemoryLogger('one-statement-test');
let workflowId: string;

const needsOf = (capability: string): SlotNeeds => ({ pool: 'default', capability, labels: {}, avoidWorkerIds: [], avoidEndpoints: [] });

async function registerWorker(id: string, capability: string, slots: number): Promise<void> {
  await withSystemTransaction(pool, async (tx) => {
    const w = await upsertWorker(
      tx,
      { id, endpoint: `127.0.0.1:${id}`, pool: 'default', capabilities: [capability], slotsTotal: slots, slotsFree: slots, labels: {}, resources: null, version: null },
      60_000,
    );
    await syncWorkerSlots(tx, w.id, w.slotsTotal);
  });
}

/** A run of the given steps, started: tasks without dependencies have a QUEUED attempt. */
async function startRunOf(capability: string, stepsInput: Array<{ id: string; dependsOn?: string[] }>): Promise<{ runId: string; tasks: Map<string, { taskId: string; attemptId?: string }> }> {
  const steps = validateSteps(
    stepsInput.map((s) => ({ ...s, capability })),
    new Set([...BUILTIN_CAPABILITIES, capability]),
  );
  const runId = newId();
  const tasks = steps.map((step) => ({ id: newId(), step, priority: 3, concurrencyKey: null, concurrency: null }));
  const attempts = tasks
    .filter(({ step }) => step.dependsOn.length === 0)
    .map(({ id, step }) => ({ id: newId(), orgId, runId, taskId: id, attempt: 1, pool: step.pool, availableAt: new Date(), waitReason: null }));
  await withSystemTransaction(pool, (tx) =>
    insertRunStarts(
      tx,
      [
        {
          run: {
            id: runId,
            orgId,
            workflowId,
            workflowVersion: 1,
            appId: null,
            input: {},
            idempotencyKey: null,
            startedByKind: 'user',
            startedById: 'u',
            startedByUserId: null,
            startedByApiKeyId: null,
            startedByDisplay: null,
            requestId: null,
            traceparent: null,
            priority: null,
            concurrencyKey: null,
            concurrency: null,
          },
          tasks,
          attempts,
          events: [],
        },
      ],
      [],
    ),
  );
  return {
    runId,
    tasks: new Map(tasks.map(({ id, step }) => [step.id, { taskId: id, ...(attempts.find((a) => a.taskId === id) ? { attemptId: attempts.find((a) => a.taskId === id)!.id } : {}) }])),
  };
}

const busySlots = async (workerId: string) =>
  (await pool.query<{ slot: number; attempt_id: string }>('SELECT slot, attempt_id FROM worker_slots WHERE worker_id = $1 AND attempt_id IS NOT NULL ORDER BY slot', [workerId])).rows;

beforeAll(async () => {
  const created = await createTestSchema('orch_one_statement');
  drop = created.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema: created.schema, applicationName: 'orchestration-one-statement-test', log, max: 20 });
  await runMigrations({ pool, schema: created.schema, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
  workflowId = await withSystemTransaction(pool, async (tx) => {
    const wf = await insertWorkflow(tx, { id: newId(), orgId, name: 'wf', description: null, appId: null, createdBy: 'test' });
    await insertWorkflowVersion(tx, { workflowId: wf.id, orgId, version: 1, steps: [], createdBy: 'test' });
    return wf.id;
  });
});

afterAll(async () => {
  await pool?.end();
  await drop?.();
});

describe('startAttemptsOnFreeSlots', () => {
  it('gives each slot out once when claims race: of eight concurrent claims on three slots, three start', async () => {
    await registerWorker('w1-race', 'race', 3);
    const runs = await Promise.all(Array.from({ length: 8 }, () => startRunOf('race', [{ id: 'a' }])));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const answers: Array<string | undefined> = [];
    let allAnswered = () => {};
    const answered = new Promise<void>((resolve) => (allAnswered = resolve));
    const claims = runs.map(({ runId, tasks }) =>
      withSystemTransaction(pool, async (tx) => {
        const { taskId, attemptId } = tasks.get('a')!;
        await lockRuns(tx, [runId]);
        const started = await startAttemptsOnFreeSlots(tx, needsOf('race'), [{ runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test');
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
    const busy = await busySlots('w1-race');
    expect(busy.map((b) => b.slot)).toEqual([0, 1, 2]);
    expect(new Set(busy.map((b) => b.attempt_id)).size).toBe(3);
  });

  it('starts as many of a batch as there are free slots, the rest left QUEUED in the outbox; the runs that started come back once', async () => {
    await registerWorker('w1-batch', 'batch', 2);
    const runs = await Promise.all(Array.from({ length: 4 }, () => startRunOf('batch', [{ id: 'a' }])));
    const asked = runs.map(({ runId, tasks }) => ({ runId, attemptId: tasks.get('a')!.attemptId!, taskId: tasks.get('a')!.taskId, input: { from: runId } }));
    const started = await withSystemTransaction(pool, async (tx) => {
      await lockRuns(
        tx,
        runs.map((r) => r.runId),
      );
      return startAttemptsOnFreeSlots(tx, needsOf('batch'), asked, 'dispatcher-test');
    });
    expect(started.placed.size).toBe(2);
    expect([...started.placed.values()].map((p) => p.worker.id)).toEqual(['w1-batch', 'w1-batch']);
    expect(new Set([...started.placed.values()].map((p) => p.slot))).toEqual(new Set([0, 1]));
    const placedRuns = asked.filter((a) => started.placed.has(a.attemptId)).map((a) => a.runId);
    expect(started.startedRuns.map((r) => r.id).sort()).toEqual([...placedRuns].sort());
    expect(started.startedRuns.every((r) => r.status === 'RUNNING')).toBe(true);
    const { rows } = await pool.query<{ id: string; status: string; task_status: string; input: unknown; outbox: boolean; dispatcher_id: string | null }>(
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
    await registerWorker('w1-avoid', 'avoid', 1);
    await registerWorker('w2-avoid', 'other', 1);
    const run = await startRunOf('avoid', [{ id: 'a' }]);
    const { taskId, attemptId } = run.tasks.get('a')!;
    const start = (needs: SlotNeeds) =>
      withSystemTransaction(pool, async (tx) => {
        await lockRuns(tx, [run.runId]);
        return (await startAttemptsOnFreeSlots(tx, needs, [{ runId: run.runId, attemptId: attemptId!, taskId, input: {} }], 'dispatcher-test')).placed.get(attemptId!)?.workerId;
      });
    expect(await start({ ...needsOf('avoid'), avoidWorkerIds: ['w1-avoid'] })).toBeUndefined();
    expect(await start({ ...needsOf('avoid'), avoidEndpoints: ['127.0.0.1:w1-avoid'] })).toBeUndefined();
    expect(await start(needsOf('avoid'))).toBe('w1-avoid');
  });
});

describe('applySuccesses in one statement', () => {
  /** Starts QUEUED attempts on free slots of capability `fan`. */
  const start = (runId: string, attempts: Array<{ attemptId: string; taskId: string }>) =>
    withSystemTransaction(pool, async (tx) => {
      await lockRuns(tx, [runId]);
      const started = await startAttemptsOnFreeSlots(
        tx,
        needsOf('fan'),
        attempts.map((a) => ({ ...a, runId, input: {} })),
        'dispatcher-test',
      );
      expect(started.placed.size).toBe(attempts.length);
    });
  /** Applies successes of tasks (by step id) in one transaction; resolves to its effects and answers. */
  const succeed = async (runId: string, steps: Array<{ taskId: string; attemptId: string; output: unknown }>) => {
    const effects = new TransactionEffects();
    const answers = await withSystemTransaction(pool, async (tx: PoolClient) => {
      const ctx: TransitionContext = { tx, effects, maxLostAttempts: 5 };
      const run = (await lockRuns(tx, [runId])).get(runId)!;
      const tasks = await tasksByIds(
        tx,
        steps.map((s) => s.taskId),
      );
      const result = await applySuccesses(
        ctx,
        steps.map((s) => ({ run, task: tasks.get(s.taskId)!, attemptId: s.attemptId, output: s.output })),
      );
      await effects.writeEvents(tx, 'orchestration');
      return result;
    });
    return { effects, answers };
  };

  it('counts the steps it succeeds as succeeded: dependents ready once all their dependencies are, and the run ends with the outputs it just wrote', async () => {
    await registerWorker('w1-fan', 'fan', 4);
    const run = await startRunOf('fan', [{ id: 'a' }, { id: 'b', dependsOn: ['a'] }, { id: 'c', dependsOn: ['a'] }, { id: 'e', dependsOn: ['a'] }, { id: 'd', dependsOn: ['b', 'c', 'e'] }]);
    const id = (step: string) => run.tasks.get(step)!.taskId;
    const a = { taskId: id('a'), attemptId: run.tasks.get('a')!.attemptId! };
    await start(run.runId, [a]);

    // a succeeds: b, c and e are ready (queued once each, in step order), d is not.
    const first = await succeed(run.runId, [{ ...a, output: { step: 'a' } }]);
    expect(first.answers.map((x) => x.applied)).toEqual([true]);
    expect(first.effects.enqueue.map((e) => e.taskId)).toEqual([id('b'), id('c'), id('e')]);
    const attemptOf = (step: string) => first.effects.enqueue.find((e) => e.taskId === id(step))!.attemptId;
    const [b, c, e] = (['b', 'c', 'e'] as const).map((step) => ({ taskId: id(step), attemptId: attemptOf(step) }));
    await start(run.runId, [b!, c!, e!]);

    // b alone: d still waits for c and e.
    const second = await succeed(run.runId, [{ ...b!, output: { step: 'b' } }]);
    expect(second.effects.enqueue).toEqual([]);
    expect(second.answers[0]!.run.status).toBe('RUNNING');

    // c and e together, in one statement: d is ready, once.
    const third = await succeed(run.runId, [
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
    const last = await succeed(run.runId, [{ ...d, output: { step: 'd', n: 4 } }]);
    expect(last.answers[0]!.run).toMatchObject({ status: 'SUCCEEDED', output: { d: { step: 'd', n: 4 } } });
    expect(last.effects.events.map((x) => `${x.kind}:${x.stepId ?? ''}:${x.taskStatus ?? x.runStatus ?? ''}`)).toEqual(['TASK_STATUS:d:SUCCEEDED', 'RUN_STATUS::SUCCEEDED']);
    const { rows } = await pool.query<{ status: string; output: unknown }>('SELECT status, output FROM runs WHERE id = $1', [run.runId]);
    expect(rows[0]).toEqual({ status: 'SUCCEEDED', output: { d: { step: 'd', n: 4 } } });
    expect(await busySlots('w1-fan')).toEqual([]);

    // The same result again changes nothing.
    const again = await succeed(run.runId, [{ ...d, output: { step: 'd', n: 5 } }]);
    expect(again.answers[0]).toMatchObject({ applied: false, reason: 'attempt is no longer RUNNING' });
    expect(again.effects.events).toEqual([]);
  });

  it('ends a run whose leaves are several steps with all their outputs, two of them written by the same statement', async () => {
    const run = await startRunOf('fan', [{ id: 'x' }, { id: 'y' }]);
    const x = { taskId: run.tasks.get('x')!.taskId, attemptId: run.tasks.get('x')!.attemptId! };
    const y = { taskId: run.tasks.get('y')!.taskId, attemptId: run.tasks.get('y')!.attemptId! };
    await start(run.runId, [x, y]);
    const done = await succeed(run.runId, [
      { ...x, output: 1 },
      { ...y, output: [2] },
    ]);
    expect(done.answers.map((a) => a.run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(done.answers[0]!.run.output).toEqual({ x: 1, y: [2] });
    expect(done.effects.events.filter((e) => e.kind === 'RUN_STATUS')).toHaveLength(1);
  });
});
