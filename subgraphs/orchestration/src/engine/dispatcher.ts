import { DelayedError, type Job } from 'bullmq';
import type { Redis } from '@orchestra/lib';
import { createAttemptExecutor } from './dispatch/attempt-execution';
import { DISPATCH_STAGE_METRIC } from './dispatch/batching';
import { createClaimer } from './dispatch/claims';
import { createDispatchChange } from './dispatch/commits';
import type { Claim, PlacementPolicy } from './dispatch/claim-policy';
import { createPoolConsumers } from './dispatch/pool-consumers';
import { applyResults, type AttemptResult, type ResultApplied } from './dispatch/results';
import { createSlotWaits } from './dispatch/slot-waits';
import { createDispatchTransactions } from './dispatch/transactions';
import { markWaitingForWorker } from '../store/tasks';
import type { Engine } from './engine';
import type { AttemptJob } from './task-queues';

/**
 * The dispatcher (DESIGN.md §4): a BullMQ worker per worker pool. For each queued attempt it claims
 * a free slot row of a live worker that has the capability and labels (in PostgreSQL, skipping the
 * slots other claims hold), calls AutomationService.Execute as a server stream with the step's
 * timeout as the deadline, records progress and log lines in batches, and applies the result in a
 * transaction guarded by the attempt's status, so a duplicate delivery never completes a task twice.
 * Claims and results that arrive together share a transaction.
 *
 * Its parts, one concern each (engine/dispatch/):
 * - claim-policy.ts   the claim decisions as pure functions (admit, redelivery, slot needs, placement)
 * - claims.ts         the claims inside a transaction, carrying them out
 * - execute-call.ts   the Execute stream and the mapping of how it ended to the attempt's outcome
 * - event-buffer.ts   streamed progress/log events, buffered and written in batches
 * - results.ts        outcomes applied inside a transaction
 * - transactions.ts   claims and results batched together: one transaction, results first
 * - slot-waits.ts     claims waiting for a slot in this process, delayed jobs promoted
 * - pool-consumers.ts a BullMQ worker per pool, its concurrency, stop
 * - attempt-execution.ts one claimed attempt from call to result
 * - commits.ts        its transactions, whose failed after-commit effects do not fail them
 */
export interface Dispatcher {
  /**
   * Starts consuming a pool's queue (idempotent). `slots` (the pool's live slots) caps how many of
   * its jobs this dispatcher takes at once: more would only wait for a slot.
   */
  ensurePool(pool: string, slots?: number): void;
  /** How many of `pool`'s jobs this dispatcher takes at once (undefined: it does not consume the pool). */
  concurrency(pool: string): number | undefined;
  /** Lets tasks that wait for a free worker in `pool` look again now. */
  wake(pool: string): void;
  /** Stops taking jobs; running calls get DRAIN_TIMEOUT_MS to finish, then are handed back (retried). */
  stop(): Promise<void>;
}

/** Looks for a free slot a queued attempt takes in this process before it goes back to the queue delayed. */
const MAX_LOCAL_SLOT_WAITS = 4;
/**
 * How long a job taken ahead waits parked for a result to take its claim along before it claims on
 * its own. While every slot of its pool is held here, only a result of this process frees one (or a
 * worker joining: wake), so it can wait as long as a job left in the queue would; this bounds it.
 */
const PARK_MAX_MS = 30_000;

export interface DispatcherOptions {
  engine: Engine;
  /** ioredis with maxRetriesPerRequest: null (BullMQ workers block). */
  connection: Redis;
  prefix: string;
  dispatcherId: string;
  /** Which free slot each startable attempt takes (default: claim-policy.ts placeInOrder). */
  placement?: PlacementPolicy;
}

export function createDispatcher({ engine, connection, prefix, dispatcherId, placement }: DispatcherOptions): Dispatcher {
  const { config, cancellations, queues, metrics } = engine;
  const log = engine.log.child({ component: 'dispatcher', dispatcherId });
  let draining = false;
  const claims = metrics.counter('dispatch_claims_total', 'Dispatch decisions for queued attempts', ['decision']);
  const [stageName, stageHelp, stageLabels, stageBuckets] = DISPATCH_STAGE_METRIC;
  const stages = metrics.histogram(stageName, stageHelp, [...stageLabels], [...stageBuckets]);
  // How many calls of a pool run here at once: its consumer's (made below, before any job is taken).
  const slots = createSlotWaits({
    queues,
    retryDelayMs: config.DISPATCH_RETRY_DELAY_MS,
    capacity: (pool) => consumers.concurrency(pool),
    // Jobs are taken ahead of the slots only while the pool's calls are short.
    onPace: (pool, short) => consumers.takeAhead(pool, short),
    log,
  });
  // Claims, results and streamed events: a committed batch is never applied twice (commits.ts).
  const change = createDispatchChange({ engine, log });
  // Claims and results pending together go in one transaction (transactions.ts).
  const claimsIn = createClaimer({ engine, dispatcherId, ...(placement ? { placement } : {}) });
  const transactions = createDispatchTransactions({ change, claimsIn, resultsIn: applyResults, log });
  const { claim } = transactions;
  /** A result takes the longest waiting job of its pool along: its claim goes in the result's transaction, after it (slot-waits.ts). */
  const applyResult = async (result: AttemptResult): Promise<ResultApplied & { slotTaken?: boolean }> => {
    const rider = slots.takeRider(result.task.pool);
    if (!rider) return transactions.applyResult(result);
    let answer: { applied: ResultApplied; claim: Claim };
    try {
      answer = await transactions.applyResultWithClaim(result, rider.job);
    } catch (error) {
      // The job claims on its own.
      rider.look();
      throw error;
    }
    rider.rode(answer.claim);
    return { ...answer.applied, slotTaken: answer.claim.kind === 'claimed' };
  };
  const execute = createAttemptExecutor({ engine, change, log, applyResult, slots });

  /**
   * A job's first claim, and when it was sent: its own, or, for a job taken while every slot of its
   * pool is held here, the one that rode with a result while it was parked (undefined: the dispatcher
   * is stopping). From here on the job holds a place (slots.leave when it ends).
   */
  const firstClaim = async (pool: string, job: AttemptJob): Promise<{ claim: Claim; at: number } | undefined> => {
    if (draining || !slots.mustPark(pool)) slots.enter(pool);
    else {
      const parked = await slots.park(pool, PARK_MAX_MS, job);
      if (parked.kind === 'stop') return undefined;
      if (parked.kind === 'rode') return { claim: parked.claim, at: parked.at };
    }
    const at = Date.now();
    try {
      return { claim: await claim(job), at };
    } catch (error) {
      slots.leave(pool);
      throw error;
    }
  };

  const processor = async (consumerPool: string, job: Job<AttemptJob>, token?: string): Promise<void> => {
    // Jobs queued before the job carried its pool have none: they are in their pool's queue.
    const pool = (job.data as Partial<AttemptJob>).pool ?? consumerPool;
    const first = await firstClaim(pool, job.data);
    if (!first) {
      // Parked when the dispatcher began to stop: back to the queue as it was, for whoever runs next.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError('dispatcher stopping');
    }
    try {
      await processClaim(pool, job, first, token);
    } finally {
      slots.leave(pool);
    }
  };

  const processClaim = async (pool: string, job: Job<AttemptJob>, first: { claim: Claim; at: number }, token?: string): Promise<void> => {
    const { attemptId, runId } = job.data;
    // When it stopped waiting for a slot: its claim sent (its own, or with a result).
    const takenAt = first.at;
    let decision = first.claim;
    for (let looks = 1; decision.kind === 'wait' && decision.cause === 'no-slot' && looks < MAX_LOCAL_SLOT_WAITS && !draining && slots.executing(pool) > 0; looks += 1) {
      claims.inc({ decision: 'wait' });
      const waited = await slots.waitForSlot(pool, config.DISPATCH_RETRY_DELAY_MS, job.data);
      if (waited.kind === 'gone') break;
      decision = waited.kind === 'rode' ? waited.claim : await claim(job.data);
    }
    claims.inc({ decision: decision.kind });
    if (decision.kind === 'wait') {
      const delayMs = decision.cause === 'backoff' ? decision.delayMs : decision.cause === 'flow' && decision.delayMs !== undefined ? decision.delayMs : slots.delayFor(pool, attemptId);
      if (decision.cause === 'no-slot') {
        log.debug('attempt waits for a worker', { attemptId, runId, reason: decision.reason, delayMs });
        // The run page says why (no worker can run it, or they are all busy; a GPU step's claim said it already).
        if (decision.waitRecorded !== true) {
          await engine
            .inSystem((tx) => markWaitingForWorker(tx, job.data.taskId))
            // The wait-event recorder looks at the reason within its interval.
            .then(() => engine.activity.notify())
            .catch((error: unknown) => log.debug('could not record why an attempt waits', { err: error, attemptId }));
        }
      } else if (decision.cause === 'flow') {
        log.debug('attempt waits for flow control', { attemptId, runId, reason: decision.reason, delayMs });
      }
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError(decision.reason);
    }
    slots.done(pool, attemptId);
    if (decision.kind === 'drop') {
      log.debug('queued attempt dropped', { attemptId, runId, reason: decision.reason });
      return;
    }
    stages.observe({ stage: 'queue' }, Math.max(0, takenAt - job.timestamp - (job.opts.delay ?? 0)) / 1000);
    stages.observe({ stage: 'claim' }, (Date.now() - takenAt) / 1000);
    await execute(decision);
  };

  const consumers = createPoolConsumers({ connection, prefix, maxConcurrency: config.DISPATCH_CONCURRENCY, log, process: processor });

  return {
    ensurePool(pool, poolSlots) {
      if (!draining) consumers.ensure(pool, poolSlots);
    },
    concurrency: (pool) => consumers.concurrency(pool),
    wake: (pool) => slots.wake(pool),
    async stop() {
      draining = true;
      slots.releaseAll();
      await consumers.pause();
      const handBack = setTimeout(() => {
        const running = cancellations.inFlight();
        if (running.length > 0) log.warn('handing back running attempts at shutdown', { attemptIds: running.map((c) => c.attemptId) });
        for (const call of running) {
          if (call.reason === undefined) {
            call.reason = 'shutdown';
            call.controller.abort(new Error('dispatcher shutting down'));
          }
        }
      }, config.DRAIN_TIMEOUT_MS);
      handBack.unref();
      await consumers.close();
      clearTimeout(handBack);
    },
  };
}
