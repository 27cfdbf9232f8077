import type { Logger } from '@orchestra/lib';
import type { AttemptJob, TaskQueues } from '../task-queues';
import { noSlotDelayMs, type Claim } from './claim-policy';

/**
 * Attempts waiting for a free slot, per pool, and the claims that ride with a result.
 *
 * A pool's consumer takes jobs ahead of its slots (pool-consumers.ts). A job taken while every slot
 * the pool has is held by this process's claims and calls does not claim: it parks here. When a call
 * of its pool ends, its result takes the longest waiting job along (takeRider): the job's claim goes
 * in the result's transaction, after the result (transactions.ts), so it takes the slot the result
 * frees — no transaction of its own, and no Redis round trip between a slot freed and its next claim.
 *
 * A claim that found no free slot waits here too, for a result to ride with (or a slot freed here
 * otherwise), and goes back to the queue delayed only if none comes soon, or at once if this process
 * runs nothing in that pool. Delayed attempts are promoted when a slot frees up here or a worker joins
 * (wake).
 */
export interface SlotWaits {
  /**
   * Waits up to `ms` for a slot of `pool`: `rode` (the claim of `job` went with a result; `at` when
   * it was sent), `look` (a slot freed up here or a worker joined: claim again), `gone` (none came,
   * or the dispatcher is stopping).
   */
  waitForSlot(pool: string, ms: number, job: AttemptJob): Promise<SlotWait>;
  /**
   * Parks a job taken ahead while every slot `pool` has is held here (`mustPark`), until a result takes
   * it along, a slot frees up, a holder leaves without taking one along (then `look`), or `ms` pass
   * (`gone`); `stop` when the dispatcher stops. Every answer but `stop` holds a place (enter).
   */
  park(pool: string, ms: number, job: AttemptJob): Promise<SlotWait | { kind: 'stop' }>;
  /** Whether a job of `pool` taken now parks: the jobs holding a place here fill the pool's slots. */
  mustPark(pool: string): boolean;
  /** A job of `pool` holds a place (it claims, waits for a slot after a claim, or runs its call). */
  enter(pool: string): void;
  /** It left (its processing ended): below the pool's slots, the longest parked job looks. */
  leave(pool: string): void;
  /** The longest waiting job of `pool`, to claim in a result's transaction; it holds a place from now. */
  takeRider(pool: string): Rider | undefined;
  /** An Execute call of `pool` started here. */
  callStarted(pool: string): void;
  /** An Execute call of `pool` ended here after `ms` (its result may not be applied yet). */
  callEnded(pool: string, ms: number): void;
  /** A slot of `pool` is free again (the call's result applied): the longest waiting claim looks again, or else a delayed job is promoted. */
  slotFreed(pool: string): void;
  /** Execute calls of `pool` running here. */
  executing(pool: string): number;
  /** Every claim waiting in `pool` looks again (parked jobs as far as the pool's slots have room), and delayed jobs of the pool are promoted (a worker joined or freed slots). */
  wake(pool: string): void;
  /** How long an attempt that found no slot goes back to the queue delayed (longer each time it does). */
  delayFor(pool: string, attemptId: string): number;
  /** The attempt stopped waiting (it started or was dropped). */
  done(pool: string, attemptId: string): void;
  /** Every waiting claim gives up, and no job parks from now on (the dispatcher is stopping). */
  releaseAll(): void;
}

export type SlotWait = { kind: 'rode'; claim: Claim; at: number } | { kind: 'look' } | { kind: 'gone' };

/** A waiting job taken along by a result: tell it what its claim answered, or (the transaction failed) to claim itself. */
export interface Rider {
  job: AttemptJob;
  rode(claim: Claim): void;
  look(): void;
}

/** Delayed attempts promoted at once when a slot frees up. */
const PROMOTE_AT_ONCE = 20;
/** A pool's calls are short while the moving average of their durations is under this. */
export const SHORT_CALL_MS = 1_000;
/** Weight of the latest call in that average. */
const PACE_WEIGHT = 0.2;

interface Waiter {
  job: AttemptJob;
  parked: boolean;
  /** Out of the waiting set, its timer cleared; a parked job holds a place from then on. */
  detach: () => void;
  resolve: (outcome: SlotWait | { kind: 'stop' }) => void;
}

export interface SlotWaitsOptions {
  queues: Pick<TaskQueues, 'promote'>;
  retryDelayMs: number;
  /** How many of a pool's calls this process runs at once (its consumer's slots; undefined: not consumed here). */
  capacity: (pool: string) => number | undefined;
  /**
   * Told when a pool's calls become short, or stop being short (SHORT_CALL_MS): only then are its jobs
   * taken ahead (pool-consumers.ts takeAhead), so a parked job waits about one short call at most,
   * and work queued later with a higher priority is passed by no job that waited longer than that.
   */
  onPace?: (pool: string, short: boolean) => void;
  log: Logger;
}

export function createSlotWaits({ queues, retryDelayMs, capacity, onPace, log }: SlotWaitsOptions): SlotWaits {
  /** Attempts that went back to the queue delayed for want of a slot, per pool, and how often. */
  const delayed = new Map<string, Map<string, number>>();
  /** Waiting jobs per pool, the longest waiting first (a Set keeps insertion order). */
  const waiters = new Map<string, Set<Waiter>>();
  const running = new Map<string, number>();
  const holding = new Map<string, number>();
  /** Moving average of each pool's call durations (ms), and whether it is short. */
  const pace = new Map<string, { ms: number; short: boolean }>();
  let stopped = false;

  const waitersOf = (pool: string): Set<Waiter> => {
    let set = waiters.get(pool);
    if (!set) waiters.set(pool, (set = new Set()));
    return set;
  };
  const enter = (pool: string) => holding.set(pool, (holding.get(pool) ?? 0) + 1);
  const promoteDelayed = (pool: string) => {
    const ids = [...(delayed.get(pool)?.keys() ?? [])].slice(0, PROMOTE_AT_ONCE);
    if (ids.length > 0) void queues.promote(pool, ids).catch((error: unknown) => log.debug('could not promote waiting attempts', { err: error, pool }));
  };
  const wait = (pool: string, ms: number, job: AttemptJob, parked: boolean) =>
    new Promise<SlotWait | { kind: 'stop' }>((resolve) => {
      if (parked && stopped) return resolve({ kind: 'stop' });
      const set = waitersOf(pool);
      const timer = setTimeout(() => settle(waiter, { kind: 'gone' }), ms);
      const waiter: Waiter = {
        job,
        parked,
        detach: () => {
          clearTimeout(timer);
          set.delete(waiter);
          // Counted at once, so that the leave which woke it does not wake a second one.
          if (waiter.parked) enter(pool);
        },
        resolve,
      };
      set.add(waiter);
    });
  const settle = (waiter: Waiter, outcome: SlotWait | { kind: 'stop' }) => {
    if (outcome.kind === 'stop') waiter.parked = false;
    waiter.detach();
    waiter.resolve(outcome);
  };
  const first = (pool: string, which: (w: Waiter) => boolean): Waiter | undefined => {
    for (const w of waiters.get(pool) ?? []) if (which(w)) return w;
    return undefined;
  };

  return {
    waitForSlot: (pool, ms, job) => wait(pool, ms, job, false) as Promise<SlotWait>,
    park: (pool, ms, job) => wait(pool, ms, job, true),
    mustPark(pool) {
      const slots = capacity(pool);
      return !stopped && slots !== undefined && (holding.get(pool) ?? 0) >= slots;
    },
    enter,
    leave(pool) {
      const left = (holding.get(pool) ?? 1) - 1;
      holding.set(pool, left);
      if (left >= (capacity(pool) ?? 0)) return;
      const parked = first(pool, (w) => w.parked);
      if (parked) settle(parked, { kind: 'look' });
    },
    takeRider(pool) {
      const waiter = first(pool, () => true);
      if (!waiter) return undefined;
      // Out of the waiting set now (no timer or wake answers it); the answer comes with the transaction.
      waiter.detach();
      const sentAt = Date.now();
      return {
        job: waiter.job,
        rode: (claim) => waiter.resolve({ kind: 'rode', claim, at: sentAt }),
        look: () => waiter.resolve({ kind: 'look' }),
      };
    },
    callStarted(pool) {
      running.set(pool, (running.get(pool) ?? 0) + 1);
    },
    callEnded(pool, ms) {
      running.set(pool, (running.get(pool) ?? 1) - 1);
      const before = pace.get(pool);
      const average = before === undefined ? ms : before.ms + PACE_WEIGHT * (ms - before.ms);
      const short = average < SHORT_CALL_MS;
      pace.set(pool, { ms: average, short });
      if (short !== (before?.short ?? false)) onPace?.(pool, short);
    },
    slotFreed(pool) {
      const waiter = first(pool, () => true);
      if (waiter) settle(waiter, { kind: 'look' });
      else promoteDelayed(pool);
    },
    executing: (pool) => running.get(pool) ?? 0,
    wake(pool) {
      // Claims that found no slot look again; parked jobs as far as the pool's slots have room here.
      for (const waiter of [...(waiters.get(pool) ?? [])]) {
        if (!waiter.parked || (holding.get(pool) ?? 0) < (capacity(pool) ?? 0)) settle(waiter, { kind: 'look' });
      }
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
      stopped = true;
      for (const set of waiters.values()) for (const waiter of [...set]) settle(waiter, waiter.parked ? { kind: 'stop' } : { kind: 'gone' });
    },
  };
}
