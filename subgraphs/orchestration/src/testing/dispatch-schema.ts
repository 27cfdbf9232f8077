// Test support for the store suites that drive the dispatch path's statements directly (no service
// running): a migrated schema of their own with one organization and workflow, workers with slots,
// started runs, and successes applied the way the engine applies them.
import { randomUUID } from 'node:crypto';
import { createMemoryLogger, createPool, createTestSchema, migrateTestSchema, newId, TEST_DATABASE_URL, withSystemTransaction, type Pool, type PoolClient } from '@orchestra/lib';
import { BUILTIN_CAPABILITIES, validateSteps } from '../domain/workflow-definition';
import { TransactionEffects } from '../engine/effects';
import { TENANT_ROLE } from '../engine/engine';
import { applySuccesses, type TransitionContext } from '../engine/transitions';
import { migrationsDir } from '../schema';
import { lockRuns, tasksByIds, type SlotNeeds } from '../store/dispatch';
import { insertRunStarts } from '../store/run-starts';
import { syncWorkerSlots, upsertWorker } from '../store/workers';
import { insertWorkflow, insertWorkflowVersion } from '../store/workflows';

/** A started run: each step's task, and the QUEUED attempt of those without dependencies. */
export interface StartedRun {
  runId: string;
  tasks: Map<string, { taskId: string; attemptId?: string }>;
}

export interface DispatchSchema {
  pool: Pool;
  orgId: string;
  /** The workflow (version 1, no steps of its own) every run is started from. */
  workflowId: string;
  /** Registers (or registers again) worker `id` in pool "default" with `slots` slots offering `capability`; its endpoint is `127.0.0.1:<id>`. */
  registerWorker(id: string, slots: number, capability?: string): Promise<void>;
  /** A run of the given steps (each with `capability`), started: tasks without dependencies have a QUEUED attempt. */
  startRunOf(steps: Array<{ id: string; dependsOn?: string[] }>, capability?: string): Promise<StartedRun>;
  /** The slots of `workerId` running an attempt, by slot. */
  busySlots(workerId: string): Promise<Array<{ slot: number; attempt_id: string }>>;
  /** Applies these results of one run in one transaction, as the engine does; resolves to the answers and the effects it collected. */
  succeed(runId: string, results: Array<{ taskId: string; attemptId: string; output: unknown }>): Promise<{ answers: Awaited<ReturnType<typeof applySuccesses>>; effects: TransactionEffects }>;
  /** Ends the pool and drops the schema. */
  drop(): Promise<void>;
}

/** A run row as a user's plain start writes it (no app, input, priority or concurrency key), for insertRunStarts in tests. */
export const testRunRow = (id: string, orgId: string, workflowId: string) => ({
  id,
  orgId,
  workflowId,
  workflowVersion: 1,
  appId: null,
  input: {},
  idempotencyKey: null,
  startedByKind: 'user' as const,
  startedById: 'u',
  startedByUserId: null,
  startedByApiKeyId: null,
  startedByDisplay: null,
  requestId: null,
  traceparent: null,
  priority: null,
  concurrencyKey: null,
  concurrency: null,
});

/** What a claim asks for: a slot in pool "default" offering `capability`, on none of `avoidWorkerIds`. */
export const slotNeeds = (capability = 'noop', avoidWorkerIds: string[] = []): SlotNeeds => ({ pool: 'default', capability, labels: {}, avoidWorkerIds, avoidEndpoints: [] });

/** A migrated schema named after `prefix`, with a pool of 20 (room for racing transactions) named `applicationName`. */
export async function createDispatchSchema(prefix: string, applicationName: string): Promise<DispatchSchema> {
  const log = createMemoryLogger(applicationName);
  const orgId = randomUUID();
  const created = await createTestSchema(prefix);
  const pool = createPool({ url: TEST_DATABASE_URL, schema: created.schema, applicationName, log, max: 20 });
  try {
    await migrateTestSchema({ pool, schema: created.schema, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
  } catch (error) {
    await pool.end();
    await created.drop();
    throw error;
  }
  const workflowId = await withSystemTransaction(pool, async (tx) => {
    const wf = await insertWorkflow(tx, { id: newId(), orgId, name: 'wf', description: null, appId: null, createdBy: 'test' });
    await insertWorkflowVersion(tx, { workflowId: wf.id, orgId, version: 1, steps: [], createdBy: 'test' });
    return wf.id;
  });

  const registerWorker = (id: string, slots: number, capability = 'noop'): Promise<void> =>
    withSystemTransaction(pool, async (tx) => {
      const w = await upsertWorker(
        tx,
        { id, endpoint: `127.0.0.1:${id}`, pool: 'default', capabilities: [capability], slotsTotal: slots, slotsFree: slots, labels: {}, resources: null, version: null },
        60_000,
      );
      await syncWorkerSlots(tx, w.id, w.slotsTotal);
    });

  const startRunOf = async (stepsInput: Array<{ id: string; dependsOn?: string[] }>, capability = 'noop'): Promise<StartedRun> => {
    const steps = validateSteps(
      stepsInput.map((s) => ({ ...s, capability })),
      new Set([...BUILTIN_CAPABILITIES, capability]),
    );
    const runId = newId();
    const tasks = steps.map((step) => ({ id: newId(), step, priority: 3, concurrencyKey: null, concurrency: null }));
    const attempts = tasks
      .filter(({ step }) => step.dependsOn.length === 0)
      .map(({ id, step }) => ({ id: newId(), orgId, runId, taskId: id, attempt: 1, pool: step.pool, availableAt: new Date(), waitReason: null }));
    const run = testRunRow(runId, orgId, workflowId);
    await withSystemTransaction(pool, (tx) => insertRunStarts(tx, [{ run, tasks, attempts, events: [] }], []));
    const attemptOf = new Map(attempts.map((a) => [a.taskId, a.id]));
    return {
      runId,
      tasks: new Map(
        tasks.map(({ id, step }) => {
          const attemptId = attemptOf.get(id);
          return [step.id, { taskId: id, ...(attemptId === undefined ? {} : { attemptId }) }];
        }),
      ),
    };
  };

  const busySlots = async (workerId: string) =>
    (await pool.query<{ slot: number; attempt_id: string }>('SELECT slot, attempt_id FROM worker_slots WHERE worker_id = $1 AND attempt_id IS NOT NULL ORDER BY slot', [workerId])).rows;

  const succeed: DispatchSchema['succeed'] = async (runId, results) => {
    const effects = new TransactionEffects();
    const answers = await withSystemTransaction(pool, async (tx: PoolClient) => {
      const ctx: TransitionContext = { tx, effects, maxLostAttempts: 5 };
      const run = (await lockRuns(tx, [runId])).get(runId)!;
      const tasks = await tasksByIds(
        tx,
        results.map((r) => r.taskId),
      );
      const answered = await applySuccesses(
        ctx,
        results.map((r) => ({ run, task: tasks.get(r.taskId)!, attemptId: r.attemptId, output: r.output })),
      );
      await effects.writeEvents(tx, 'orchestration');
      return answered;
    });
    return { answers, effects };
  };

  return {
    pool,
    orgId,
    workflowId,
    registerWorker,
    startRunOf,
    busySlots,
    succeed,
    async drop() {
      await pool.end();
      await created.drop();
    },
  };
}
