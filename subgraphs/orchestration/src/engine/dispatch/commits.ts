import type { Logger } from '@orchestra/lib';
import type { Engine } from '../engine';
import type { TransitionContext } from '../transitions';

/**
 * The dispatcher's own state changes (claims, results, streamed events): engine.change, except that
 * what follows the commit (publishing the run events, enqueueing the next attempts, cancels) failing
 * does not fail the change. The batchers (coalescer.ts createBatcher) apply a failed batch again one
 * request at a time: a claim batch that had committed would then be claimed a second time, find its
 * attempts RUNNING under this dispatcher but not executing here, and give them up as lost (a new
 * attempt queued, the first never run). What a failed effect would have done is in PostgreSQL (run
 * events, which readers backfill; the queue outbox, which the reconciler enqueues), so it is logged.
 * The change still resolves only when its effects have ended, as engine.change does: the batches that
 * form meanwhile stay as large (measured: resolving at the commit instead made no fan-out faster at
 * load 5–14, and made more, smaller transactions).
 */
export type DispatchChange = <T>(fn: (ctx: TransitionContext, firstRows?: Array<Record<string, unknown>>) => Promise<T>, first?: string) => Promise<T>;

export function createDispatchChange({ engine, log }: { engine: Pick<Engine, 'changeCommitted'>; log: Logger }): DispatchChange {
  return async (fn, first) => {
    // `first`: a statement sent with the BEGIN (engine.changeCommitted), e.g. lockRunsStatement.
    const { result, effects } = await engine.changeCommitted(null, fn, first);
    await effects.catch((error: unknown) => log.warn('effects of a dispatch commit failed (its events and queued attempts are in PostgreSQL)', { err: error }));
    return result;
  };
}
