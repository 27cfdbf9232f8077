import { DelayedError, Worker as QueueWorker, type Job } from 'bullmq';
import { endSpan, grpc, serverStreamCall, SpanKind, startSpan, traceIdOf, type Logger, type Redis } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { referencedSteps, resolveTemplates, TemplateError } from '../domain/templates';
import { endAttempt } from '../store/attempts';
import { attemptsWithTasks, lockRuns, startAttemptsOnFreeSlots, succeededStepOutputs, tasksByIds, type SlotNeeds } from '../store/dispatch';
import { isDispatcherAlive } from '../store/dispatchers';
import { deleteOutbox } from '../store/outbox';
import type { AttemptRow, ErrorInfo, RunRow, TaskRow, WorkerRow } from '../store/rows';
import { lockRun } from '../store/runs';
import { updateTaskProgress } from '../store/tasks';
import type { InFlightCall } from './cancellations';
import { createBatcher } from './coalescer';
import type { Engine } from './engine';
import { queueNameOf, type AttemptJob } from './task-queues';
import { applyAttemptOutcome, applySuccesses, failTask, runStatusChanged, type AttemptOutcome, type AttemptSuccess, type OutcomeApplied, type TransitionContext } from './transitions';

/**
 * The dispatcher (DESIGN.md §4): a BullMQ worker per worker pool. For each queued attempt it claims
 * a free slot row of a live worker that has the capability and labels (in PostgreSQL, skipping the
 * slots other claims hold), calls AutomationService.Execute as a server stream with the step's
 * timeout as the deadline, records progress and log lines in batches, and applies the result in a
 * transaction guarded by the attempt's status, so a duplicate delivery never completes a task twice.
 * Claims that arrive together share a transaction, and so do results.
 */
export interface Dispatcher {
  /**
   * Starts consuming a pool's queue (idempotent). `slots` (the pool's live slots) caps how many of
   * its jobs this dispatcher takes at once: more would only wait for a slot.
   */
  ensurePool(pool: string, slots?: number): void;
  /** Lets tasks that wait for a free worker in `pool` look again now. */
  wake(pool: string): void;
  /** Stops taking jobs; running calls get DRAIN_TIMEOUT_MS to finish, then are handed back (retried). */
  stop(): Promise<void>;
}

type Claim =
  | { kind: 'drop'; reason: string }
  /** Not yet: its retry backoff runs until `delayMs` from now, or no worker has a free slot. */
  | { kind: 'wait'; cause: 'backoff'; delayMs: number; reason: string }
  | { kind: 'wait'; cause: 'no-slot'; reason: string }
  | { kind: 'claimed'; run: RunRow; task: TaskRow; attempt: AttemptRow; worker: WorkerRow; input: unknown };

type CallOutcome =
  | { kind: 'result'; result: automationV1.TaskResult }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'busy'; message: string }
  | { kind: 'rejected'; code: string; message: string; retryable: boolean };

/** The worker could not be reached or broke off: counts against its circuit breaker. */
class WorkerUnreachable extends Error {
  override readonly name = 'WorkerUnreachable';
}

const TRANSPORT_CODES = new Set([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.ABORTED, grpc.status.CANCELLED]);
const LOG_LEVELS: Record<number, string> = { 1: 'DEBUG', 2: 'INFO', 3: 'WARN', 4: 'ERROR' };
/** Looks for a free slot a queued attempt takes in this process before it goes back to the queue delayed. */
const MAX_LOCAL_SLOT_WAITS = 4;
/** Claims (or results) applied in one transaction, at most. */
const BATCH_MAX = 64;
/** Claim (or result) transactions under way at once: while one waits on PostgreSQL, the next can start. */
const BATCHES_AT_ONCE = 2;

export interface DispatcherOptions {
  engine: Engine;
  /** ioredis with maxRetriesPerRequest: null (BullMQ workers block). */
  connection: Redis;
  prefix: string;
  dispatcherId: string;
}

export function createDispatcher({ engine, connection, prefix, dispatcherId }: DispatcherOptions): Dispatcher {
  const { config, cancellations, workerClients, queues, metrics } = engine;
  const log = engine.log.child({ component: 'dispatcher', dispatcherId });
  const consumers = new Map<string, QueueWorker<AttemptJob>>();
  /** Attempts that wait for a free worker, per pool, and how often they waited. */
  const waiting = new Map<string, Map<string, number>>();
  let draining = false;
  const executions = metrics.histogram('task_attempt_duration_seconds', 'Execute calls from claim to result, by outcome', ['outcome'], [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800]);
  const claims = metrics.counter('dispatch_claims_total', 'Dispatch decisions for queued attempts', ['decision']);

  const waitDelay = (pool: string, attemptId: string): number => {
    const map = waiting.get(pool) ?? new Map<string, number>();
    waiting.set(pool, map);
    const count = (map.get(attemptId) ?? 0) + 1;
    map.set(attemptId, count);
    return Math.min(config.DISPATCH_RETRY_DELAY_MS * 2 ** Math.min(count - 1, 4), Math.max(config.DISPATCH_RETRY_DELAY_MS, 2_000));
  };
  const doneWaiting = (pool: string, attemptId: string) => waiting.get(pool)?.delete(attemptId);

  const promoteDelayed = (pool: string) => {
    const ids = [...(waiting.get(pool)?.keys() ?? [])].slice(0, 20);
    if (ids.length > 0) void queues.promote(pool, ids).catch((error: unknown) => log.debug('could not promote waiting attempts', { err: error, pool }));
  };

  // A claim that found no free slot first waits here for a slot to free up in this process (an
  // Execute call of its pool ending), and goes back to the queue delayed only if none does soon, or
  // at once if this process runs nothing in that pool: a slot is handed on without a round of Redis
  // moves, and without a claim transaction per look.
  const slotWaiters = new Map<string, Set<(freed: boolean) => void>>();
  const executing = new Map<string, number>();
  const waitForSlot = (pool: string, ms: number): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const waiters = slotWaiters.get(pool) ?? new Set<(freed: boolean) => void>();
      slotWaiters.set(pool, waiters);
      const timer = setTimeout(() => settle(false), ms);
      const settle = (freed: boolean) => {
        clearTimeout(timer);
        waiters.delete(settle);
        resolve(freed);
      };
      waiters.add(settle);
    });
  /** One slot of `pool` freed here: the longest waiting claim looks again, or else a delayed job is promoted. */
  const slotFreed = (pool: string) => {
    const first = slotWaiters.get(pool)?.values().next();
    if (first && first.done !== true) first.value(true);
    else promoteDelayed(pool);
  };
  const wake = (pool: string) => {
    for (const waiter of [...(slotWaiters.get(pool) ?? [])]) waiter(true);
    promoteDelayed(pool);
  };

  /** A queued attempt that may start now, with its input resolved: it waits for a slot. */
  interface Startable {
    attempt: AttemptRow;
    task: TaskRow;
    input: unknown;
  }

  /**
   * Looks at one queued attempt inside a claim transaction that holds its run's lock (`attempt` and
   * `task` were read after that lock was taken): decides to drop it or let it wait, or finds it
   * startable. Resolves also to the run as it is now, and whether other tasks of the run may have
   * changed (a later claim of the same batch then reads its rows again).
   */
  async function examine(ctx: TransitionContext, run: RunRow, attempt: AttemptRow | undefined, task: TaskRow | undefined): Promise<{ claim: Claim | Startable; run: RunRow; changedRun: boolean }> {
    const decided = (claim: Claim | Startable, changedRun = false) => ({ claim, run, changedRun });
    if (!attempt) return decided({ kind: 'drop', reason: 'attempt not found' });
    const attemptId = attempt.id;

    if (attempt.status === 'RUNNING') {
      // Delivered again while RUNNING: the job's previous holder stalled or died.
      if (cancellations.inFlight().some((c) => c.attemptId === attemptId)) return decided({ kind: 'drop', reason: 'already executing here' });
      const holder = attempt.dispatcherId;
      if (holder !== null && holder !== dispatcherId && (await isDispatcherAlive(ctx.tx, holder, new Date(Date.now() - config.DISPATCHER_LEASE_TTL_MS)))) {
        return decided({ kind: 'drop', reason: 'another live dispatcher runs it' });
      }
      if (task) {
        const lost = await applyAttemptOutcome(ctx, run, task, attemptId, {
          kind: 'lost',
          error: { code: 'DISPATCHER_LOST', message: 'the dispatcher that ran it went away', retryable: true },
          countsAsLost: false,
        });
        run = lost.run;
        ctx.effects.cancel.push({ attemptId, workerId: attempt.workerId, reason: 'reassigned: its dispatcher went away' });
      }
      return decided({ kind: 'drop', reason: 'its dispatcher went away: a new attempt was queued' }, true);
    }
    if (attempt.status !== 'QUEUED') return decided({ kind: 'drop', reason: `attempt is ${attempt.status}` });
    if (!task || task.currentAttemptId !== attemptId || task.status !== 'QUEUED') return decided({ kind: 'drop', reason: 'task moved on' });
    if (run.status !== 'QUEUED' && run.status !== 'RUNNING') return decided({ kind: 'drop', reason: `run is ${run.status}` });
    const notBefore = attempt.availableAt.getTime() - Date.now();
    if (notBefore > 10) return decided({ kind: 'wait', cause: 'backoff', delayMs: notBefore, reason: 'retry backoff' });

    try {
      const template = task.inputTemplate ?? {};
      const steps = await succeededStepOutputs(ctx.tx, run.id, referencedSteps(template));
      return decided({ attempt, task, input: resolveTemplates(template, { input: run.input, steps, run: { id: run.id } }) });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      const failure: ErrorInfo = { code: 'TEMPLATE_ERROR', message: `step "${task.stepId}": ${error.message}`, retryable: false };
      const failed = await endAttempt(ctx.tx, attemptId, ['QUEUED'], 'FAILED', failure);
      await deleteOutbox(ctx.tx, [attemptId]);
      run = await failTask(ctx, run, task, failed ?? attempt, failure);
      return decided({ kind: 'drop', reason: 'input templates do not resolve' }, true);
    }
  }

  /**
   * Claims queued attempts in one transaction: their runs locked in id order, then their rows read;
   * each examined; the startable ones started on free slots, one statement per kind of slot they need.
   */
  async function claimAll(ctx: TransitionContext, requests: readonly AttemptJob[]): Promise<Claim[]> {
    const runs = await lockRuns(
      ctx.tx,
      requests.map((r) => r.runId),
    );
    const rows = await attemptsWithTasks(
      ctx.tx,
      requests.map((r) => r.attemptId),
    );
    const changedRuns = new Set<string>();
    const seen = new Set<string>();
    const decisions: Array<Claim | Startable> = [];
    for (const { attemptId, runId } of requests) {
      const run = runs.get(runId);
      if (!run) {
        decisions.push({ kind: 'drop', reason: 'run not found' });
        continue;
      }
      if (seen.has(attemptId)) {
        decisions.push({ kind: 'drop', reason: 'delivered twice at once' });
        continue;
      }
      seen.add(attemptId);
      let row = rows.get(attemptId);
      if (changedRuns.has(runId)) row = (await attemptsWithTasks(ctx.tx, [attemptId])).get(attemptId);
      const attempt = row?.attempt.runId === runId ? row.attempt : undefined;
      const examined = await examine(ctx, run, attempt, attempt ? row?.task : undefined);
      runs.set(runId, examined.run);
      if (examined.changedRun) changedRuns.add(runId);
      decisions.push(examined.claim);
    }

    // Start what can start, grouped by what it needs of a worker.
    const avoided = workerClients.avoided();
    const groups = new Map<string, { needs: SlotNeeds; startable: Startable[] }>();
    for (const d of decisions) {
      if ('kind' in d) continue;
      const needs: SlotNeeds = { pool: d.task.pool, capability: d.task.capability, labels: d.task.labels, avoidWorkerIds: avoided.workerIds, avoidEndpoints: avoided.endpoints };
      const key = JSON.stringify([needs.pool, needs.capability, Object.entries(needs.labels).sort()]);
      const group = groups.get(key) ?? { needs, startable: [] };
      group.startable.push(d);
      groups.set(key, group);
    }
    const workers = new Map<string, WorkerRow>();
    const waiting = new Set<string>();
    const startedRuns = new Map<string, RunRow>();
    for (const { needs, startable } of groups.values()) {
      const started = await startAttemptsOnFreeSlots(
        ctx.tx,
        needs,
        startable.map((d) => ({ runId: d.task.runId, attemptId: d.attempt.id, taskId: d.task.id, input: d.input })),
        dispatcherId,
      );
      for (const [attemptId, worker] of started.workers) workers.set(attemptId, worker);
      for (const attemptId of started.waiting) waiting.add(attemptId);
      for (const run of started.startedRuns) startedRuns.set(run.id, run);
    }

    return decisions.map((d): Claim => {
      if ('kind' in d) return d;
      const { attempt, task, input } = d;
      const worker = workers.get(attempt.id);
      if (!worker) {
        return waiting.has(attempt.id)
          ? { kind: 'wait', cause: 'no-slot', reason: `no live worker with a free slot for ${task.capability} in pool ${task.pool}` }
          : { kind: 'drop', reason: 'task moved on' };
      }
      let run = runs.get(task.runId) as RunRow;
      const startedRun = startedRuns.get(run.id);
      if (startedRun) {
        run = runStatusChanged(ctx, run, startedRun);
        startedRuns.delete(run.id);
        runs.set(run.id, run);
      }
      const claimed: AttemptRow = { ...attempt, status: 'RUNNING', workerId: worker.id, dispatcherId, startedAt: new Date() };
      ctx.effects.event(run, {
        kind: 'TASK_STATUS',
        taskId: task.id,
        stepId: task.stepId,
        taskStatus: 'RUNNING',
        attemptId: attempt.id,
        attempt: claimed.attempt,
        message: `attempt ${claimed.attempt - task.attemptsAtReset} of ${task.maxAttempts} on worker ${worker.id}`,
      });
      return { kind: 'claimed', run, task: { ...task, status: 'RUNNING', input }, attempt: claimed, worker, input };
    });
  }

  // Claims that arrive while a claim transaction runs go together into the next one.
  const claim = createBatcher<AttemptJob, Claim>({
    apply: (requests) => engine.change(null, (ctx) => claimAll(ctx, requests)),
    maxBatch: BATCH_MAX,
    parallel: BATCHES_AT_ONCE,
    onBatchFailure: (error, size) => log.warn('a batch of claims failed: claiming them one by one', { err: error, size }),
  });

  /**
   * Buffers progress and log events of one attempt and writes them in batches (one transaction
   * each); what is still buffered when the call ends goes into the transaction of its result.
   */
  function createEventBuffer(run: RunRow, task: TaskRow, attempt: AttemptRow, callLog: Logger) {
    type Pending = { kind: 'TASK_PROGRESS'; progress: number; message: string } | { kind: 'TASK_LOG'; level: string; message: string };
    let pending: Pending[] = [];
    let timer: NodeJS.Timeout | undefined;
    let chain: Promise<void> = Promise.resolve();
    /** Records a batch in a transaction that holds the run's lock. */
    const record = async (ctx: TransitionContext, batch: readonly Pending[]) => {
      let last: { progress: number; message: string } | undefined;
      for (const e of batch) {
        const common = { taskId: task.id, stepId: task.stepId, attemptId: attempt.id, attempt: attempt.attempt };
        if (e.kind === 'TASK_PROGRESS') {
          ctx.effects.event(run, { kind: 'TASK_PROGRESS', ...common, progress: e.progress, message: e.message || null });
          last = e;
        } else {
          ctx.effects.event(run, { kind: 'TASK_LOG', ...common, level: e.level, message: e.message });
        }
      }
      if (last) await updateTaskProgress(ctx.tx, task.id, last.progress, last.message || null);
    };
    const write = async (batch: Pending[]) => {
      await engine.change(null, async (ctx) => {
        // The run's lock first, like every other change of the run.
        await lockRun(ctx.tx, run.id);
        await record(ctx, batch);
      });
    };
    const take = (): Pending[] => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const batch = pending;
      pending = [];
      return batch;
    };
    const flush = (): Promise<void> => {
      const batch = take();
      if (batch.length > 0) {
        chain = chain.then(() => write(batch)).catch((error: unknown) => callLog.warn('could not record progress/log events', { err: error, dropped: batch.length }));
      }
      return chain;
    };
    const push = (e: Pending) => {
      pending.push(e);
      if (pending.length >= 200) void flush();
      else timer ??= setTimeout(() => void flush(), config.EVENT_FLUSH_INTERVAL_MS);
    };
    return {
      progress: (p: automationV1.Progress) => push({ kind: 'TASK_PROGRESS', progress: Math.max(0, Math.min(1, p.fraction)), message: p.message }),
      log: (l: automationV1.LogLine) => push({ kind: 'TASK_LOG', level: LOG_LEVELS[l.level] ?? 'INFO', message: l.message }),
      flush,
      /** Once the call has ended: waits for the batches being written and takes the rest (for the result's transaction). */
      async rest(): Promise<Pending[]> {
        await chain;
        return take();
      },
      record,
    };
  }

  /** Runs the Execute stream to its end and says how it ended; throws WorkerUnreachable for transport failures. */
  function consume(
    client: automationV1.AutomationServiceClient,
    request: automationV1.ExecuteRequest,
    call: InFlightCall,
    onEvent: { progress: (p: automationV1.Progress) => void; log: (l: automationV1.LogLine) => void },
  ): Promise<CallOutcome> {
    return new Promise<CallOutcome>((resolve, reject) => {
      let result: automationV1.TaskResult | undefined;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      const stream = serverStreamCall(client, client.execute, request, { internalToken: config.INTERNAL_TOKEN }, {
        deadlineMs: request.timeoutMs,
        signal: call.controller.signal,
        requestId: `att_${request.attemptId}`,
      });
      stream.on('data', (message: automationV1.ExecuteResponse) => {
        const event = message.event;
        if (event?.$case === 'progress') onEvent.progress(event.value);
        else if (event?.$case === 'log') onEvent.log(event.value);
        else if (event?.$case === 'result') result = event.value;
      });
      stream.on('error', (error: grpc.ServiceError) => {
        settle(() => {
          if (result) return resolve({ kind: 'result', result });
          if (call.controller.signal.aborted) return resolve({ kind: 'aborted' });
          if (error.code === grpc.status.DEADLINE_EXCEEDED) return resolve({ kind: 'timeout' });
          if (error.code === grpc.status.RESOURCE_EXHAUSTED) return resolve({ kind: 'busy', message: error.details || error.message });
          if (TRANSPORT_CODES.has(error.code)) return reject(new WorkerUnreachable(`${grpc.status[error.code]}: ${error.details || error.message}`));
          resolve({ kind: 'rejected', code: grpc.status[error.code], message: error.details || error.message, retryable: error.code !== grpc.status.INVALID_ARGUMENT });
        });
      });
      stream.on('end', () => {
        settle(() => {
          if (result) resolve({ kind: 'result', result });
          else if (call.controller.signal.aborted) resolve({ kind: 'aborted' });
          else reject(new WorkerUnreachable('the Execute stream ended without a result'));
        });
      });
    });
  }

  /** The outcome of an Execute call, to apply with its last buffered progress and log events. */
  interface AttemptResult {
    runId: string;
    /** The task as it was claimed: its id and step (a success needs no more; its statement checks the rest). */
    task: TaskRow;
    attemptId: string;
    outcome: AttemptOutcome;
    /** Records the attempt's events still buffered (the run is locked). */
    record: (ctx: TransitionContext) => Promise<void>;
  }

  /**
   * Applies results in one transaction, their runs locked in id order: the successes together
   * (statements for all of them, whose guards check the attempt and task are still RUNNING), then
   * the other outcomes one by one, each with its task read again after everything before it.
   */
  async function applyResults(ctx: TransitionContext, results: readonly AttemptResult[]): Promise<Array<{ applied: boolean; reason?: string }>> {
    const runs = await lockRuns(
      ctx.tx,
      results.map((r) => r.runId),
    );
    const answers: Array<{ applied: boolean; reason?: string }> = results.map(() => ({ applied: false, reason: 'run gone' }));
    const successes: Array<{ index: number; success: AttemptSuccess }> = [];
    const others: number[] = [];
    const seenTasks = new Set<string>();
    for (const [index, result] of results.entries()) {
      const run = runs.get(result.runId);
      if (!run) continue;
      // Two results for one task (a duplicate delivery) go the slow way: the second reads the task again.
      if (result.outcome.kind === 'succeeded' && !seenTasks.has(result.task.id)) {
        successes.push({ index, success: { run, task: result.task, attemptId: result.attemptId, output: result.outcome.output, durationMs: result.outcome.durationMs } });
      } else {
        others.push(index);
      }
      seenTasks.add(result.task.id);
    }
    for (const { index } of successes) await (results[index] as AttemptResult).record(ctx);
    const applied = await applySuccesses(
      ctx,
      successes.map((s) => s.success),
    );
    successes.forEach(({ index }, i) => {
      const outcome = applied[i] as OutcomeApplied;
      answers[index] = outcome;
      runs.set(outcome.run.id, outcome.run);
    });
    // A failure or a lost attempt may change other tasks of its run (cancel them, queue a new attempt).
    for (const index of others) {
      const result = results[index] as AttemptResult;
      const run = runs.get(result.runId) as RunRow;
      const task = (await tasksByIds(ctx.tx, [result.task.id])).get(result.task.id);
      if (task?.runId !== run.id) {
        answers[index] = { applied: false, reason: 'task gone' };
        continue;
      }
      await result.record(ctx);
      const outcome = await applyAttemptOutcome(ctx, run, task, result.attemptId, result.outcome);
      runs.set(run.id, outcome.run);
      answers[index] = outcome;
    }
    return answers;
  }

  // Results that arrive while a result transaction runs go together into the next one (the
  // siblings of a fan-out finishing together no longer queue on their run's lock one by one).
  const applyResult = createBatcher<AttemptResult, { applied: boolean; reason?: string }>({
    apply: (results) => engine.change(null, (ctx) => applyResults(ctx, results)),
    maxBatch: BATCH_MAX,
    parallel: BATCHES_AT_ONCE,
    onBatchFailure: (error, size) => log.warn('a batch of results failed: applying them one by one', { err: error, size }),
  });

  async function execute(c: Extract<Claim, { kind: 'claimed' }>): Promise<void> {
    const { run, task, attempt, worker, input } = c;
    // The attempt's span, under the request that started the run; the worker's span nests under it.
    const traced = startSpan(`execute ${task.capability}`, run.traceparent ?? undefined, SpanKind.CLIENT, {
      'orchestra.run_id': run.id,
      'orchestra.task_id': task.id,
      'orchestra.step_id': task.stepId,
      'orchestra.attempt_id': attempt.id,
      'orchestra.attempt': attempt.attempt,
      'orchestra.worker_id': worker.id,
    });
    const callLog = log.child({ runId: run.id, orgId: run.orgId, traceId: traceIdOf(traced.traceparent), taskId: task.id, stepId: task.stepId, attemptId: attempt.id, attempt: attempt.attempt, workerId: worker.id, capability: task.capability });
    // One info line per attempt, when it ends (with the worker and how long it took); the start is
    // in the run's events (RUNNING on worker X) and at debug here.
    callLog.debug('task attempt dispatched', { endpoint: worker.endpoint, timeoutMs: task.timeoutMs });
    const call = cancellations.track(attempt.id);
    executing.set(task.pool, (executing.get(task.pool) ?? 0) + 1);
    const events = createEventBuffer(run, task, attempt, callLog);
    const startedAt = Date.now();
    const endpoint = workerClients.get(worker.endpoint);
    const request: automationV1.ExecuteRequest = {
      taskId: task.id,
      attemptId: attempt.id,
      runId: run.id,
      orgId: run.orgId,
      stepId: task.stepId,
      capability: task.capability,
      input,
      attempt: attempt.attempt - task.attemptsAtReset,
      timeoutMs: task.timeoutMs,
      traceparent: traced.traceparent,
    };
    let outcome: AttemptOutcome | undefined;
    let label: string;
    try {
      const ended = (await endpoint.breaker.fire(() => consume(endpoint.client, request, call, events))) as CallOutcome;
      label = ended.kind;
      switch (ended.kind) {
        case 'result': {
          const r = ended.result.outcome;
          const durationMs = Number(ended.result.durationMs) || Date.now() - startedAt;
          if (r?.$case === 'success') outcome = { kind: 'succeeded', output: r.value.output ?? null, durationMs };
          else if (r?.$case === 'failure') outcome = { kind: 'failed', error: { code: r.value.code || 'EXECUTOR_ERROR', message: r.value.message, retryable: r.value.retryable }, durationMs };
          else outcome = { kind: 'failed', error: { code: 'EMPTY_RESULT', message: 'the worker sent a result with no outcome', retryable: true }, durationMs };
          break;
        }
        case 'timeout':
          outcome = { kind: 'failed', error: { code: 'TIMEOUT', message: `step "${task.stepId}" timed out after ${task.timeoutMs} ms`, retryable: true }, durationMs: Date.now() - startedAt };
          break;
        case 'busy':
          workerClients.markSuspect(worker.id, config.DISPATCH_RETRY_DELAY_MS * 4);
          outcome = { kind: 'lost', error: { code: 'WORKER_BUSY', message: `worker ${worker.id} had no free slot: ${ended.message}`, retryable: true }, countsAsLost: false };
          break;
        case 'rejected':
          outcome = { kind: 'failed', error: { code: `WORKER_REJECTED_${ended.code}`, message: `worker ${worker.id} refused the task: ${ended.message}`, retryable: ended.retryable }, durationMs: Date.now() - startedAt };
          break;
        case 'aborted':
          // Cancelled or given up elsewhere (the transaction that did so already settled the attempt),
          // or this process is shutting down: then the attempt is handed back.
          outcome = call.reason === 'shutdown' ? { kind: 'lost', error: { code: 'DISPATCHER_STOPPED', message: 'the dispatcher shut down; running it again', retryable: true }, countsAsLost: false } : undefined;
          break;
      }
    } catch (error) {
      label = 'lost';
      const message = error instanceof Error ? error.message : String(error);
      const breakerOpen = (error as { code?: string }).code === 'EOPENBREAKER';
      workerClients.markSuspect(worker.id, config.WORKER_LEASE_TTL_MS);
      outcome = {
        kind: 'lost',
        error: { code: breakerOpen ? 'WORKER_CIRCUIT_OPEN' : 'WORKER_UNAVAILABLE', message: `worker ${worker.id} (${worker.endpoint}): ${message}`, retryable: true },
        countsAsLost: !breakerOpen,
      };
    } finally {
      cancellations.untrack(attempt.id);
      executing.set(task.pool, (executing.get(task.pool) ?? 1) - 1);
    }
    executions.observe({ outcome: label }, (Date.now() - startedAt) / 1000);
    endSpan(traced.span, {
      attributes: { 'orchestra.outcome': outcome?.kind ?? 'stopped' },
      failure: outcome !== undefined && outcome.kind !== 'succeeded' ? `${outcome.error.code}: ${outcome.error.message}` : undefined,
    });
    if (outcome === undefined) {
      await events.flush();
      callLog.info('task attempt stopped', { reason: call.reason });
    } else {
      const rest = await events.rest();
      const applied = await applyResult({ runId: run.id, task, attemptId: attempt.id, outcome, record: (ctx) => events.record(ctx, rest) });
      if (applied.applied) {
        const fields = { outcome: outcome.kind, durationMs: Date.now() - startedAt, endpoint: worker.endpoint, ...(outcome.kind === 'succeeded' ? {} : { error: outcome.error }) };
        if (outcome.kind === 'succeeded') callLog.info('task attempt succeeded', fields);
        else callLog.warn(outcome.kind === 'lost' ? 'task attempt lost' : 'task attempt failed', fields);
      } else {
        callLog.info('task attempt result ignored', { outcome: outcome.kind, reason: applied.reason });
      }
    }
    // A slot is free on this worker.
    slotFreed(task.pool);
  }

  const processor = async (job: Job<AttemptJob>, token?: string): Promise<void> => {
    const { attemptId, runId } = job.data;
    const pool = job.queueName.replace(/^tasks-/, '');
    let decision = await claim(job.data);
    for (let looks = 1; decision.kind === 'wait' && decision.cause === 'no-slot' && looks < MAX_LOCAL_SLOT_WAITS && !draining && (executing.get(pool) ?? 0) > 0; looks += 1) {
      claims.inc({ decision: 'wait' });
      if (!(await waitForSlot(pool, config.DISPATCH_RETRY_DELAY_MS))) break;
      decision = await claim(job.data);
    }
    claims.inc({ decision: decision.kind });
    if (decision.kind === 'wait') {
      const delayMs = decision.cause === 'backoff' ? decision.delayMs : waitDelay(pool, attemptId);
      if (decision.cause === 'no-slot') log.debug('attempt waits for a worker', { attemptId, runId, reason: decision.reason, delayMs });
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError(decision.reason);
    }
    doneWaiting(pool, attemptId);
    if (decision.kind === 'drop') {
      log.debug('queued attempt dropped', { attemptId, runId, reason: decision.reason });
      return;
    }
    await execute(decision);
  };

  return {
    ensurePool(pool, slots) {
      if (draining) return;
      const concurrency = slots === undefined ? config.DISPATCH_CONCURRENCY : Math.max(1, Math.min(slots, config.DISPATCH_CONCURRENCY));
      const existing = consumers.get(pool);
      if (existing) {
        if (slots !== undefined && existing.concurrency !== concurrency) {
          existing.concurrency = concurrency;
          log.info('pool concurrency changed', { pool, concurrency, slots });
        }
        return;
      }
      const consumer = new QueueWorker<AttemptJob>(queueNameOf(pool), processor, {
        connection,
        prefix,
        concurrency,
        // Stalls are handled by the attempt state machine; let BullMQ hand a stalled job back freely.
        maxStalledCount: 1_000,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 1_000 },
      });
      consumer.on('error', (err: Error) => log.warn('dispatcher queue error', { err, pool }));
      consumer.on('failed', (job, err: Error) => {
        if (err instanceof DelayedError || err.name === 'DelayedError') return;
        log.warn('dispatch of an attempt failed (BullMQ retries it; the reconciler backs it up)', { err, pool, attemptId: job?.data.attemptId });
      });
      consumers.set(pool, consumer);
      log.info('dispatching pool', { pool, queue: queueNameOf(pool), concurrency });
    },
    wake,
    async stop() {
      draining = true;
      for (const waiters of slotWaiters.values()) for (const waiter of [...waiters]) waiter(false);
      await Promise.allSettled([...consumers.values()].map((c) => c.pause(true)));
      const handBack = setTimeout(() => {
        const running = cancellations.inFlight();
        if (running.length > 0) log.warn('handing back running attempts at shutdown', { attemptIds: running.map((c) => c.attemptId) });
        for (const call of running) {
          if (call.reason === undefined) {
            call.reason = 'shutdown';
            call.controller.abort(new Error('dispatcher shutting down'));
          }
        }
      }, config.DRAIN_TIMEOUT_MS);
      handBack.unref();
      await Promise.allSettled([...consumers.values()].map((c) => c.close()));
      clearTimeout(handBack);
      consumers.clear();
    },
  };
}
