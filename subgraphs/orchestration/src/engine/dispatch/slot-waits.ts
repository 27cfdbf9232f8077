import type { Logger } from '@orchestra/lib';
import type { TaskQueues } from '../task-queues';
import { noSlotDelayMs } from './claim-policy';

/**
 * Attempts waiting for a free slot, per pool. A claim that found no free slot first waits here for
 * a slot to free up in this process (an Execute call of its pool ending), and goes back to the
 * queue delayed only if none does soon, or at once if this process runs nothing in that pool: a
 * slot is handed on without a round of Redis moves, and without a claim transaction per look.
 * Delayed attempts are promoted when a slot frees up here or a worker joins (wake).
 */
export interface SlotWaits {
  /** Resolves true when a slot of `pool` freed up here within `ms`, false otherwise (or at stop). */
  waitForSlot(pool: string, ms: number): Promise<boolean>;
  /** An Execute call of `pool` started here. */
  callStarted(pool: string): void;
  /** An Execute call of `pool` ended here (its result may not be applied yet). */
  callEnded(pool: string): void;
  /** A slot of `pool` is free again (the call's result applied): the longest waiting claim looks again, or else a delayed job is promoted. */
  slotFreed(pool: string): void;
  /** Execute calls of `pool` running here. */
  executing(pool: string): number;
  /** Every claim waiting in `pool` looks again, and delayed jobs of the pool are promoted (a worker joined or freed slots). */
  wake(pool: string): void;
  /** How long an attempt that found no slot goes back to the queue delayed (longer each time it does). */
  delayFor(pool: string, attemptId: string): number;
  /** The attempt stopped waiting (it started or was dropped). */
  done(pool: string, attemptId: string): void;
  /** Every waiting claim gives up (the dispatcher is stopping). */
  releaseAll(): void;
}

/** Delayed attempts promoted at once when a slot frees up. */
const PROMOTE_AT_ONCE = 20;

export function createSlotWaits({ queues, retryDelayMs, log }: { queues: Pick<TaskQueues, 'promote'>; retryDelayMs: number; log: Logger }): SlotWaits {
  /** Attempts that went back to the queue delayed for want of a slot, per pool, and how often. */
  const delayed = new Map<string, Map<string, number>>();
  const waiters = new Map<string, Set<(freed: boolean) => void>>();
  const running = new Map<string, number>();

  const promoteDelayed = (pool: string) => {
    const ids = [...(delayed.get(pool)?.keys() ?? [])].slice(0, PROMOTE_AT_ONCE);
    if (ids.length > 0) void queues.promote(pool, ids).catch((error: unknown) => log.debug('could not promote waiting attempts', { err: error, pool }));
  };

  return {
    waitForSlot: (pool, ms) =>
      new Promise<boolean>((resolve) => {
        const set = waiters.get(pool) ?? new Set<(freed: boolean) => void>();
        waiters.set(pool, set);
        const timer = setTimeout(() => settle(false), ms);
        const settle = (freed: boolean) => {
          clearTimeout(timer);
          set.delete(settle);
          resolve(freed);
        };
        set.add(settle);
      }),
    callStarted(pool) {
      running.set(pool, (running.get(pool) ?? 0) + 1);
    },
    callEnded(pool) {
      running.set(pool, (running.get(pool) ?? 1) - 1);
    },
    slotFreed(pool) {
      const first = waiters.get(pool)?.values().next();
      if (first && first.done !== true) first.value(true);
      else promoteDelayed(pool);
    },
    executing: (pool) => running.get(pool) ?? 0,
    wake(pool) {
      for (const waiter of [...(waiters.get(pool) ?? [])]) waiter(true);
      promoteDelayed(pool);
    },
    delayFor(pool, attemptId) {
      const map = delayed.get(pool) ?? new Map<string, number>();
      delayed.set(pool, map);
      const count = (map.get(attemptId) ?? 0) + 1;
      map.set(attemptId, count);
      return noSlotDelayMs(count, retryDelayMs);
    },
    done(pool, attemptId) {
      delayed.get(pool)?.delete(attemptId);
    },
    releaseAll() {
      for (const set of waiters.values()) for (const waiter of [...set]) waiter(false);
    },
  };
}
