import type { Logger, PoolClient } from '@orchestra/lib';
import { createDueRowsLoop, type PassResult } from '../engine/due-rows';
import { foldSettledRuns, lockRollup, refoldQueuedHours, tryLockRollup } from '../store/run-metrics-rollup';

/**
 * The run metrics rollup job (issue 12): folds finished runs into per-hour rows (migration 032) so that
 * runMetrics reads a few hundred rows for a month instead of a million runs. Off the task path: nothing
 * a run start or finish does writes the rollup; every replica runs the job on the tickers' loop
 * (engine/due-rows.ts), and one pass at a time (an advisory lock per schema; a replica that finds it held
 * skips its pass) refolds the hours queued by retried or deleted runs, then folds the next batch of runs
 * that finished since the watermark, in one transaction. A full batch (backfill after the migration,
 * a burst) goes again at once.
 */

/** Runs one fold takes, at most (a backfill of 1,000,000 runs is 50 batches). */
export const ROLLUP_BATCH_RUNS = 20_000;
/** Queued hours one pass refolds, at most. */
export const ROLLUP_REFOLD_HOURS = 50;

export interface RunMetricsRollup {
  start(): void;
  stop(): Promise<void>;
  /** One pass (waiting for a pass under way elsewhere); resolves to the runs folded and hours refolded. */
  foldOnce(): Promise<number>;
  /** Passes until nothing settled is left to fold (tests, the benchmark's backfill); resolves to the runs folded. */
  foldAll(): Promise<number>;
}

export interface RunMetricsRollupDeps {
  /** A system transaction (every organization's runs): engine.inSystem, or withSystemTransaction on a pool. */
  inSystem: <T>(fn: (tx: PoolClient) => Promise<T>) => Promise<T>;
  log: Logger;
  intervalMs: number;
  settleMs: number;
}

export function createRunMetricsRollup({ inSystem, log, intervalMs, settleMs }: RunMetricsRollupDeps): RunMetricsRollup {
  /** One pass, `found` as the tickers count it: a full batch reports ROLLUP_BATCH_RUNS so the loop goes again at once. */
  const pass = async (wait = false): Promise<PassResult & { runs: number }> =>
    inSystem(async (tx) => {
      if (wait) await lockRollup(tx);
      else if (!(await tryLockRollup(tx))) return { found: 0, handled: 0, runs: 0 };
      const refolded = await refoldQueuedHours(tx, ROLLUP_REFOLD_HOURS);
      const batch = await foldSettledRuns(tx, { maxRuns: ROLLUP_BATCH_RUNS, settleMs });
      if (batch.runs > 0 || refolded > 0) log.debug('run metrics folded', { runs: batch.runs, hoursRefolded: refolded, foldedBefore: batch.foldedBefore });
      const handled = batch.runs + refolded;
      return { found: batch.more || refolded === ROLLUP_REFOLD_HOURS ? ROLLUP_BATCH_RUNS : handled, handled, runs: batch.runs };
    });

  const loop = createDueRowsLoop({ passes: [{ pass: () => pass(), passSize: ROLLUP_BATCH_RUNS }], log, intervalMs, passFailed: 'run metrics rollup pass failed (retried next pass)' });
  return {
    start: () => loop.start(),
    stop: () => loop.stop(),
    foldOnce: async () => (await pass(true)).handled,
    async foldAll() {
      let runs = 0;
      while (true) {
        const result = await pass(true);
        runs += result.runs;
        if (result.found < ROLLUP_BATCH_RUNS) return runs;
      }
    },
  };
}
