import { Queue } from 'bullmq';
import type { Logger, Metrics, Pool, Redis } from '@orchestra/lib';
import { PRIORITY, queueOrder } from '../domain/flow-control';
import { withRestoredRanks } from '../flow-control/fair-share';
import { markEnqueued } from '../store/outbox';
import { createCoalescer } from './coalescer';
import type { EnqueueRequest } from './effects';

/** What a queued job carries: the attempt (its jobId too) and where it belongs, its pool included. */
export interface AttemptJob {
  attemptId: string;
  taskId: string;
  runId: string;
  orgId: string;
  pool: string;
}

export const queueNameOf = (pool: string): string => `tasks-${pool}`;

/** How long after an enqueue the outbox is told (well within the reconciler's grace period). */
const MARK_ENQUEUED_AFTER_MS = 250;

export interface TaskQueues {
  /** Adds outbox entries to their pool's queue (jobId = attempt id, so adding twice is harmless) and marks them enqueued. */
  enqueue(entries: readonly EnqueueRequest[]): Promise<void>;
  /**
   * Re-adds entries whose job Redis no longer has (flushed, restarted) or that ended without a result,
   * each placed fairly again among its organization's waiting work (withRestoredRanks, as every path
   * back onto the queue is); resolves to how many.
   */
  restore(entries: readonly EnqueueRequest[]): Promise<number>;
  /**
   * Whether Redis still holds the key this service writes next to its queues. Gone means Redis lost
   * its data (flushed, restarted without persistence): every waiting attempt must be enqueued again.
   */
  intact(): Promise<boolean>;
  /** Writes that key (after the queues were restored, or on a first start). */
  markIntact(): Promise<void>;
  /** Moves delayed jobs of these attempts to waiting (a slot freed up or a worker joined). */
  promote(pool: string, attemptIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** One BullMQ queue per worker pool, under the configured Redis prefix. */
export function createTaskQueues({ connection, prefix, pool: db, log, metrics }: { connection: Redis; prefix: string; pool: Pool; log: Logger; metrics: Metrics }): TaskQueues {
  const queues = new Map<string, Queue<AttemptJob>>();
  const sentinelKey = `${prefix}:orchestration:queues-intact`;
  const enqueued = metrics.counter('task_attempts_enqueued_total', 'Task attempts handed to the queue', ['pool', 'source']);
  const queueOf = (pool: string): Queue<AttemptJob> => {
    let queue = queues.get(pool);
    if (!queue) {
      queue = new Queue<AttemptJob>(queueNameOf(pool), {
        connection,
        prefix,
        defaultJobOptions: {
          // Retries of the task are ours (PostgreSQL); BullMQ retries only a dispatcher that threw (say, the database was away).
          attempts: 5,
          backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: true,
          removeOnFail: 1_000,
        },
      });
      queue.on('error', (err: Error) => log.warn('task queue error', { err, pool }));
      queues.set(pool, queue);
    }
    return queue;
  };

  const add = async (entries: readonly EnqueueRequest[], source: string): Promise<string[]> => {
    const byPool = new Map<string, EnqueueRequest[]>();
    for (const e of entries) byPool.set(e.pool, [...(byPool.get(e.pool) ?? []), e]);
    const added: string[] = [];
    for (const [pool, group] of byPool) {
      const now = Date.now();
      try {
        const jobs = group.map((e) => ({
          name: 'attempt',
          data: { attemptId: e.attemptId, taskId: e.taskId, runId: e.runId, orgId: e.orgId, pool: e.pool },
          // Every job has a priority (BullMQ takes unprioritized jobs before all prioritized ones).
          opts: { jobId: e.attemptId, delay: Math.max(0, e.availableAt.getTime() - now), priority: queueOrder(e.priority ?? PRIORITY.default, now, e.rank ?? 0) },
        }));
        // One job is one script call; addBulk is a MULTI, a Pipeline onto which ioredis copies BullMQ's
        // 64 scripts (~40 µs of CPU; lib createQueueConnection).
        const [only] = jobs;
        if (jobs.length === 1 && only) await queueOf(pool).add(only.name, only.data, only.opts);
        else await queueOf(pool).addBulk(jobs);
        added.push(...group.map((e) => e.attemptId));
        enqueued.inc({ pool, source }, group.length);
      } catch (error) {
        // The outbox keeps them; the reconciler adds them later.
        log.warn('could not enqueue task attempts (the reconciler will)', { err: error, pool, attemptIds: group.map((e) => e.attemptId) });
      }
    }
    return added;
  };

  // The outbox learns which entries the queue took a little later, in one statement for all of
  // them: most entries are gone by then (a claim deletes its attempt's entry), and the reconciler
  // looks only at entries older than its grace period (a lost mark makes it add the job again, which
  // is harmless: jobId = attempt id).
  let toMark: string[] = [];
  let markTimer: NodeJS.Timeout | undefined;
  const flushMarks = async () => {
    markTimer = undefined;
    const ids = toMark;
    toMark = [];
    if (ids.length === 0) return;
    try {
      await markEnqueued(db, ids);
    } catch (error) {
      log.warn('could not mark outbox entries enqueued (the reconciler will check them)', { err: error, count: ids.length });
    }
  };
  const markLater = (ids: readonly string[]) => {
    toMark.push(...ids);
    markTimer ??= setTimeout(() => void flushMarks(), MARK_ENQUEUED_AFTER_MS);
  };

  // Commits that end while an enqueue is under way are enqueued together by the next one: one
  // addBulk per pool for all of them.
  const enqueueCommitted = createCoalescer<EnqueueRequest>(async (entries) => {
    markLater(await add(entries, 'commit'));
  });

  return {
    enqueue: enqueueCommitted,
    async restore(entries) {
      const missing: EnqueueRequest[] = [];
      const check = async (entry: EnqueueRequest) => {
        const queue = queueOf(entry.pool);
        const state = await queue.getJobState(entry.attemptId);
        if (state === 'unknown') {
          missing.push(entry);
        } else if (state === 'completed' || state === 'failed') {
          // The job ended but PostgreSQL still waits for this attempt: take it out and add it again.
          await (await queue.getJob(entry.attemptId))?.remove().catch(() => undefined);
          missing.push(entry);
        }
      };
      for (let i = 0; i < entries.length; i += 50) await Promise.all(entries.slice(i, i + 50).map(check));
      if (missing.length === 0) return 0;
      // Their place is counted now, from what of their organization waits ahead of them in PostgreSQL:
      // the rank an outbox row was queued with is not carried here, and without one a backlog lost with
      // Redis would land all at rank 0, in front of other organizations' work.
      const added = await add(await withRestoredRanks(db, missing), 'reconciler');
      if (added.length > 0) await markEnqueued(db, added);
      return added.length;
    },
    async intact() {
      return (await connection.exists(sentinelKey)) === 1;
    },
    async markIntact() {
      await connection.set(sentinelKey, new Date().toISOString());
    },
    async promote(pool, attemptIds) {
      const queue = queues.get(pool);
      if (!queue) return;
      for (const id of attemptIds) {
        const job = await queue.getJob(id);
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      }
    },
    async close() {
      if (markTimer) clearTimeout(markTimer);
      await flushMarks();
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}
