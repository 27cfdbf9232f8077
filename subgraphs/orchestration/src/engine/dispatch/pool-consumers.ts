import { DelayedError, Worker as QueueWorker, type Job } from 'bullmq';
import type { Logger, Redis } from '@orchestra/lib';
import { queueNameOf, type AttemptJob } from '../task-queues';
import { poolConcurrency } from './claim-policy';

/**
 * The pools' lifecycle: a BullMQ worker per pool whose queue this dispatcher consumes, its
 * concurrency following the pool's live slots, paused and closed at stop. While the pool's calls
 * are short, it takes as many jobs again ahead of its slots (TAKE_AHEAD): a job taken while the
 * slots are all held here parks until a result takes its claim along into the result's transaction
 * (slot-waits.ts), so a slot that frees up is claimed again without a transaction or a Redis round
 * trip of its own. The slots themselves are rows in PostgreSQL: no worker is ever sent more
 * attempts than it has slots, however many jobs are taken.
 */
export interface PoolConsumers {
  /** Starts consuming `pool`'s queue (idempotent); `slots` (the pool's live slots) sets how many jobs it runs at once. */
  ensure(pool: string, slots?: number): void;
  /** How many of `pool`'s jobs are run at once (undefined: the pool is not consumed here). */
  concurrency(pool: string): number | undefined;
  /** Whether `pool`'s consumer takes jobs ahead of its slots (while its calls are short: slot-waits.ts onPace). */
  takeAhead(pool: string, on: boolean): void;
  /** Stops taking jobs: pauses every consumer, waiting for none. */
  pause(): Promise<void>;
  /** Closes every consumer, waiting for the jobs they run. */
  close(): Promise<void>;
}

/** Handles one job of `pool`'s queue (the pool its consumer was made for). */
export type JobProcessor = (pool: string, job: Job<AttemptJob>, token?: string) => Promise<void>;

export interface PoolConsumersOptions {
  /** ioredis with maxRetriesPerRequest: null (BullMQ workers block). */
  connection: Redis;
  prefix: string;
  /** DISPATCH_CONCURRENCY: jobs of one pool taken at once, at most. */
  maxConcurrency: number;
  log: Logger;
  process: JobProcessor;
}

/** Jobs taken ahead of a pool's slots, per slot: enough for every result of a full pool to take a claim along. */
export const TAKE_AHEAD = 1;

/** The BullMQ concurrency of a pool that runs `concurrency` jobs at once. */
export const jobsTakenAtOnce = (concurrency: number): number => concurrency + Math.ceil(concurrency * TAKE_AHEAD);

export function createPoolConsumers({ connection, prefix, maxConcurrency, log, process }: PoolConsumersOptions): PoolConsumers {
  const consumers = new Map<string, QueueWorker<AttemptJob>>();
  /** Jobs of each pool run at once (its BullMQ concurrency takes more ahead: jobsTakenAtOnce). */
  const running = new Map<string, number>();
  /** Pools whose jobs are taken ahead. */
  const ahead = new Set<string>();
  const takenAtOnce = (pool: string, concurrency: number) => (ahead.has(pool) ? jobsTakenAtOnce(concurrency) : concurrency);
  let stopped = false;
  return {
    ensure(pool, slots) {
      if (stopped) return;
      const concurrency = poolConcurrency(slots, maxConcurrency);
      const existing = consumers.get(pool);
      if (existing) {
        if (slots !== undefined && running.get(pool) !== concurrency) {
          running.set(pool, concurrency);
          existing.concurrency = takenAtOnce(pool, concurrency);
          log.info('pool concurrency changed', { pool, concurrency, slots });
        }
        return;
      }
      const consumer = new QueueWorker<AttemptJob>(queueNameOf(pool), (job, token) => process(pool, job, token), {
        connection,
        prefix,
        concurrency: takenAtOnce(pool, concurrency),
        // Stalls are handled by the attempt state machine; let BullMQ hand a stalled job back freely.
        maxStalledCount: 1_000,
        // A dead process's jobs come back within ~9 s (lock 6 s, checked every 3 s), not BullMQ's 30 s + 30 s
        // (issue 9 item 17); live consumers renew their locks every 3 s.
        lockDuration: 6_000,
        stalledInterval: 3_000,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 1_000 },
      });
      consumer.on('error', (err: Error) => log.warn('dispatcher queue error', { err, pool }));
      consumer.on('failed', (job, err: Error) => {
        if (err instanceof DelayedError || err.name === 'DelayedError') return;
        log.warn('dispatch of an attempt failed (BullMQ retries it; the reconciler backs it up)', { err, pool, attemptId: job?.data.attemptId });
      });
      consumers.set(pool, consumer);
      running.set(pool, concurrency);
      log.info('dispatching pool', { pool, queue: queueNameOf(pool), concurrency });
    },
    concurrency: (pool) => running.get(pool),
    takeAhead(pool, on) {
      if (on) ahead.add(pool);
      else ahead.delete(pool);
      const consumer = consumers.get(pool);
      const concurrency = running.get(pool);
      if (consumer && concurrency !== undefined && !stopped) consumer.concurrency = takenAtOnce(pool, concurrency);
    },
    async pause() {
      stopped = true;
      await Promise.allSettled([...consumers.values()].map((c) => c.pause(true)));
    },
    async close() {
      stopped = true;
      await Promise.allSettled([...consumers.values()].map((c) => c.close()));
      consumers.clear();
      running.clear();
    },
  };
}
