import type { Logger } from '@orchestra/lib';
import { createDueRowsLoop, type PassResult } from '../engine/due-rows';
import type { Engine } from '../engine/engine';
import { dueWaitEvents, lockIdleRuns, takeWaitChanges } from '../store/wait-events';

/**
 * The wait-event recorder (issue 10): a change of the kind of reason a task waits for becomes one
 * TASK_WAITING run event, so the run page's log reads "waiting: rate limit …" → "waiting: priority …"
 * → started. Every replica runs one. Whatever sets a reason (a claim, flow control, the reconciler's
 * PRIORITY and FAIR_SHARE passes, wait steps) only writes the task's row; a pass finds the tasks whose
 * reason's kind differs from what their last event said (PostgreSQL is the truth: nothing is kept in
 * memory, a restart loses nothing), and records their events in one transaction, through the same
 * door as every run event (TransactionEffects: seqs taken under the runs' locks, published after the
 * commit). So a reason that a dispatcher sets again on every look makes no event, and a kind that
 * lasts less than a pass may make none: the log shows what a reader polling the task would have seen.
 *
 * Order: the pass takes each run's lock (skipping runs another transaction holds, which the next pass
 * takes) and looks at the task under it; a task that started (its claim holds the same lock) is no
 * longer due, so no TASK_WAITING ever follows its TASK_STATUS RUNNING.
 */

/** Tasks one pass looks at, at most (a pass that finds this many runs again at once). */
const PASS_SIZE = 500;

export interface WaitEventRecorder {
  start(): void;
  stop(): Promise<void>;
  /** A reason may have changed (see DueRowsLoop.wake). */
  wake(): void;
  /** One pass; resolves to the TASK_WAITING events it recorded. */
  recordOnce(): Promise<number>;
}

/**
 * `idleMaxMs`: how long it sleeps at most while no task is due (engine/due-rows.ts IdleBackoff). Reasons
 * are written by this process's commits (engine.activity: every change, the dispatcher's and the
 * reconciler's reason writes), each of which wakes it within intervalMs as before; one written by
 * another replica is seen within idleMaxMs (that replica's own recorder sees it within intervalMs).
 */
export function createWaitEventRecorder({ engine, log, intervalMs, idleMaxMs }: { engine: Engine; log: Logger; intervalMs: number; idleMaxMs: number }): WaitEventRecorder {
  /** One pass: the tasks found due, and the events recorded. */
  const pass = async (): Promise<PassResult> => {
    const due = await dueWaitEvents(engine.pool, PASS_SIZE);
    if (due.length === 0) return { found: 0, handled: 0 };
    const handled = await engine.change(null, async (ctx) => {
      const runs = await lockIdleRuns(
        ctx.tx,
        due.map((d) => d.runId),
      );
      const changes = await takeWaitChanges(
        ctx.tx,
        due.filter((d) => runs.has(d.runId)).map((d) => d.taskId),
      );
      for (const change of changes) {
        const run = runs.get(change.runId);
        if (!run) continue;
        ctx.effects.event(run, {
          kind: 'TASK_WAITING',
          taskId: change.taskId,
          stepId: change.stepId,
          attemptId: change.attemptId,
          attempt: change.attempt,
          message: change.reason?.message ?? null,
          waitReason: change.reason,
        });
      }
      return changes.length;
    });
    return { found: due.length, handled };
  };

  // The same loop as the tickers' (engine/due-rows.ts): again at once after a full pass that recorded something.
  const loop = createDueRowsLoop({ passes: [{ pass, passSize: PASS_SIZE }], log, intervalMs, idle: { maxMs: idleMaxMs }, passFailed: 'wait-event pass failed (retried next pass)' });
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    wake: () => loop.wake(),
    recordOnce: async () => (await pass()).handled,
  };
}
