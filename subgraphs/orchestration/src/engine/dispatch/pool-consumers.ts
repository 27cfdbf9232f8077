import { DelayedError, Worker as QueueWorker, type Job } from 'bullmq';
import type { Logger, Redis } from '@orchestra/lib';
import { queueNameOf, type AttemptJob } from '../task-queues';
import { poolConcurrency } from './claim-policy';

/**
 * The pools' lifecycle: a BullMQ worker per pool whose queue this dispatcher consumes, its
 * concurrency following the pool's live slots, paused and closed at stop.
 */
export interface PoolConsumers {
  /** Starts consuming `pool`'s queue (idempotent); `slots` (the pool's live slots) sets how many jobs it takes at once. */
  ensure(pool: string, slots?: number): void;
  /** How many of `pool`'s jobs are taken at once (undefined: the pool is not consumed here). */
  concurrency(pool: string): number | undefined;
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

export function createPoolConsumers({ connection, prefix, maxConcurrency, log, process }: PoolConsumersOptions): PoolConsumers {
  const consumers = new Map<string, QueueWorker<AttemptJob>>();
  let stopped = false;
  return {
    ensure(pool, slots) {
      if (stopped) return;
      const concurrency = poolConcurrency(slots, maxConcurrency);
      const existing = consumers.get(pool);
      if (existing) {
        if (slots !== undefined && existing.concurrency !== concurrency) {
          existing.concurrency = concurrency;
          log.info('pool concurrency changed', { pool, concurrency, slots });
        }
        return;
      }
      const consumer = new QueueWorker<AttemptJob>(queueNameOf(pool), (job, token) => process(pool, job, token), {
        connection,
        prefix,
        concurrency,
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
      log.info('dispatching pool', { pool, queue: queueNameOf(pool), concurrency });
    },
    concurrency: (pool) => consumers.get(pool)?.concurrency,
    async pause() {
      stopped = true;
      await Promise.allSettled([...consumers.values()].map((c) => c.pause(true)));
    },
    async close() {
      stopped = true;
      await Promise.allSettled([...consumers.values()].map((c) => c.close()));
      consumers.clear();
    },
  };
}
