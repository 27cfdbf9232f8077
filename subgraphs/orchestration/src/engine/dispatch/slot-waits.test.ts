import { createMemoryLogger } from '@orchestra/lib';
import { createSlotWaits } from './slot-waits';

function waits() {
  const promoted: Array<[string, string[]]> = [];
  const slots = createSlotWaits({
    queues: {
      promote: (pool, ids) => {
        promoted.push([pool, [...ids]]);
        return Promise.resolve();
      },
    },
    retryDelayMs: 100,
    log: createMemoryLogger('slot-waits-test'),
  });
  return { slots, promoted };
}

describe('slot waits', () => {
  it('hand a freed slot to the longest waiting claim of its pool, one per slot', async () => {
    const { slots, promoted } = waits();
    const first = slots.waitForSlot('default', 10_000);
    const second = slots.waitForSlot('default', 10_000);
    const otherPool = slots.waitForSlot('gpu', 20);
    slots.slotFreed('default');
    expect(await first).toBe(true);
    expect(await otherPool).toBe(false);
    slots.slotFreed('default');
    expect(await second).toBe(true);
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
    slots.callEnded('default');
    expect(slots.executing('default')).toBe(1);
    expect(slots.executing('gpu')).toBe(0);
    const woken = slots.waitForSlot('default', 10_000);
    slots.wake('default');
    expect(await woken).toBe(true);
    const released = slots.waitForSlot('default', 10_000);
    slots.releaseAll();
    expect(await released).toBe(false);
  });
});
