import type { Logger, PoolClient } from '@orchestra/lib';
import { orphanedAttempts, runningAttemptsOnDeadWorkers } from '../store/attempts';
import { attemptsWithTasks, lockRuns } from '../store/dispatch';
import { pruneDispatchers, touchDispatcher, touchDispatcherSeeingOrphans } from '../store/dispatchers';
import { deleteRuns, lockExpiredRuns, pruneRunEvents } from '../store/retention';
import { refreshFairShareReasons, withRestoredRanks } from '../flow-control/fair-share';
import { refreshPriorityReasons } from '../flow-control/priority-waits';
import { enqueuedOutbox, outboxPools, unenqueuedOutbox } from '../store/outbox';
import type { AttemptRow } from '../store/rows';
import { expireWorkerLeases, poolSlots, pruneWorkers } from '../store/workers';
import type { Dispatcher } from './dispatcher';
import { createAttemptRecall } from './dispatch/recall';
import type { Engine } from './engine';
import { applyAttemptOutcome, type AttemptOutcome } from './transitions';

/**
 * PostgreSQL is the truth; the reconciler makes Redis and the fleet agree with it, so no run is
 * ever lost: it drops workers whose lease ran out and retries their running attempts, retries the
 * attempts of dead dispatchers, and puts back on the queue every waiting attempt the queue does not
 * hold (never enqueued after a crash, or lost with a Redis flush or restart).
 */
export interface Reconciler {
  /** One pass; resolves to what it did (tests call it directly). */
  reconcileOnce(): Promise<ReconcileReport>;
  /** One heartbeat: this dispatcher is alive, and the running attempts of dead ones are retried. */
  takeOverOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export interface ReconcileReport {
  workersDropped: number;
  attemptsRetried: number;
  enqueued: number;
  restored: number;
  /** Waiting tasks whose PRIORITY wait reason was set, changed or taken off. */
  priorityReasons: number;
  /** Waiting tasks whose FAIR_SHARE wait reason was set or taken off. */
  fairShareReasons: number;
}

const BATCH = 500;
/** Outbox rows younger than this are left to the normal enqueue after commit. */
const GRACE_MS = 2_000;

export function createReconciler({ engine, dispatcher, dispatcherId, schema }: { engine: Engine; dispatcher: Dispatcher; dispatcherId: string; schema: string }): Reconciler {
  const { config, queues, metrics } = engine;
  const log: Logger = engine.log.child({ component: 'reconciler', dispatcherId });
  const restoredTotal = metrics.counter('reconciler_restored_total', 'Attempts the reconciler put back on the queue, by cause', ['cause']);
  const lostTotal = metrics.counter('reconciler_lost_attempts_total', 'Running attempts retried because their worker or dispatcher went away', ['cause']);
  const recalledTotal = metrics.counter('reconciler_recalled_attempts_total', "Attempts of dead dispatchers recorded with the result their worker kept, by outcome", ['outcome']);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let restoreCursor: string | undefined;

  const recall = createAttemptRecall({ engine, log });

  /**
   * Settles a RUNNING attempt whose worker or dispatcher went away: with the result its worker
   * reports (`recalled`), or as lost (a new attempt is queued). The run is locked and the attempt
   * must still be RUNNING, so two replicas never both settle it.
   */
  const settle = async (attempt: AttemptRow, outcome: AttemptOutcome): Promise<boolean> =>
    engine.change(null, async (ctx) => {
      const run = (await lockRuns(ctx.tx, [attempt.runId])).get(attempt.runId);
      const current = (await attemptsWithTasks(ctx.tx, [attempt.id])).get(attempt.id);
      if (!run || current?.attempt.status !== 'RUNNING') return false;
      const { applied } = await applyAttemptOutcome(ctx, run, current.task, attempt.id, outcome);
      // Whoever still holds the call or runs the executor lets go of it.
      if (outcome.kind === 'lost') ctx.effects.cancel.push({ attemptId: attempt.id, workerId: attempt.workerId, reason: outcome.error.message });
      return applied;
    });
  const retryLost = (attempt: AttemptRow, code: 'WORKER_LOST' | 'DISPATCHER_LOST', message: string): Promise<boolean> =>
    settle(attempt, { kind: 'lost', error: { code, message, retryable: true }, countsAsLost: true });

  /** Only one replica sweeps at a time (a session advisory lock on a connection of its own). */
  const withLock = async (name: string, fn: () => Promise<void>): Promise<boolean> => {
    const client: PoolClient = await engine.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name]);
      if (rows[0]?.locked !== true) return false;
      try {
        await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
      }
      return true;
    } finally {
      client.release();
    }
  };
  const withSweepLock = (fn: () => Promise<void>) => withLock(`orchestra-reconciler:${schema}`, fn);

  /** Presumed dead after the lease, and never before three missed heartbeats. */
  const leaseTtlMs = Math.max(config.DISPATCHER_LEASE_TTL_MS, 3 * config.DISPATCHER_HEARTBEAT_MS);

  /**
   * Settles the running attempts of dispatchers not seen for the lease: first their workers are asked
   * what became of them (dispatch/recall.ts), and an attempt that finished there is recorded with its
   * result (issue 9 item 18: never run again after it completed); the others are retried, each in its
   * own transaction that locks the run and finds the attempt still RUNNING (so two replicas never both
   * settle it), and cancelled on their worker after the commit (whoever still runs it lets go).
   */
  const retryOrphans = async (): Promise<number> => {
    let retried = 0;
    const orphans = (await orphanedAttempts(engine.pool, new Date(Date.now() - leaseTtlMs), BATCH)).filter((a) => a.dispatcherId !== dispatcherId);
    if (orphans.length === 0) return 0;
    const recalled = await recall.recall(orphans);
    for (const attempt of orphans) {
      const outcome = recalled.get(attempt.id);
      if (outcome) {
        if (await settle(attempt, outcome)) {
          recalledTotal.inc({ outcome: outcome.kind });
          log.warn('attempt of a dead dispatcher recorded with the result its worker kept', { attemptId: attempt.id, taskId: attempt.taskId, runId: attempt.runId, dispatcher: attempt.dispatcherId, workerId: attempt.workerId, outcome: outcome.kind });
        }
        continue;
      }
      if (await retryLost(attempt, 'DISPATCHER_LOST', `dispatcher ${attempt.dispatcherId ?? '?'} went away`)) {
        retried += 1;
        lostTotal.inc({ cause: 'dispatcher' });
        log.warn('attempt of a dead dispatcher retried', { attemptId: attempt.id, taskId: attempt.taskId, runId: attempt.runId, dispatcher: attempt.dispatcherId });
      }
    }
    return retried;
  };

  /**
   * The heartbeat: alive, then (one replica at a time, under a lock of its own) take over dead
   * dispatchers' attempts. One statement while there are none (issue 11: an idle process costs nothing).
   */
  const takeOverOnce = async (): Promise<number> => {
    if (!(await touchDispatcherSeeingOrphans(engine.pool, dispatcherId, new Date(Date.now() - leaseTtlMs)))) return 0;
    let retried = 0;
    await withLock(`orchestra-takeover:${schema}`, async () => {
      retried = await retryOrphans();
    });
    return retried;
  };

  /**
   * One batch of expired runs: their artifacts' objects leave the store while the runs are locked,
   * then the rows go. A store failure rolls the batch back and the next sweep tries again (deleting
   * an object twice is harmless; a row whose object is gone would not be, nor an object nobody lists).
   */
  const pruneRunsBatch = async (tx: PoolClient): Promise<number> => {
    const { runIds, artifactKeys } = await lockExpiredRuns(tx, config.RUNS_RETENTION_DAYS, BATCH);
    if (artifactKeys.length > 0) {
      if (engine.artifactObjects) await engine.artifactObjects.delete(artifactKeys);
      else log.warn('retention: deleting runs whose artifact objects this service cannot delete (no artifact store configured)', { runs: runIds.length, objects: artifactKeys.length });
    }
    return deleteRuns(tx, runIds);
  };

  let retentionDueAt = 0;
  /** Retention, at most every RETENTION_INTERVAL_MS, in batches of their own transactions (called under the sweep lock). */
  const pruneOld = async (): Promise<{ eventRuns: number; runs: number }> => {
    const pruned = { eventRuns: 0, runs: 0 };
    if (Date.now() < retentionDueAt) return pruned;
    retentionDueAt = Date.now() + config.RETENTION_INTERVAL_MS;
    for (let n = BATCH; n === BATCH; pruned.eventRuns += n) n = await engine.inSystem((tx) => pruneRunEvents(tx, config.RUN_EVENTS_RETENTION_DAYS, BATCH));
    for (let n = BATCH; n === BATCH; pruned.runs += n) n = await engine.inSystem((tx) => pruneRunsBatch(tx));
    if (pruned.eventRuns + pruned.runs > 0) log.info('retention: pruned', pruned);
    return pruned;
  };

  const reconcileOnce = async (): Promise<ReconcileReport> => {
    const report: ReconcileReport = { workersDropped: 0, attemptsRetried: 0, enqueued: 0, restored: 0, priorityReasons: 0, fairShareReasons: 0 };
    // Each step that is one statement runs outside a transaction: a pass with nothing to do is a few
    // round trips, not a transaction per step (issue 11: an idle process costs nothing).
    const db = engine.pool;
    await touchDispatcher(db, dispatcherId);
    await withSweepLock(async () => {
      const dropped = await expireWorkerLeases(db);
      report.workersDropped = dropped.length;
      if (dropped.length > 0) log.warn('workers stopped heartbeating: dropped', { workerIds: dropped });

      // A worker whose lease lapsed may be alive (the orchestration process was down, so nobody took its
      // heartbeats): it is asked for what it finished before anything runs again (issue 9 item 18).
      const onDeadWorkers = await runningAttemptsOnDeadWorkers(db, config.WORKER_LEASE_TTL_MS, BATCH);
      const kept = onDeadWorkers.length === 0 ? new Map<string, AttemptOutcome>() : await recall.recall(onDeadWorkers);
      for (const attempt of onDeadWorkers) {
        const outcome = kept.get(attempt.id);
        if (outcome) {
          if (await settle(attempt, outcome)) {
            recalledTotal.inc({ outcome: outcome.kind });
            log.warn('attempt on a dropped worker recorded with the result the worker kept', { attemptId: attempt.id, taskId: attempt.taskId, runId: attempt.runId, workerId: attempt.workerId, outcome: outcome.kind });
          }
          continue;
        }
        if (await retryLost(attempt, 'WORKER_LOST', `worker ${attempt.workerId ?? '?'} stopped heartbeating`)) {
          report.attemptsRetried += 1;
          lostTotal.inc({ cause: 'worker' });
          log.warn('attempt on a dropped worker retried', { attemptId: attempt.id, taskId: attempt.taskId, runId: attempt.runId, workerId: attempt.workerId });
        }
      }
      report.attemptsRetried += await retryOrphans();

      const before = new Date(Date.now() - GRACE_MS);
      // Placed again fairly among their organizations' waiting work (flow-control/fair-share.ts).
      const unenqueued = await unenqueuedOutbox(db, before, BATCH);
      const never = unenqueued.length === 0 ? [] : await withRestoredRanks(db, unenqueued);
      if (never.length > 0) {
        await queues.enqueue(never);
        report.enqueued = never.length;
        restoredTotal.inc({ cause: 'never_enqueued' }, never.length);
        log.warn('enqueued attempts that were committed but never queued', { attemptIds: never.map((r) => r.attemptId) });
      }
      if (!(await queues.intact())) {
        // Redis lost everything (or this is its first start): add every waiting attempt again. Adding
        // is idempotent (jobId = attempt id), so nothing runs twice if some jobs were still there.
        let cursor: string | undefined;
        for (;;) {
          const page = await engine.inSystem(async (tx) => withRestoredRanks(tx, await enqueuedOutbox(tx, new Date(), cursor, BATCH)));
          if (page.length === 0) break;
          await queues.enqueue(page);
          report.restored += page.length;
          cursor = page[page.length - 1]?.attemptId;
        }
        await queues.markIntact();
        if (report.restored > 0) {
          restoredTotal.inc({ cause: 'queue_lost' }, report.restored);
          log.warn('re-enqueued attempts the queue had lost (Redis flushed or restarted?)', { count: report.restored, how: 'all' });
        }
      } else {
        // Jobs lost one by one (evicted, removed by hand), or lost with Redis after this pass found it
        // intact, or committed while a full restore ran: check a page of the outbox per pass (what is
        // missing is placed fairly again, like the full restore above).
        const enqueued = await enqueuedOutbox(db, before, restoreCursor, BATCH);
        restoreCursor = enqueued.length === BATCH ? enqueued[enqueued.length - 1]?.attemptId : undefined;
        if (enqueued.length > 0) {
          report.restored = await queues.restore(enqueued);
          if (report.restored > 0) {
            restoredTotal.inc({ cause: 'queue_lost' }, report.restored);
            log.warn('re-enqueued attempts the queue had lost (Redis flushed or restarted?)', { count: report.restored, how: 'checked' });
          }
        }
      }
      // Waiting tasks that their organization's higher-priority work goes before say so (PRIORITY), then
      // those that other organizations' work goes before in turn (FAIR_SHARE; PRIORITY, the nearer cause, stays).
      report.priorityReasons = await refreshPriorityReasons(db);
      report.fairShareReasons = await refreshFairShareReasons(db);
      // Changed reasons are TASK_WAITING events for the wait-event recorder to record.
      if (report.priorityReasons + report.fairShareReasons > 0) engine.activity.notify();
      await pruneOld();
      await pruneWorkers(db, 60 * 60 * 1000);
      await pruneDispatchers(db, new Date(Date.now() - 60 * 60 * 1000));
    });
    // Every replica consumes every pool that has workers or waiting attempts.
    const pools = await poolSlots(db);
    for (const pool of await outboxPools(db)) if (!pools.has(pool)) pools.set(pool, 0);
    for (const [pool, slots] of pools) dispatcher.ensurePool(pool, slots);
    return report;
  };

  let heartbeatTimer: NodeJS.Timeout | undefined;
  let beating: Promise<unknown> | undefined;
  const heartbeat = () => {
    if (stopped) return;
    beating = takeOverOnce()
      .catch((error: unknown) => log.warn('dispatcher heartbeat failed', { err: error }))
      .finally(() => {
        beating = undefined;
        if (!stopped) heartbeatTimer = setTimeout(heartbeat, config.DISPATCHER_HEARTBEAT_MS);
      });
  };

  const loop = () => {
    if (stopped) return;
    running = reconcileOnce()
      .catch((error: unknown) => log.error('reconcile pass failed', { err: error }))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(loop, config.RECONCILE_INTERVAL_MS);
      });
  };

  return {
    reconcileOnce,
    takeOverOnce,
    start() {
      stopped = false;
      heartbeat();
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (heartbeatTimer) clearTimeout(heartbeatTimer);
      await Promise.all([running, beating]);
    },
  };
}
