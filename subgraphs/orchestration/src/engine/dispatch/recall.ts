import { unaryCall, WORKER_STOP_CODES, type Logger } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { findWorkers } from '../../store/workers';
import type { AttemptRow, WorkerRow } from '../../store/rows';
import type { Engine } from '../engine';
import type { AttemptOutcome } from '../transitions';
import { attemptOutcomeOf } from './execute-call';

/**
 * Asking a worker what became of an attempt whose dispatcher died, or whose worker's lease lapsed
 * (issue 9 item 18: after an orchestration restart both happen, and the lease usually lapses first). The worker
 * keeps the result of every attempt it finished for a while (workers/src/attempts.ts); the
 * dispatcher that takes over asks it (AutomationService.GetAttempt) before it queues a new attempt,
 * so a task whose worker had already finished is recorded with that result instead of run again.
 *
 * An attempt the worker still runs is not waited for: it is settled as lost and then cancelled there
 * (after the commit, as before), because a dispatcher presumed dead may still hold its call and would
 * record whatever a cancel made of it. An attempt that ended because its caller went away or it was
 * cancelled (ABORTED, CANCELLED) did not complete: it runs again, as does one the worker does not know,
 * or one whose worker does not answer. (A worker that finishes between this question and the cancel
 * still runs its task twice: the window is one round trip plus a commit.)
 */
export interface AttemptRecall {
  /** Attempt id → the outcome its worker reports (absent: nothing completed; the attempt is lost). */
  recall(attempts: readonly AttemptRow[]): Promise<Map<string, AttemptOutcome>>;
}

const ASK_DEADLINE_MS = 1_000;
/** Workers asked at once. */
const PARALLEL = 16;

export function createAttemptRecall({ engine, log }: { engine: Engine; log: Logger }): AttemptRecall {
  const { workerClients, workerAuthority, metrics } = engine;
  const recalled = metrics.counter('dispatch_recalled_attempts_total', "Attempts of dead dispatchers whose worker was asked for the result, by what it said", ['answer']);

  const ask = async (attempt: AttemptRow, worker: WorkerRow, unreachable: Set<string>): Promise<AttemptOutcome | undefined> => {
    if (unreachable.has(worker.endpoint)) return undefined;
    const { client } = workerClients.get(worker.endpoint);
    try {
      const answer = await unaryCall(client, client.getAttempt, { attemptId: attempt.id }, { internalToken: workerAuthority.dispatchToken(worker.id) }, { deadlineMs: ASK_DEADLINE_MS });
      if (answer.state !== automationV1.AttemptState.ATTEMPT_STATE_FINISHED || !answer.result) {
        recalled.inc({ answer: answer.state === automationV1.AttemptState.ATTEMPT_STATE_RUNNING ? 'still_running' : 'unknown' });
        return undefined;
      }
      const failure = answer.result.outcome?.$case === 'failure' ? answer.result.outcome.value : undefined;
      if (failure && WORKER_STOP_CODES.has(failure.code)) {
        recalled.inc({ answer: 'not_completed' });
        return undefined;
      }
      const facts = { stepId: '', timeoutMs: 0, workerId: worker.id, endpoint: worker.endpoint, elapsedMs: 0, abortReason: undefined, retryDelayMs: 0, leaseTtlMs: 0 };
      const { outcome } = attemptOutcomeOf({ kind: 'result', result: answer.result }, facts);
      recalled.inc({ answer: outcome?.kind ?? 'none' });
      return outcome;
    } catch (error) {
      // Not reachable (or a worker too old to answer): its other attempts are not asked in this pass.
      unreachable.add(worker.endpoint);
      recalled.inc({ answer: 'unreachable' });
      log.debug('worker not asked for an attempt of a dead dispatcher', { err: error, attemptId: attempt.id, workerId: worker.id });
      return undefined;
    }
  };

  return {
    async recall(attempts) {
      const answers = new Map<string, AttemptOutcome>();
      const workerIds = [...new Set(attempts.map((a) => a.workerId).filter((id): id is string => id !== null))];
      if (workerIds.length === 0) return answers;
      const workers = new Map((await findWorkers(engine.pool, workerIds)).map((w) => [w.id, w]));
      const unreachable = new Set<string>();
      // A worker presumed lost is asked too: its lease may have lapsed only because the orchestration
      // process was down. A dead one refuses at once; a frozen one costs one deadline per pass.
      const asked = attempts.filter((a) => a.workerId !== null && workers.has(a.workerId));
      for (let i = 0; i < asked.length; i += PARALLEL) {
        await Promise.all(
          asked.slice(i, i + PARALLEL).map(async (attempt) => {
            const outcome = await ask(attempt, workers.get(attempt.workerId as string) as WorkerRow, unreachable);
            if (outcome) answers.set(attempt.id, outcome);
          }),
        );
      }
      return answers;
    },
  };
}
