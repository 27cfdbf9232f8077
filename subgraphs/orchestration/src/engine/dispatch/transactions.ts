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
  /**
   * A result and the claim that rides with it (slot-waits.ts takeRider): always in one transaction,
   * the claim after every result of it, so it can take the slot the result frees.
   */
  applyResultWithClaim(result: AttemptResult, job: AttemptJob): Promise<{ applied: ResultApplied; claim: Claim }>;
}

type Request = { kind: 'claim'; job: AttemptJob } | { kind: 'result'; result: AttemptResult } | { kind: 'pair'; result: AttemptResult; job: AttemptJob };
type Answer = { kind: 'claim'; claim: Claim } | { kind: 'result'; applied: ResultApplied } | { kind: 'pair'; applied: ResultApplied; claim: Claim };

export interface DispatchTransactionsOptions {
  change: DispatchChange;
  /** Claims inside a transaction (claims.ts createClaimer). */
  claimsIn: ClaimsIn;
  /** Results inside a transaction (results.ts applyResults). */
  resultsIn: (ctx: TransitionContext, results: readonly AttemptResult[], locked?: Map<string, RunRow>) => Promise<ResultApplied[]>;
  log: Logger;
}

const runIdsOf = (request: Request): string[] => (request.kind === 'claim' ? [request.job.runId] : request.kind === 'result' ? [request.result.runId] : [request.result.runId, request.job.runId]);

export function createDispatchTransactions({ change, claimsIn, resultsIn, log }: DispatchTransactionsOptions): DispatchTransactions {
  /** Applies the results of `requests`, then their claims; answers in the requests' order. */
  const applyIn = async (ctx: TransitionContext, requests: readonly Request[], locked: Map<string, RunRow> | undefined): Promise<Answer[]> => {
    const results: Array<{ index: number; result: AttemptResult }> = [];
    const claims: Array<{ index: number; job: AttemptJob }> = [];
    requests.forEach((r, index) => {
      if (r.kind !== 'claim') results.push({ index, result: r.result });
      if (r.kind !== 'result') claims.push({ index, job: r.job });
    });
    const applied = new Map<number, ResultApplied>();
    const claimed = new Map<number, Claim>();
    if (results.length > 0) {
      const answers = await resultsIn(
        ctx,
        results.map((r) => r.result),
        // One map of the locked runs for both kinds: each sees the run as the other left it.
        locked,
      );
      results.forEach(({ index }, i) => applied.set(index, answers[i] as ResultApplied));
    }
    if (claims.length > 0) {
      const answers = await claimsIn(
        ctx,
        claims.map((c) => c.job),
        locked,
      );
      claims.forEach(({ index }, i) => claimed.set(index, answers[i] as Claim));
    }
    return requests.map((r, index): Answer => {
      if (r.kind === 'claim') return { kind: 'claim', claim: claimed.get(index) as Claim };
      if (r.kind === 'result') return { kind: 'result', applied: applied.get(index) as ResultApplied };
      return { kind: 'pair', applied: applied.get(index) as ResultApplied, claim: claimed.get(index) as Claim };
    });
  };

  const apply = createBatcher<Request, Answer>({
    apply: (requests) => {
      const lock = lockRunsStatement(requests.flatMap(runIdsOf));
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
    async applyResultWithClaim(result, job) {
      const { applied, claim } = (await apply({ kind: 'pair', result, job })) as Extract<Answer, { kind: 'pair' }>;
      return { applied, claim };
    },
  };
}
