import { createMemoryLogger } from '@orchestra/lib';
import type { AttemptJob } from '../task-queues';
import type { Claim } from './claim-policy';
import { createSlotWaits } from './slot-waits';

function waits(capacity: Record<string, number> = {}) {
  const promoted: Array<[string, string[]]> = [];
  const paces: string[] = [];
  const slots = createSlotWaits({
    queues: {
      promote: (pool, ids) => {
        promoted.push([pool, [...ids]]);
        return Promise.resolve();
      },
    },
    retryDelayMs: 100,
    capacity: (pool) => capacity[pool],
    onPace: (pool, short) => paces.push(`${pool}:${short ? 'short' : 'long'}`),
    log: createMemoryLogger('slot-waits-test'),
  });
  return { slots, promoted, paces };
}

const job = (attemptId: string, pool = 'default'): AttemptJob => ({ attemptId, taskId: `t-${attemptId}`, runId: `r-${attemptId}`, orgId: 'o', pool });
const drop = (reason: string): Claim => ({ kind: 'drop', reason });

describe('slot waits', () => {
  it('hand a freed slot to the longest waiting claim of its pool, one per slot', async () => {
    const { slots, promoted } = waits();
    const first = slots.waitForSlot('default', 10_000, job('a1'));
    const second = slots.waitForSlot('default', 10_000, job('a2'));
    const otherPool = slots.waitForSlot('gpu', 20, job('g1', 'gpu'));
    slots.slotFreed('default');
    expect(await first).toEqual({ kind: 'look' });
    expect(await otherPool).toEqual({ kind: 'gone' });
    slots.slotFreed('default');
    expect(await second).toEqual({ kind: 'look' });
    expect(promoted).toEqual([]);
  });

  it('promote the attempts that went back to the queue delayed when a slot frees up and nobody waits here', () => {
    const { slots, promoted } = waits();
    expect([slots.delayFor('default', 'a1'), slots.delayFor('default', 'a1'), slots.delayFor('default', 'a2')]).toEqual([100, 200, 100]);
    slots.slotFreed('default');
    expect(promoted).toEqual([['default', ['a1', 'a2']]]);
    slots.done('default', 'a1');
    slots.wake('default');
    expect(promoted[1]).toEqual(['default', ['a2']]);
  });

  it('count the calls running per pool, and let every waiting claim go at wake or stop', async () => {
    const { slots } = waits();
    slots.callStarted('default');
    slots.callStarted('default');
    slots.callEnded('default', 10);
    expect(slots.executing('default')).toBe(1);
    expect(slots.executing('gpu')).toBe(0);
    const woken = slots.waitForSlot('default', 10_000, job('a1'));
    slots.wake('default');
    expect(await woken).toEqual({ kind: 'look' });
    const released = slots.waitForSlot('default', 10_000, job('a2'));
    slots.releaseAll();
    expect(await released).toEqual({ kind: 'gone' });
  });
});

describe('jobs taken ahead of the slots', () => {
  it('park only while the places held here fill the pool, and ride with results, the longest parked first', async () => {
    const { slots } = waits({ default: 2 });
    expect(slots.mustPark('default')).toBe(false);
    slots.enter('default');
    slots.enter('default');
    expect(slots.mustPark('default')).toBe(true);
    // A pool not consumed here never parks.
    expect(slots.mustPark('gpu')).toBe(false);
    const p1 = slots.park('default', 10_000, job('p1'));
    const p2 = slots.park('default', 10_000, job('p2'));
    const rider = slots.takeRider('default');
    expect(rider?.job.attemptId).toBe('p1');
    // The rider holds a place from the moment it is taken: a holder leaving now leaves the pool full.
    slots.leave('default');
    expect(slots.mustPark('default')).toBe(true);
    // Nothing else answers a rider (a slot freed, a wake): only its transaction.
    slots.slotFreed('default');
    expect(await p2).toEqual({ kind: 'look' });
    rider!.rode(drop('claimed with the result'));
    expect(await p1).toEqual({ kind: 'rode', claim: drop('claimed with the result'), at: expect.any(Number) as number });
    expect(slots.takeRider('default')).toBeUndefined();
  });

  it('let the longest parked job claim on its own when a holder leaves below the pool’s slots, one per place', async () => {
    const { slots } = waits({ default: 2 });
    slots.enter('default');
    slots.enter('default');
    const answers: string[] = [];
    const parked = ['p1', 'p2', 'p3'].map((id) => slots.park('default', 10_000, job(id)).then((w) => answers.push(`${id}:${w.kind}`)));
    slots.leave('default');
    await Promise.resolve();
    await Promise.resolve();
    expect(answers).toEqual(['p1:look']);
    // p1 holds the place it was given: the pool is full again.
    expect(slots.mustPark('default')).toBe(true);
    slots.leave('default');
    slots.leave('default');
    await Promise.all(parked.slice(0, 3));
    expect(answers).toEqual(['p1:look', 'p2:look', 'p3:look']);
  });

  it('wake parked jobs only as far as the pool has room, and send them all back at stop', async () => {
    const { slots } = waits({ default: 1 });
    slots.enter('default');
    const parked = slots.park('default', 10_000, job('p1'));
    const looking = slots.waitForSlot('default', 10_000, job('n1'));
    slots.wake('default');
    expect(await looking).toEqual({ kind: 'look' });
    slots.releaseAll();
    expect(await parked).toEqual({ kind: 'stop' });
    expect(await slots.park('default', 10_000, job('p2'))).toEqual({ kind: 'stop' });
    expect(slots.mustPark('default')).toBe(false);
  });

  it('are taken only while the pool’s calls are short: told when its calls’ moving average crosses SHORT_CALL_MS', () => {
    const { slots, paces } = waits({ default: 1 });
    const call = (pool: string, ms: number) => {
      slots.callStarted(pool);
      slots.callEnded(pool, ms);
    };
    // A first long call (a blocker holding the slot): nothing taken ahead.
    call('default', 4_000);
    expect(paces).toEqual([]);
    // Short calls after it: only once the average is short.
    for (let i = 0; i < 5; i += 1) call('default', 20);
    expect(paces).toEqual([]);
    for (let i = 0; i < 10; i += 1) call('default', 20);
    expect(paces).toEqual(['default:short']);
    call('gpu', 50);
    expect(paces).toEqual(['default:short', 'gpu:short']);
    // Long calls again: taken ahead no longer.
    for (let i = 0; i < 3; i += 1) call('default', 10_000);
    expect(paces).toEqual(['default:short', 'gpu:short', 'default:long']);
  });
});
