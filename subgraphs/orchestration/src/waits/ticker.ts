import { newRequestId, type Logger, type Principal } from '@orchestra/lib';
import type { ApprovalWait, EventWait } from '../domain/wait-steps';
import { createDueRowsLoop, duePass, type DueRows, type DueRowsLoop } from '../engine/due-rows';
import type { Engine } from '../engine/engine';
import type { TransitionContext } from '../engine/transitions';
import type { RunRow } from '../store/rows';
import { lockRun } from '../store/runs';
import { dueTaskWaits, findTaskWait, waitDeadlineInMs, type TaskWaitRow } from '../store/task-waits';
import { findTask } from '../store/tasks';
import { approvalEnding, endWait, type WaitEnding } from './resolve';

/**
 * The wait ticker: every orchestration replica runs one. A pass reads the waits whose deadline has
 * come (PostgreSQL is the truth: after a restart the next pass finds them; nothing is kept in
 * memory) and ends each in a transaction of its organization that takes its run's lock (the loop is
 * engine/due-rows.ts, shared with the schedule ticker): a
 * sleepUntil's time came (ELAPSED, output { until }), an approval's or event's timeout ran out
 * (TIMED_OUT, then its onTimeout). The wait moves out of WAITING under a guard on that status and on
 * its deadline, so two replicas never end it twice; one that fails is retried on the next pass.
 */

/** Waits one pass ends, at most (a pass that finds this many runs again at once). */
const PASS_SIZE = 100;

/** The wait ticker's loop (engine/due-rows.ts); tickOnce resolves to the waits it ended. */
export type WaitTicker = DueRowsLoop;

const system = (orgId: string): Principal => ({ kind: 'service', id: 'wait-ticker', orgId, scopes: [], display: 'wait timeout', requestId: newRequestId() });

/** How a wait ends at its deadline. */
export function endingAtDeadline(wait: TaskWaitRow, policy: ApprovalWait | EventWait | undefined): WaitEnding {
  const at = wait.deadline.toISOString();
  if (wait.kind === 'SLEEP_UNTIL') return { outcome: 'SUCCEED', resolution: { status: 'ELAPSED', output: { until: at } }, message: `its time ${at} came` };
  const timedOut = { status: 'TIMED_OUT' as const, decidedBy: null };
  if (wait.kind === 'APPROVAL' && policy?.kind === 'APPROVAL' && (wait.onTimeout === 'APPROVE' || wait.onTimeout === 'REJECT')) {
    const ending = approvalEnding(policy, wait.stepId, wait.onTimeout === 'APPROVE' ? 'APPROVED' : 'REJECTED', { display: null, userId: null }, null, true);
    return { ...ending, resolution: { ...ending.resolution, ...timedOut } };
  }
  if (wait.kind === 'EVENT' && wait.onTimeout === 'CONTINUE') {
    return { outcome: 'SUCCEED', resolution: { ...timedOut, output: null }, message: `no event "${wait.eventName ?? ''}" came by ${at} (onTimeout CONTINUE: the run goes on)` };
  }
  const what = wait.kind === 'APPROVAL' ? 'no decision' : `no event "${wait.eventName ?? ''}"`;
  return {
    outcome: 'FAIL',
    resolution: { ...timedOut, output: null },
    error: { code: 'WAIT_TIMED_OUT', message: `step "${wait.stepId}": ${what} by ${at} (its timeout)`, retryable: false },
  };
}

/** Ends one due wait in `ctx`; resolves to whether this transaction ended it. */
async function endDueWait(ctx: TransitionContext, ref: Pick<TaskWaitRow, 'attemptId' | 'runId'>): Promise<boolean> {
  const run: RunRow | undefined = await lockRun(ctx.tx, ref.runId);
  if (!run) return false;
  const wait = await findTaskWait(ctx.tx, ref.attemptId);
  if (!wait || wait.status !== 'WAITING') return false;
  const task = await findTask(ctx.tx, wait.taskId);
  const policy = task?.wait?.kind === 'APPROVAL' || task?.wait?.kind === 'EVENT' ? task.wait : undefined;
  return (await endWait(ctx, run, wait, endingAtDeadline(wait, policy), true)).ended;
}

/**
 * `idleMaxMs`: how long it sleeps at most while no wait is due (engine/due-rows.ts IdleBackoff). A wait
 * ends at its deadline within intervalMs as before: the loop wakes at the earliest deadline it knows of,
 * within intervalMs of a change this process commits (a new wait), and within idleMaxMs of one made elsewhere.
 */
export function createWaitTicker({ engine, log, intervalMs, idleMaxMs }: { engine: Engine; log: Logger; intervalMs: number; idleMaxMs: number }): WaitTicker {
  const waits: DueRows<Pick<TaskWaitRow, 'attemptId' | 'runId' | 'orgId'>> = {
    passSize: PASS_SIZE,
    findDue: (limit) => dueTaskWaits(engine.pool, limit),
    handle: async ([ref]) => ((await engine.change(system(ref!.orgId), (ctx) => endDueWait(ctx, ref!))) ? 1 : 0),
    describe: (ref) => ({ attemptId: ref.attemptId, runId: ref.runId, orgId: ref.orgId }),
    messages: { rowFailed: 'a due wait could not be ended (retried next pass)', batchFailed: 'a batch of due waits failed; ending them one per transaction' },
  };
  return createDueRowsLoop({ passes: [{ pass: duePass(waits, log), passSize: PASS_SIZE }], log, intervalMs, idle: { maxMs: idleMaxMs, nextDueInMs: () => waitDeadlineInMs(engine.pool) }, passFailed: 'wait pass failed' });
}
