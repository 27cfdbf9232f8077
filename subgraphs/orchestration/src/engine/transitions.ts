import { AppError, newId, type PoolClient } from '@orchestra/lib';
import { backoffDelayMs } from '../domain/backoff';
import { waitReason } from '../domain/wait-reasons';
import { canAttemptTransition, canRunTransition, canTaskTransition, isTerminalTask, type AttemptStatus, type TaskStatus } from '../domain/states';
import { endAttempt, endAttempts, liveAttemptsOfTasks, queueAttempts, succeedAttempts, type NewAttempt } from '../store/attempts';
import { insertDeadLetter } from '../store/dead-letters';
import { deleteOutbox } from '../store/outbox';
import type { AttemptRow, ErrorInfo, RunRow, TaskRow } from '../store/rows';
import { updateRunsStatus, type RunStatusChange } from '../store/runs';
import { succeedAttemptsAndAdvance } from '../store/successes';
import { advanceRuns, findTask, finishTask, finishTasks, listTasksOfRuns, recordTaskError, type RunProgress } from '../store/tasks';
import type { TransactionEffects } from './effects';
import { advanceForEach } from './for-each';

/**
 * The state machine of runs, tasks and attempts, applied inside one transaction that holds the
 * run's row lock. Each function checks the move against domain/states.ts, changes the rows with a
 * guard on their current status, records the run events, and notes what to do after commit.
 */
export interface TransitionContext {
  tx: PoolClient;
  effects: TransactionEffects;
  /** Lost attempts (dead worker/dispatcher) a task survives outside its retry budget. */
  maxLostAttempts: number;
  random?: () => number;
}

const illegal = (what: string, from: string, to: string) => new AppError('INTERNAL', `illegal ${what} transition ${from} → ${to}`, { reason: 'ILLEGAL_TRANSITION' });

export async function setRunStatus(ctx: TransitionContext, run: RunRow, change: RunStatusChange & { message?: string | null }): Promise<RunRow> {
  if (run.status === change.status) return run;
  return (await setRunsStatus(ctx, [run], change)).get(run.id) as RunRow;
}

/** setRunStatus for several runs (locked) taking the same change, in one statement; by id (a run already in that status as it was). */
export async function setRunsStatus(ctx: TransitionContext, runs: readonly RunRow[], change: RunStatusChange & { message?: string | null }): Promise<Map<string, RunRow>> {
  const moving = runs.filter((run) => run.status !== change.status);
  for (const run of moving) if (!canRunTransition(run.status, change.status)) throw illegal('run', run.status, change.status);
  const { message = null, ...rest } = change;
  const updated = await updateRunsStatus(
    ctx.tx,
    moving.map((run) => run.id),
    rest,
  );
  const answers = new Map(runs.map((run) => [run.id, run]));
  for (const run of moving) {
    const after = updated.get(run.id);
    if (!after) throw new Error(`run ${run.id} vanished while changing its status`);
    ctx.effects.event(run, { kind: 'RUN_STATUS', runStatus: change.status, message, error: change.error ?? null });
    notifyRunFinished(ctx, after);
    answers.set(run.id, after);
  }
  return answers;
}

/** A run that ended FAILED or SUCCEEDED is an event for the notifications service (in this transaction). */
function notifyRunFinished(ctx: TransitionContext, run: RunRow): void {
  const startedBy = run.startedByUserId ?? undefined;
  if (run.status === 'FAILED') {
    ctx.effects.notify({ type: 'run.failed', orgId: run.orgId, data: { runId: run.id, workflowId: run.workflowId, error: run.error?.message.slice(0, 2000), startedBy } });
  } else if (run.status === 'SUCCEEDED') {
    ctx.effects.notify({ type: 'run.succeeded', orgId: run.orgId, data: { runId: run.id, workflowId: run.workflowId, startedBy } });
  }
}

/**
 * Records a run status change that a statement of the dispatch path made along with its other
 * writes (its SQL guards the status it moves from), checked against the state machine like setRunStatus.
 */
export function runStatusChanged(ctx: TransitionContext, before: RunRow, after: RunRow, message: string | null = null): RunRow {
  if (!canRunTransition(before.status, after.status)) throw illegal('run', before.status, after.status);
  ctx.effects.event(after, { kind: 'RUN_STATUS', runStatus: after.status, message, error: after.error });
  notifyRunFinished(ctx, after);
  return after;
}

/** What a task event needs of a task (a task being created has no row yet). */
type TaskRef = Pick<TaskRow, 'id' | 'stepId'>;
/** What giving a task its next attempt needs of it. */
export type QueueableTask = Pick<TaskRow, 'id' | 'stepId' | 'status' | 'attempts' | 'pool'> & { priority?: number; wait?: TaskRow['wait'] | undefined };

function taskEvent(
  ctx: TransitionContext,
  run: Pick<RunRow, 'id' | 'orgId' | 'workflowId'>,
  task: TaskRef,
  status: TaskStatus,
  fields: { attempt?: Pick<AttemptRow, 'id' | 'attempt'> | null; message?: string | null; error?: ErrorInfo | null } = {},
) {
  ctx.effects.event(run, {
    kind: 'TASK_STATUS',
    taskId: task.id,
    stepId: task.stepId,
    taskStatus: status,
    attemptId: fields.attempt?.id ?? null,
    attempt: fields.attempt?.attempt ?? null,
    message: fields.message ?? null,
    error: fields.error ?? null,
  });
}

export const tasksOfRun = (ctx: TransitionContext, runId: string): Promise<TaskRow[]> => listTasksOfRuns(ctx.tx, [runId]);

export interface QueueOptions {
  delayMs?: number;
  message?: string;
  error?: ErrorInfo | null;
}

/**
 * The next attempts of tasks of a run, available after `delayMs`: records their QUEUED events and
 * the enqueues to do after commit, and returns the attempts for the caller to write (queueAttempts,
 * or the statement that creates a run).
 */
export function planAttempts(ctx: TransitionContext, run: Pick<RunRow, 'id' | 'orgId' | 'workflowId'>, tasks: readonly QueueableTask[], options: QueueOptions = {}): NewAttempt[] {
  const to: TaskStatus = 'QUEUED';
  for (const task of tasks) if (task.status !== 'PENDING' && !canTaskTransition(task.status, to)) throw illegal('task', task.status, to);
  const delayMs = options.delayMs ?? 0;
  const availableAt = new Date(Date.now() + delayMs);
  return tasks.map((task): NewAttempt => {
    const number = task.attempts + 1;
    const reason = delayMs > 0 ? waitReason('RETRY_BACKOFF', `attempt ${number} starts after its retry delay (${delayMs} ms)`, { until: availableAt.toISOString(), attempt: number }) : null;
    const attempt: NewAttempt = { id: newId(), orgId: run.orgId, runId: run.id, taskId: task.id, attempt: number, pool: task.pool, availableAt, waitReason: reason };
    taskEvent(ctx, run, task, to, { attempt: { id: attempt.id, attempt: attempt.attempt }, message: options.message ?? null, error: options.error ?? null });
    // A wait step holds no worker slot: its attempt is not enqueued, its wait is recorded before the commit (waits/arm.ts).
    if (task.wait) {
      ctx.effects.waits.push({ attemptId: attempt.id, runId: run.id, taskId: task.id });
      return attempt;
    }
    ctx.effects.enqueue.push({ attemptId: attempt.id, orgId: run.orgId, runId: run.id, taskId: task.id, pool: task.pool, availableAt, ...(task.priority === undefined ? {} : { priority: task.priority }) });
    return attempt;
  });
}

/** Gives tasks of a run their next attempt (one statement), written to the queue outbox, available after `delayMs`. */
export async function queueAttemptsOf(ctx: TransitionContext, run: RunRow, tasks: readonly QueueableTask[], options: QueueOptions = {}): Promise<NewAttempt[]> {
  const attempts = planAttempts(ctx, run, tasks, options);
  await queueAttempts(ctx.tx, attempts);
  return attempts;
}

/** Gives a task a new attempt, written to the queue outbox, available after `delayMs`. */
export async function queueAttempt(ctx: TransitionContext, run: RunRow, task: TaskRow, options: QueueOptions = {}): Promise<NewAttempt> {
  return (await queueAttemptsOf(ctx, run, [task], options))[0] as NewAttempt;
}

/** Queues every PENDING task whose dependencies have all succeeded (fan-out and fan-in). */
export async function queueReadyTasks(ctx: TransitionContext, run: RunRow, tasks: readonly TaskRow[]): Promise<TaskRow[]> {
  // The steps' own tasks: forEach items are queued by their step (for-each.ts), maxParallel at a time.
  const steps = tasks.filter((t) => t.parentTaskId === null || t.parentTaskId === undefined);
  const succeeded = new Set(steps.filter((t) => t.status === 'SUCCEEDED').map((t) => t.stepId));
  const ready = steps.filter((t) => t.status === 'PENDING' && t.dependsOn.every((d) => succeeded.has(d)));
  await queueAttemptsOf(ctx, run, ready);
  return ready;
}

/**
 * Ends the run's open tasks CANCELLED (and cancels their live attempts); RUNNING attempts are noted
 * for cancellation after commit (their Execute call and worker are told). `error`, when given, is
 * what each of them shows as its error (why it did not run, e.g. an upstream step failed).
 */
export async function cancelOpenTasks(ctx: TransitionContext, run: RunRow, tasks: readonly TaskRow[], reason: string, error: ErrorInfo | null = null): Promise<void> {
  await cancelOpenTasksOfRuns(ctx, [{ run, tasks }], reason, error);
}

/** cancelOpenTasks for several runs (locked) at once: the same statements, whatever their number. */
export async function cancelOpenTasksOfRuns(
  ctx: TransitionContext,
  runs: ReadonlyArray<{ run: RunRow; tasks: readonly TaskRow[] }>,
  reason: string,
  error: ErrorInfo | null = null,
): Promise<void> {
  const open = runs.flatMap(({ run, tasks }) => tasks.filter((t) => !isTerminalTask(t.status)).map((task) => ({ run, task })));
  if (open.length === 0) return;
  const live = (await liveAttemptsOfTasks(ctx.tx, open.map((o) => o.task.id))).filter((a) => canAttemptTransition(a.status, 'CANCELLED'));
  const ended = new Set((await endAttempts(ctx.tx, live.map((a) => a.id), ['QUEUED', 'RUNNING'], 'CANCELLED', { code: 'CANCELLED', message: reason })).map((a) => a.id));
  for (const attempt of live) {
    if (ended.has(attempt.id) && attempt.status === 'RUNNING') ctx.effects.cancel.push({ attemptId: attempt.id, workerId: attempt.workerId, reason });
  }
  await deleteOutbox(ctx.tx, live.map((a) => a.id));
  const finished = new Set((await finishTasks(ctx.tx, open.map((o) => o.task.id), 'CANCELLED', error)).map((t) => t.id));
  const liveById = new Map(live.map((a) => [a.id, a]));
  for (const { run, task } of open) {
    if (finished.has(task.id)) taskEvent(ctx, run, task, 'CANCELLED', { message: reason, attempt: (task.currentAttemptId && liveById.get(task.currentAttemptId)) || null });
  }
}

/** A task is out of luck: FAILED, into the dead-letter list, and its run fails (the rest is cancelled). */
export async function failTask(ctx: TransitionContext, run: RunRow, task: TaskRow, attempt: AttemptRow | null, error: ErrorInfo): Promise<RunRow> {
  if (!canTaskTransition(task.status, 'FAILED')) throw illegal('task', task.status, 'FAILED');
  const parent = task.parentTaskId ? await findTask(ctx.tx, task.parentTaskId) : undefined;
  if (parent?.forEach?.onItemFailure === 'CONTINUE' && parent.status === 'RUNNING') return failItemAndContinue(ctx, run, parent, task, attempt, error);
  await finishTask(ctx.tx, task.id, 'FAILED', error);
  const used = task.attempts - task.attemptsAtReset;
  const what = parent ? `item ${task.itemIndex ?? 0} of step "${task.stepId}"` : `step "${task.stepId}"`;
  taskEvent(ctx, run, task, 'FAILED', { attempt, error, message: `${what} failed after ${used} attempt${used === 1 ? '' : 's'}: ${error.message}` });
  await insertDeadLetter(ctx.tx, { id: newId(), orgId: run.orgId, runId: run.id, taskId: task.id, attemptId: attempt?.id ?? null, stepId: task.stepId, attempts: used, error });
  ctx.effects.notify({ type: 'task.dead_lettered', orgId: run.orgId, data: { runId: run.id, taskId: task.id, stepId: task.stepId, error: error.message.slice(0, 2000) } });
  let cause = error;
  if (parent && !isTerminalTask(parent.status)) {
    // FAIL_RUN: the step fails with its item, and its run with it (its other items are cancelled below).
    cause = { ...error, message: `item ${task.itemIndex ?? 0} failed: ${error.message}` };
    await finishTask(ctx.tx, parent.id, 'FAILED', cause);
    taskEvent(ctx, run, parent, 'FAILED', { error: cause, message: `step "${parent.stepId}" failed: item ${task.itemIndex ?? 0} failed (onItemFailure FAIL_RUN)` });
  }
  const remaining = (await tasksOfRun(ctx, run.id)).filter((t) => t.id !== task.id);
  await cancelOpenTasks(ctx, run, remaining, `run failed: step "${task.stepId}" failed`, {
    code: 'UPSTREAM_FAILED',
    message: `not run: step "${task.stepId}" failed (retryRun runs it again)`,
    stepId: task.stepId,
    retryable: true,
  });
  const runError: ErrorInfo = { code: cause.code, message: `step "${task.stepId}" failed: ${cause.message}`, stepId: task.stepId, retryable: cause.retryable ?? null };
  return setRunStatus(ctx, run, { status: 'FAILED', finished: true, error: runError, message: runError.message });
}

/** An item of a forEach step with onItemFailure CONTINUE failed after its retries: it ends FAILED (null in the step's output) and the step goes on. */
async function failItemAndContinue(ctx: TransitionContext, run: RunRow, parent: TaskRow, item: TaskRow, attempt: AttemptRow | null, error: ErrorInfo): Promise<RunRow> {
  await finishTask(ctx.tx, item.id, 'FAILED', error);
  const used = item.attempts - item.attemptsAtReset;
  taskEvent(ctx, run, item, 'FAILED', { attempt, error, message: `item ${item.itemIndex ?? 0} of step "${item.stepId}" failed after ${used} attempt${used === 1 ? '' : 's'} (onItemFailure CONTINUE: the step goes on): ${error.message}` });
  const runs = new Map([[run.id, run]]);
  await advanceAfterSteps(ctx, runs, await advanceForEach(ctx, runs, [parent.id]));
  return runs.get(run.id) as RunRow;
}

export type AttemptOutcome =
  | { kind: 'succeeded'; output: unknown; durationMs?: number }
  /** The task itself failed (its executor, its timeout, or the worker refused it). */
  | { kind: 'failed'; error: ErrorInfo; durationMs?: number }
  /** Not the task's fault: the worker or the dispatcher went away under it. */
  | { kind: 'lost'; error: ErrorInfo; countsAsLost: boolean };

export interface OutcomeApplied {
  applied: boolean;
  run: RunRow;
  /** Why nothing changed, when applied is false. */
  reason?: string;
}

export interface AttemptSuccess {
  run: RunRow;
  task: TaskRow;
  attemptId: string;
  output: unknown;
  durationMs?: number | undefined;
}

/**
 * Applies RUNNING attempts that succeeded, of one run or several, with a statement for all their
 * attempts and tasks and what their runs can do next (dependents now ready, runs now complete; two
 * statements when forEach items are among them) and one queueing those dependents. Each applies
 * exactly once, like applyAttemptOutcome. Resolves to one answer per success, with its run as it is after all of them.
 */
export async function applySuccesses(ctx: TransitionContext, successes: readonly AttemptSuccess[]): Promise<OutcomeApplied[]> {
  const rows = successes.map((s) => ({ attemptId: s.attemptId, taskId: s.task.id, output: s.output, durationMs: s.durationMs }));
  // Steps' own tasks only (the common case): the attempts, tasks and what their runs do next in one
  // statement. A forEach item's step advances first (for-each.ts), so items take the two statements.
  const merged = successes.some((s) => s.task.parentTaskId) ? undefined : await succeedAttemptsAndAdvance(ctx.tx, rows);
  const ended = merged ? merged.ended : await succeedAttempts(ctx.tx, rows);
  const runs = new Map<string, RunRow>();
  const stepsByRun = new Map<string, string[]>();
  /** forEach tasks some of whose items succeeded. */
  const itemParents = new Set<string>();
  const answered = new Set<string>();
  const answers = successes.map((s): { applied: boolean; reason?: string } => {
    const done = ended.get(s.attemptId);
    if (!done || answered.has(s.attemptId)) return { applied: false, reason: 'attempt is no longer RUNNING' };
    answered.add(s.attemptId);
    if (!done.taskSucceeded) return { applied: false, reason: 'task moved on to another attempt' };
    taskEvent(ctx, s.run, s.task, 'SUCCEEDED', { attempt: done.attempt });
    runs.set(s.run.id, s.run);
    if (s.task.parentTaskId) itemParents.add(s.task.parentTaskId);
    else stepsByRun.set(s.run.id, [...(stepsByRun.get(s.run.id) ?? []), s.task.stepId]);
    return { applied: true };
  });
  if (merged) {
    await advanceWith(ctx, runs, merged.progress);
  } else {
    // Items of forEach steps: their step goes on (next items queued) or, all ended, succeeds.
    for (const [runId, steps] of await advanceForEach(ctx, runs, [...itemParents])) stepsByRun.set(runId, [...(stepsByRun.get(runId) ?? []), ...steps]);
    await advanceAfterSteps(ctx, runs, stepsByRun);
  }
  return successes.map((s, i) => ({ ...(answers[i] as { applied: boolean; reason?: string }), run: runs.get(s.run.id) ?? s.run }));
}

/**
 * After steps of runs (`runs`, locked) succeeded: queues their dependents that are now ready, and
 * ends runs none of whose steps is open (SUCCEEDED, their output the outputs of the steps nothing
 * depends on). `runs` is updated in place.
 */
export async function advanceAfterSteps(ctx: TransitionContext, runs: Map<string, RunRow>, stepsByRun: ReadonlyMap<string, readonly string[]>): Promise<void> {
  await advanceWith(ctx, runs, await advanceRuns(ctx.tx, stepsByRun));
}

/** advanceAfterSteps once the runs' progress was read (advanceRuns, or the statement that also succeeded the steps). */
async function advanceWith(ctx: TransitionContext, runs: Map<string, RunRow>, progress: ReadonlyMap<string, RunProgress>): Promise<void> {
  const next: NewAttempt[] = [];
  for (const [runId, p] of progress) next.push(...planAttempts(ctx, runs.get(runId) as RunRow, p.ready));
  await queueAttempts(ctx.tx, next);
  for (const [runId, p] of progress) {
    const run = runs.get(runId) as RunRow;
    if (p.finishedRun) {
      runs.set(runId, runStatusChanged(ctx, run, p.finishedRun));
    } else if (p.openTasks === 0 && (run.status === 'QUEUED' || run.status === 'RUNNING')) {
      // Every task succeeded but the run was not RUNNING: its output is the outputs of the steps nothing depends on.
      const started = run.status === 'QUEUED' ? await setRunStatus(ctx, run, { status: 'RUNNING', started: true }) : run;
      runs.set(runId, await setRunStatus(ctx, started, { status: 'SUCCEEDED', finished: true, output: p.output, error: null }));
    }
  }
}

/**
 * Applies what happened to a RUNNING attempt: exactly once, because the attempt moves out of
 * RUNNING under the guard of its status in this transaction (a duplicate finds it ended).
 */
export async function applyAttemptOutcome(ctx: TransitionContext, run: RunRow, task: TaskRow, attemptId: string, outcome: AttemptOutcome): Promise<OutcomeApplied> {
  if (outcome.kind === 'succeeded') {
    return (await applySuccesses(ctx, [{ run, task, attemptId, output: outcome.output, durationMs: outcome.durationMs }]))[0] as OutcomeApplied;
  }

  const to: AttemptStatus = outcome.kind === 'failed' ? 'FAILED' : 'LOST';
  const attempt = await endAttempt(ctx.tx, attemptId, ['RUNNING'], to, outcome.error, outcome.kind === 'lost' ? undefined : outcome.durationMs);
  if (!attempt) return { applied: false, run, reason: 'attempt is no longer RUNNING' };
  if (task.currentAttemptId !== attemptId || task.status !== 'RUNNING') return { applied: false, run, reason: 'task moved on to another attempt' };

  if (outcome.kind === 'lost') {
    const lost = task.lostAttempts + (outcome.countsAsLost ? 1 : 0);
    if (lost > ctx.maxLostAttempts) {
      const finalError: ErrorInfo = { code: 'WORKER_LOST', message: `lost ${lost} attempts to workers that went away (last: ${outcome.error.message})`, retryable: false };
      return { applied: true, run: await failTask(ctx, run, { ...task, lostAttempts: lost }, attempt, finalError) };
    }
    await recordTaskError(ctx.tx, task.id, outcome.error, outcome.countsAsLost);
    await queueAttempt(ctx, run, task, { message: `attempt ${attempt.attempt} was lost (${outcome.error.message}); running it again`, error: outcome.error });
    return { applied: true, run };
  }

  const used = task.attempts - task.attemptsAtReset;
  const retryable = outcome.error.retryable !== false;
  if (retryable && used < task.maxAttempts) {
    const delayMs = backoffDelayMs(task.retry, used, ctx.random);
    await recordTaskError(ctx.tx, task.id, outcome.error, false);
    await queueAttempt(ctx, run, task, {
      delayMs,
      error: outcome.error,
      message: `attempt ${used} of ${task.maxAttempts} failed (${outcome.error.code}: ${outcome.error.message}); retrying in ${delayMs} ms`,
    });
    return { applied: true, run };
  }
  return { applied: true, run: await failTask(ctx, run, task, attempt, outcome.error) };
}
