import { newId } from '@orchestra/lib';
import { FLOW_LIMITS, type ForEachPolicy } from '../domain/flow-control';
import { referencedSteps, resolveTemplates, TemplateError } from '../domain/templates';
import { waitReason } from '../domain/wait-reasons';
import { endAttempt, queueAttempts } from '../store/attempts';
import { succeededStepOutputs } from '../store/dispatch';
import { insertItemTasks, itemProgress, nextPendingItems, recordItemProgress, startForEachTask, succeedForEachTask } from '../store/for-each';
import { deleteOutbox } from '../store/outbox';
import type { AttemptRow, ErrorInfo, RunRow, TaskRow } from '../store/rows';
import { advanceAfterSteps, failTask, planAttempts, type TransitionContext } from './transitions';

/**
 * forEach fan-out (issue 10). A forEach step's task is queued like any other once its dependencies
 * have succeeded; when the dispatcher claims its attempt it does not look for a worker but expands
 * it, in the claim transaction under the run's lock: the list is resolved ({{ steps.list.output.files }}),
 * one statement writes an item task per element (up to 10,000, each with the step's retries, pool,
 * priority, keys and limits, and `{{ item }}` / `{{ itemIndex }}` for its input), the first
 * maxParallel of them are queued, and the step's task is RUNNING until they have all ended. Each item
 * that ends queues the next PENDING ones (QUEUED and RUNNING items never pass maxParallel); when none
 * is left the step's task succeeds with the list of its items' outputs in item order, and its
 * dependents go on as after any step. An item that fails after its retries fails the step and its run
 * (FAIL_RUN: the other items are cancelled) or leaves null in its place (CONTINUE).
 *
 * A dispatcher that dies mid-expansion wrote nothing (one transaction); a redelivered job finds the
 * attempt no longer QUEUED and is dropped, and an item index exists at most once (unique index), so
 * expanding twice (retryRun) adds only what is missing.
 */

/** The list of a forEach step's item outputs, at most (the step's output, which its dependents read). */
export const MAX_FOR_EACH_OUTPUT_BYTES = 16 * 1024 * 1024;

const describeValue = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/** Fails a forEach step's task before it expanded (its attempt never ran), with the error naming the step. */
async function failUnexpanded(ctx: TransitionContext, run: RunRow, attempt: AttemptRow, task: TaskRow, code: string, message: string): Promise<RunRow> {
  const error: ErrorInfo = { code, message: `step "${task.stepId}": ${message}`, retryable: false };
  const failed = await endAttempt(ctx.tx, attempt.id, ['QUEUED'], 'FAILED', error);
  await deleteOutbox(ctx.tx, [attempt.id]);
  return failTask(ctx, run, task, failed ?? attempt, error);
}

/**
 * Expands a forEach step's task whose attempt a claim found startable (`attempt` QUEUED, under the
 * run's lock). Resolves to the run as it is after (failed, when the list is not one).
 */
export async function expandForEach(ctx: TransitionContext, run: RunRow, attempt: AttemptRow, task: TaskRow): Promise<RunRow> {
  const policy = task.forEach as ForEachPolicy;
  let items: unknown;
  try {
    const steps = await succeededStepOutputs(ctx.tx, run.id, referencedSteps(policy.items));
    items = resolveTemplates(policy.items, { input: run.input, steps, run: { id: run.id } });
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return failUnexpanded(ctx, run, attempt, task, 'TEMPLATE_ERROR', `forEach.items: ${error.message}`);
  }
  if (!Array.isArray(items)) {
    return failUnexpanded(ctx, run, attempt, task, 'FOR_EACH_NOT_A_LIST', `forEach.items "${policy.items}" is ${describeValue(items)}, not a list`);
  }
  if (items.length > FLOW_LIMITS.forEachItems) {
    return failUnexpanded(ctx, run, attempt, task, 'FOR_EACH_TOO_MANY_ITEMS', `forEach.items "${policy.items}" has ${items.length} items; a forEach runs at most ${FLOW_LIMITS.forEachItems}`);
  }
  if (!(await startForEachTask(ctx.tx, task.id, attempt.id, items.length))) return run;
  ctx.effects.event(run, {
    kind: 'TASK_STATUS',
    taskId: task.id,
    stepId: task.stepId,
    taskStatus: 'RUNNING',
    attemptId: attempt.id,
    attempt: attempt.attempt,
    message: `forEach: ${items.length} items, at most ${policy.maxParallel} at once`,
  });
  await insertItemTasks(
    ctx.tx,
    task,
    items.map(() => newId()),
    items,
    waitReason('MAX_PARALLEL', `waits for one of step "${task.stepId}"'s ${policy.maxParallel} places (maxParallel)`, { stepId: task.stepId, maxParallel: policy.maxParallel }),
  );
  const runs = new Map([[run.id, run]]);
  const completed = await advanceForEach(ctx, runs, [task.id]);
  await advanceAfterSteps(ctx, runs, completed);
  return runs.get(run.id) as RunRow;
}

/**
 * After items of these forEach tasks ended (or they expanded): queues their next PENDING items up to
 * maxParallel, and ends the tasks whose items have all ended (succeeded with the list of outputs, or
 * failed when that list is too large). `runs` (locked) is updated in place. Resolves to the steps
 * that succeeded, by run, for the caller to advance their runs with (transitions.ts advanceAfterSteps).
 */
export async function advanceForEach(ctx: TransitionContext, runs: Map<string, RunRow>, parentIds: readonly string[]): Promise<Map<string, string[]>> {
  const completed = new Map<string, string[]>();
  for (const p of await itemProgress(ctx.tx, parentIds)) {
    const { parent } = p;
    const run = runs.get(parent.runId);
    if (!run || parent.status !== 'RUNNING' || !parent.forEach) continue;
    const done = p.succeeded + p.failed + p.cancelled;
    if (p.pending > 0) {
      const next = await nextPendingItems(ctx.tx, parent.id, parent.forEach.maxParallel - p.active);
      const attempts = planAttempts(ctx, run, next, {
        message: `item ${next[0]?.itemIndex ?? 0}… of step "${parent.stepId}" queued (${p.active + next.length} of at most ${parent.forEach.maxParallel} at once)`,
      });
      await queueAttempts(ctx.tx, attempts);
      await recordItemProgress(ctx.tx, parent.id, done, p.total);
      continue;
    }
    if (p.active > 0) {
      await recordItemProgress(ctx.tx, parent.id, done, p.total);
      continue;
    }
    const result = await succeedForEachTask(ctx.tx, parent.id, MAX_FOR_EACH_OUTPUT_BYTES);
    if (!result.succeeded) {
      const error: ErrorInfo = {
        code: 'FOR_EACH_OUTPUT_TOO_LARGE',
        message: `step "${parent.stepId}": the list of its ${p.total} items' outputs is ${result.bytes} bytes; at most ${MAX_FOR_EACH_OUTPUT_BYTES}`,
        retryable: false,
      };
      runs.set(run.id, await failTask(ctx, run, parent, null, error));
      continue;
    }
    ctx.effects.event(run, {
      kind: 'TASK_STATUS',
      taskId: parent.id,
      stepId: parent.stepId,
      taskStatus: 'SUCCEEDED',
      message: `forEach: ${p.succeeded} of ${p.total} items succeeded${p.failed + p.cancelled > 0 ? ` (${p.failed + p.cancelled} failed: null in their places)` : ''}`,
    });
    completed.set(run.id, [...(completed.get(run.id) ?? []), parent.stepId]);
  }
  return completed;
}
