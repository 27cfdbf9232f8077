import type { Logger } from '@orchestra/lib';
import { lockedRuns, lockRunsStatement } from '../../store/dispatch';
import type { RunRow } from '../../store/rows';
import { createBatcher } from '../coalescer';
import type { AttemptJob } from '../task-queues';
import type { TransitionContext } from '../transitions';
import { BATCH_MAX, BATCHES_AT_ONCE } from './batching';
import type { Claim } from './claim-policy';
import type { ClaimsIn } from './claims';
import type { DispatchChange } from './commits';
import type { AttemptResult, ResultApplied } from './results';

/**
 * The dispatcher's transactions: the claims and the results that arrive while one runs go together
 * into the next one — the results applied first, then the claims, their runs locked once, in id order,
 * by the statement that goes with the BEGIN. A result frees the slot a claim of the same transaction
 * can then take, and a claim and a result of one run no longer wait for each other's transaction on
 * the run's lock: one BEGIN/COMMIT and one run lock where there were two (measured: see the commit).
 *
 * The guarantees are those of each kind alone: a result's statements are guarded by the attempt's and
 * task's status (a duplicate delivery never completes a task twice); a committed batch is never
 * applied again (commits.ts); a failed batch is applied again one request at a time, each in a
 * transaction of its own (createBatcher), so a bad claim cannot fail a result, nor the other way.
 */
export interface DispatchTransactions {
  claim(job: AttemptJob): Promise<Claim>;
  applyResult(result: AttemptResult): Promise<ResultApplied>;
}

type Request = { kind: 'claim'; job: AttemptJob } | { kind: 'result'; result: AttemptResult };
type Answer = { kind: 'claim'; claim: Claim } | { kind: 'result'; applied: ResultApplied };

export interface DispatchTransactionsOptions {
  change: DispatchChange;
  /** Claims inside a transaction (claims.ts createClaimer). */
  claimsIn: ClaimsIn;
  /** Results inside a transaction (results.ts applyResults). */
  resultsIn: (ctx: TransitionContext, results: readonly AttemptResult[], locked?: Map<string, RunRow>) => Promise<ResultApplied[]>;
  log: Logger;
}

const runIdOf = (request: Request): string => (request.kind === 'claim' ? request.job.runId : request.result.runId);

export function createDispatchTransactions({ change, claimsIn, resultsIn, log }: DispatchTransactionsOptions): DispatchTransactions {
  /** Applies the results of `requests`, then their claims; answers in the requests' order. */
  const applyIn = async (ctx: TransitionContext, requests: readonly Request[], locked: Map<string, RunRow> | undefined): Promise<Answer[]> => {
    const results: Array<{ index: number; result: AttemptResult }> = [];
    const claims: Array<{ index: number; job: AttemptJob }> = [];
    requests.forEach((r, index) => (r.kind === 'result' ? results.push({ index, result: r.result }) : claims.push({ index, job: r.job })));
    const answers: Answer[] = new Array<Answer>(requests.length);
    if (results.length > 0) {
      const applied = await resultsIn(
        ctx,
        results.map((r) => r.result),
        // One map of the locked runs for both kinds: each sees the run as the other left it.
        locked,
      );
      results.forEach(({ index }, i) => (answers[index] = { kind: 'result', applied: applied[i] as ResultApplied }));
    }
    if (claims.length > 0) {
      const claimed = await claimsIn(
        ctx,
        claims.map((c) => c.job),
        locked,
      );
      claims.forEach(({ index }, i) => (answers[index] = { kind: 'claim', claim: claimed[i] as Claim }));
    }
    return answers;
  };

  const apply = createBatcher<Request, Answer>({
    apply: (requests) => {
      const lock = lockRunsStatement(requests.map(runIdOf));
      // Without a statement to go with the BEGIN (a run id that is no UUID), each kind locks its runs itself.
      if (lock === undefined) return change((ctx) => applyIn(ctx, requests, undefined));
      return change((ctx, rows) => applyIn(ctx, requests, rows && lockedRuns(rows as Array<{ run: Record<string, unknown> }>)), lock);
    },
    // As many of each kind as one transaction of that kind took before they went together.
    maxBatch: 2 * BATCH_MAX,
    parallel: BATCHES_AT_ONCE,
    onBatchFailure: (error, size) => log.warn('a batch of claims and results failed: applying them one by one', { err: error, size }),
  });

  return {
    async claim(job) {
      return ((await apply({ kind: 'claim', job })) as Extract<Answer, { kind: 'claim' }>).claim;
    },
    async applyResult(result) {
      return ((await apply({ kind: 'result', result })) as Extract<Answer, { kind: 'result' }>).applied;
    },
  };
}
