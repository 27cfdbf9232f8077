import { lockRuns, tasksByIds } from '../../store/dispatch';
import type { RunRow, TaskRow } from '../../store/rows';
import { applyAttemptOutcome, applySuccesses, type AttemptOutcome, type AttemptSuccess, type OutcomeApplied, type TransitionContext } from '../transitions';

/**
 * Applying the outcomes of Execute calls: results that arrive while a dispatch transaction runs go
 * together into the next one, with the claims pending (transactions.ts), so the siblings of a fan-out
 * finishing together no longer queue on their run's lock one by one. A new kind of outcome goes
 * through applyAttemptOutcome (transitions.ts).
 */

/** The outcome of an Execute call, to apply with its last buffered progress and log events. */
export interface AttemptResult {
  runId: string;
  /** The task as it was claimed: its id and step (a success needs no more; its statement checks the rest). */
  task: TaskRow;
  attemptId: string;
  outcome: AttemptOutcome;
  /** Records the attempt's events still buffered (the run is locked). */
  record: (ctx: TransitionContext) => Promise<void>;
}

export interface ResultApplied {
  applied: boolean;
  reason?: string;
}

/**
 * Applies results in one transaction, their runs locked in id order: the successes together
 * (statements for all of them, whose guards check the attempt and task are still RUNNING), then
 * the other outcomes one by one, each with its task read again after everything before it.
 */
export async function applyResults(ctx: TransitionContext, results: readonly AttemptResult[], locked?: Map<string, RunRow>): Promise<ResultApplied[]> {
  // `locked`: the runs, locked already by the transaction's first statement (lockRunsStatement).
  const runs =
    locked ??
    (await lockRuns(
      ctx.tx,
      results.map((r) => r.runId),
    ));
  const answers: ResultApplied[] = results.map(() => ({ applied: false, reason: 'run gone' }));
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
