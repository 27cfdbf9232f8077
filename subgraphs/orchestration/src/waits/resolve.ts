import type { ApprovalWait } from '../domain/wait-steps';
import { endAttempt } from '../store/attempts';
import type { ErrorInfo, RunRow } from '../store/rows';
import { claimTaskWait, startWaitAttempt, type TaskWaitRow, type WaitResolution } from '../store/task-waits';
import { findTask } from '../store/tasks';
import { applySuccesses, failTask, type TransitionContext } from '../engine/transitions';

/**
 * Ends a wait, in the caller's transaction that holds its run's lock (`run`): the wait row leaves
 * WAITING under a guard on that status and on its attempt still QUEUED (claimTaskWait), so whoever
 * comes second — a racing approver, a second replica's ticker, a duplicate event — changes nothing.
 * A wait that succeeds starts and completes its attempt like a worker's (its dependents are queued,
 * its run may end); one that fails fails its task and run like a task out of retries.
 */
export type WaitEnding =
  | { outcome: 'SUCCEED'; resolution: WaitResolution; message: string }
  | { outcome: 'FAIL'; resolution: WaitResolution; error: ErrorInfo };

export interface WaitEnded {
  /** False: the wait was no longer WAITING (someone else resolved it, or its run moved on). */
  ended: boolean;
  run: RunRow;
}

export async function endWait(ctx: TransitionContext, run: RunRow, wait: Pick<TaskWaitRow, 'attemptId' | 'taskId' | 'stepId'>, ending: WaitEnding, dueOnly = false): Promise<WaitEnded> {
  const claimed = await claimTaskWait(ctx.tx, wait.attemptId, ending.resolution, dueOnly);
  if (!claimed) return { ended: false, run };
  const task = await findTask(ctx.tx, wait.taskId);
  if (!task || task.currentAttemptId !== wait.attemptId) return { ended: false, run };
  if (ending.outcome === 'FAIL') {
    const attempt = await endAttempt(ctx.tx, wait.attemptId, ['QUEUED'], 'FAILED', ending.error);
    return { ended: true, run: await failTask(ctx, run, task, attempt ?? null, ending.error) };
  }
  if (!(await startWaitAttempt(ctx.tx, wait.attemptId, task.id))) return { ended: false, run };
  ctx.effects.event(run, { kind: 'TASK_STATUS', taskId: task.id, stepId: task.stepId, taskStatus: 'RUNNING', attemptId: wait.attemptId, attempt: task.attempts, message: ending.message });
  const [applied] = await applySuccesses(ctx, [{ run, task: { ...task, status: 'RUNNING' }, attemptId: wait.attemptId, output: ending.resolution.output }]);
  return { ended: true, run: applied?.run ?? run };
}

/** An approval's output, what downstream steps read ({{ steps.approve.output.decision }}). */
export const decisionOutput = (decision: 'APPROVED' | 'REJECTED', comment: string | null, decidedBy: string | null, at: Date, timedOut = false) => ({
  decision,
  comment,
  decidedBy,
  decidedAt: at.toISOString(),
  timedOut,
});

/** How an approval ends for a decision (a person's, or its timeout's), per the step's onReject. */
export function approvalEnding(
  policy: Pick<ApprovalWait, 'onReject'>,
  stepId: string,
  decision: 'APPROVED' | 'REJECTED',
  who: { display: string | null; userId: string | null },
  comment: string | null,
  timedOut = false,
): WaitEnding {
  const output = decisionOutput(decision, comment, who.display, new Date(), timedOut);
  const resolution: WaitResolution = { status: decision, output, decidedBy: who.display, decidedByUserId: who.userId, comment };
  const by = timedOut ? 'by its timeout' : `by ${who.display ?? 'someone'}`;
  const said = comment ? `: ${comment}` : '';
  if (decision === 'APPROVED') return { outcome: 'SUCCEED', resolution, message: `approved ${by}${said}` };
  if (policy.onReject === 'CONTINUE') return { outcome: 'SUCCEED', resolution, message: `rejected ${by}${said} (onReject CONTINUE: the run goes on)` };
  return {
    outcome: 'FAIL',
    resolution,
    error: { code: 'APPROVAL_REJECTED', message: `step "${stepId}" was rejected ${by}${said}`, retryable: false },
  };
}
