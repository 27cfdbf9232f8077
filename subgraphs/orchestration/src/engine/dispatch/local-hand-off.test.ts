import { createMemoryLogger } from '@orchestra/lib';
import type { EnqueueRequest } from '../effects';
import { createLocalHandOff, FAILED_HAND_OFF_DELAY_MS, handOffDecision, type HandOffOutcome, type PoolState } from './local-hand-off';

const free: PoolState = { draining: false, capacity: 2, holding: 0, waiting: 0, short: true };
const NOW = 1_000_000;

describe('handOffDecision', () => {
  it('takes an attempt available now when the pool is consumed here with room and nothing waiting', () => {
    expect(handOffDecision(free, NOW, NOW)).toEqual({ take: true });
    expect(handOffDecision({ ...free, holding: 1 }, NOW - 5, NOW)).toEqual({ take: true });
  });

  it('leaves it to the queue while the dispatcher stops', () => {
    expect(handOffDecision({ ...free, draining: true }, NOW, NOW)).toEqual({ take: false, why: 'draining' });
  });

  it('leaves it to the queue when this process does not consume its pool', () => {
    expect(handOffDecision({ ...free, capacity: undefined }, NOW, NOW)).toEqual({ take: false, why: 'not-consumed' });
  });

  it('leaves it to the queue while the pool\'s calls are long (no jobs taken ahead)', () => {
    expect(handOffDecision({ ...free, short: false }, NOW, NOW)).toEqual({ take: false, why: 'long-calls' });
  });

  it('leaves it to the queue when every place of the pool is held here', () => {
    expect(handOffDecision({ ...free, holding: 2 }, NOW, NOW)).toEqual({ take: false, why: 'full' });
    expect(handOffDecision({ ...free, capacity: 0 }, NOW, NOW)).toEqual({ take: false, why: 'full' });
  });

  it('passes nothing that waits in the pool here', () => {
    expect(handOffDecision({ ...free, waiting: 1 }, NOW, NOW)).toEqual({ take: false, why: 'others-wait' });
  });

  it('leaves an attempt available later (a retry backing off) to the queue', () => {
    expect(handOffDecision(free, NOW + 1, NOW)).toEqual({ take: false, why: 'not-available' });
  });
});

const entry = (attemptId: string, pool = 'default'): EnqueueRequest => ({ attemptId, orgId: 'o', runId: 'r', taskId: 't', pool, availableAt: new Date(NOW) });

function harness(process: (attemptId: string) => Promise<HandOffOutcome>, state: Partial<PoolState> = {}) {
  let holding = 0;
  const requeued: Array<{ attemptId: string; delayMs: number; source: string; orderedAt: number }> = [];
  const counted: string[] = [];
  const handOff = createLocalHandOff({
    state: () => ({ ...free, holding, ...state }),
    enter: () => (holding += 1),
    leave: () => (holding -= 1),
    process: (job) => process(job.attemptId),
    requeue: async (entries, delayMs, source, orderedAt) => {
      for (const e of entries) requeued.push({ attemptId: e.attemptId, delayMs, source, orderedAt });
    },
    counted: (pool) => counted.push(pool),
    log: createMemoryLogger('local-hand-off-test'),
    now: () => NOW,
  });
  return { handOff, requeued, counted, holding: () => holding };
}

describe('createLocalHandOff', () => {
  it('holds a place from the offer until the processing ends, so the next offer sees it', async () => {
    const finish: Array<() => void> = [];
    const h = harness(() => new Promise<HandOffOutcome>((resolve) => finish.push(() => resolve({ kind: 'done' }))));
    expect(h.handOff.offer(entry('a'))).toBe(true);
    expect(h.handOff.offer(entry('b'))).toBe(true);
    expect(h.holding()).toBe(2);
    // The pool's two places are held: the third goes to the queue.
    expect(h.handOff.offer(entry('c'))).toBe(false);
    expect(h.counted).toEqual(['default', 'default']);
    expect(h.handOff.inFlight()).toBe(2);
    for (const f of finish) f();
    await h.handOff.settled();
    expect(h.holding()).toBe(0);
    expect(h.handOff.inFlight()).toBe(0);
    expect(h.requeued).toEqual([]);
  });

  it('puts an attempt whose claim says wait on the queue delayed, in the place it was handed off with', async () => {
    const h = harness(async () => ({ kind: 'wait', delayMs: 750 }));
    expect(h.handOff.offer(entry('a'))).toBe(true);
    await h.handOff.settled();
    expect(h.requeued).toEqual([{ attemptId: 'a', delayMs: 750, source: 'local-wait', orderedAt: NOW }]);
    expect(h.holding()).toBe(0);
  });

  it('puts an attempt whose processing failed (the database away) on the queue after BullMQ’s first retry delay', async () => {
    const h = harness(async () => {
      throw new Error('connection refused');
    });
    expect(h.handOff.offer(entry('a'))).toBe(true);
    await h.handOff.settled();
    expect(h.requeued).toEqual([{ attemptId: 'a', delayMs: FAILED_HAND_OFF_DELAY_MS, source: 'local-failed', orderedAt: NOW }]);
    expect(h.holding()).toBe(0);
  });

  it('takes nothing while the dispatcher stops', () => {
    const h = harness(async () => ({ kind: 'done' }), { draining: true });
    expect(h.handOff.offer(entry('a'))).toBe(false);
    expect(h.holding()).toBe(0);
    expect(h.counted).toEqual([]);
  });
});
