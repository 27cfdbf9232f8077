import type { Logger } from '@orchestra/lib';
import type { EnqueueRequest } from '../effects';
import type { AttemptJob } from '../task-queues';

/**
 * Ready attempts handed straight to this process's dispatcher, BullMQ skipped (issue 11).
 *
 * Every ready attempt used to go commit → Queue.add → the pool's BullMQ worker fetches it
 * (BZPOPMIN + moveToActive) → claim. At 300 tasks/s the queue hop alone was ~48 ms mean before the
 * claim even started. When the dispatcher in this process consumes the attempt's pool and has room
 * for it now — it is not stopping, the jobs holding a place in the pool here are fewer than the
 * pool's slots, nothing of the pool waits here (parked, waiting for a slot, or sent back delayed for
 * want of one: nothing is passed), and the attempt is available now — the attempt is claimed and
 * run here in memory, holding a place exactly as a job does (slots.enter/leave).
 *
 * Only while the pool's calls are short (its consumer takes jobs ahead: pool-consumers.ts): a place
 * held by a hand-off is not one of the consumer's jobs, so the consumer goes on taking jobs, which
 * park behind it (slot-waits.ts) and keep their place against work of a higher priority queued later.
 * Behind a short call that is the wait the take-ahead already accepts; behind a long one (a sleep of
 * minutes holding the only slot) a priority-1 job taken early would pass priority-5 work queued after
 * it (flow-admission.test.ts, wait-reasons.test.ts PRIORITY), so long-call pools keep the queue.
 *
 * What keeps it safe:
 * - its queue-outbox row is not marked enqueued: until its claim deletes it, the reconciler
 *   (reconciler.ts, GRACE_MS) enqueues it if this process dies first; after the claim, a RUNNING
 *   attempt of a dead dispatcher is settled by the takeover (orphanedAttempts), which needs no job;
 * - a claim that says "wait" puts it on BullMQ delayed (as job.moveToDelayed would; its row then
 *   marked enqueued), one that says "drop" ends it (a drop's attempt has no row left: its claim, the
 *   forEach expansion or the cancel deleted it), and any failure (the database away) puts it on
 *   BullMQ after BullMQ's own first retry delay, so BullMQ's retries and the reconciler apply as before.
 */

/** Where a pool stands in this process, as far as a hand-off cares. */
export interface PoolState {
  /** The dispatcher is stopping (or stopped). */
  draining: boolean;
  /** How many of the pool's calls this process runs at once (undefined: it does not consume the pool). */
  capacity: number | undefined;
  /** Jobs and hand-offs holding a place in the pool here (claiming, waiting after a claim, running). */
  holding: number;
  /** Jobs of the pool waiting here: parked, waiting for a slot, or sent back delayed for want of one. */
  waiting: number;
  /** The pool's calls are short (its consumer takes jobs ahead). */
  short: boolean;
}

export type HandOffDecision = { take: true } | { take: false; why: 'draining' | 'not-consumed' | 'long-calls' | 'full' | 'others-wait' | 'not-available' };

/** Whether an attempt of a pool in `state`, available at `availableAtMs`, is handed off at `now`. */
export function handOffDecision(state: PoolState, availableAtMs: number, now: number): HandOffDecision {
  if (state.draining) return { take: false, why: 'draining' };
  if (state.capacity === undefined) return { take: false, why: 'not-consumed' };
  if (!state.short) return { take: false, why: 'long-calls' };
  if (availableAtMs > now) return { take: false, why: 'not-available' };
  if (state.waiting > 0) return { take: false, why: 'others-wait' };
  if (state.holding >= state.capacity) return { take: false, why: 'full' };
  return { take: true };
}

/** How a handed-off attempt's processing ended: done (ran or dropped), or it waits `delayMs` on the queue. */
export type HandOffOutcome = { kind: 'done' } | { kind: 'wait'; delayMs: number; reason?: string };

/** BullMQ's first retry delay of a failed job (task-queues.ts defaultJobOptions backoff). */
export const FAILED_HAND_OFF_DELAY_MS = 1_000;

export interface LocalHandOffOptions {
  state: (pool: string) => PoolState;
  /** Takes a place in the pool (slots.enter), before the offer returns: the next offer sees it. */
  enter: (pool: string) => void;
  /** Gives it back (slots.leave) when the processing ended. */
  leave: (pool: string) => void;
  /** Claims and runs the attempt, as the dispatcher does a job (claim → execute → result). */
  process: (job: AttemptJob, handedAt: number) => Promise<HandOffOutcome>;
  /** Puts attempts on their pool's BullMQ queue, `delayMs` from now, in the place they had when handed off (`orderedAt`), and marks their outbox rows enqueued. */
  requeue: (entries: readonly EnqueueRequest[], delayMs: number, source: string, orderedAt: number) => Promise<void>;
  /** Counts an attempt handed off (task_attempts_enqueued_total{source="local"}). */
  counted: (pool: string) => void;
  log: Logger;
  now?: () => number;
}

export interface LocalHandOff {
  /** Takes `entry` for this process's dispatcher (true) or leaves it to the queue (false). */
  offer(entry: EnqueueRequest): boolean;
  /** Resolves when every hand-off under way has ended (the dispatcher waits for them when it stops). */
  settled(): Promise<void>;
  /** Hand-offs under way. */
  inFlight(): number;
}

export const jobOf = (e: EnqueueRequest): AttemptJob => ({ attemptId: e.attemptId, taskId: e.taskId, runId: e.runId, orgId: e.orgId, pool: e.pool });

export function createLocalHandOff({ state, enter, leave, process, requeue, counted, log, now = Date.now }: LocalHandOffOptions): LocalHandOff {
  const running = new Set<Promise<void>>();

  const run = async (entry: EnqueueRequest, handedAt: number): Promise<void> => {
    try {
      const outcome = await process(jobOf(entry), handedAt);
      // On the queue before its place is given back, as a job moved to delayed is.
      if (outcome.kind === 'wait') await requeue([entry], outcome.delayMs, 'local-wait', handedAt).catch(() => undefined);
    } catch (error) {
      // As a job whose processing threw: BullMQ retries it (and the outbox row stays until then).
      log.warn('a handed-off attempt failed: it goes on the queue (BullMQ retries it; the reconciler backs it up)', { err: error, attemptId: entry.attemptId, pool: entry.pool });
      await requeue([entry], FAILED_HAND_OFF_DELAY_MS, 'local-failed', handedAt).catch(() => undefined);
    } finally {
      leave(entry.pool);
    }
  };

  return {
    offer(entry) {
      const at = now();
      if (!handOffDecision(state(entry.pool), entry.availableAt.getTime(), at).take) return false;
      enter(entry.pool);
      counted(entry.pool);
      const done = run(entry, at).catch((error: unknown) => log.error('a handed-off attempt was not settled', { err: error, attemptId: entry.attemptId }));
      running.add(done);
      void done.finally(() => running.delete(done));
      return true;
    },
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    inFlight: () => running.size,
  };
}
