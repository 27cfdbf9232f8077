import type { TaskStatus } from './api/__generated__/graphql';
import { countItemEvent, EMPTY_ITEM_COUNTS, previousItemStatus, recountItems, type ItemCounts } from './item-counts';

const counts = (c: Partial<ItemCounts>): ItemCounts => ({ ...EMPTY_ITEM_COUNTS, ...c });
const ev = (seq: number, taskId: string, taskStatus: 'PENDING' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED', attempt: number | null = 1) => ({ seq, taskId, taskStatus, attempt });

describe('forEach item counts from live events', () => {
  it('moves an item from the status it left to the new one, guessing the one before for an item not seen yet', () => {
    const statuses = new Map<string, TaskStatus>();
    let c = counts({ total: 3, pending: 2, queued: 1 });
    c = countItemEvent(c, statuses, ev(1, 'i0', 'RUNNING'));
    expect(c).toMatchObject({ pending: 2, queued: 0, running: 1 });
    c = countItemEvent(c, statuses, ev(2, 'i1', 'QUEUED'));
    expect(c).toMatchObject({ pending: 1, queued: 1, running: 1 });
    c = countItemEvent(c, statuses, ev(3, 'i0', 'SUCCEEDED'));
    c = countItemEvent(c, statuses, ev(4, 'i1', 'RUNNING'));
    c = countItemEvent(c, statuses, ev(5, 'i1', 'QUEUED', 2));
    expect(c).toEqual(counts({ total: 3, pending: 1, queued: 1, succeeded: 1 }));
    // The same status twice (a redelivered event) does not count twice.
    expect(countItemEvent(c, statuses, ev(6, 'i1', 'QUEUED', 2))).toBe(c);
  });

  it('guesses what an unseen item left from where it is in its life', () => {
    expect(previousItemStatus({ taskStatus: 'QUEUED', attempt: 1 })).toBe('PENDING');
    expect(previousItemStatus({ taskStatus: 'QUEUED', attempt: 2 })).toBe('RUNNING');
    expect(previousItemStatus({ taskStatus: 'RUNNING', attempt: 1 })).toBe('QUEUED');
    expect(previousItemStatus({ taskStatus: 'FAILED', attempt: 3 })).toBe('RUNNING');
    expect(previousItemStatus({ taskStatus: 'CANCELLED', attempt: null })).toBe('PENDING');
    expect(previousItemStatus({ taskStatus: null, attempt: null })).toBeUndefined();
  });

  it('never counts below zero when a guess was wrong', () => {
    const c = countItemEvent(counts({ total: 1, running: 1 }), new Map<string, TaskStatus>(), ev(1, 'i0', 'CANCELLED'));
    expect(c).toEqual(counts({ total: 1, running: 1, cancelled: 1 }));
  });

  it('counts fetched at a seq get the events after it on top, and remember the statuses of those before', () => {
    const events = [ev(1, 'i0', 'QUEUED'), ev(2, 'i0', 'RUNNING'), ev(3, 'i1', 'QUEUED'), ev(4, 'i0', 'SUCCEEDED')];
    // Fetched after seq 2: i0 running, i1 pending.
    const { counts: c, statuses } = recountItems({ ...counts({ total: 2, running: 1, pending: 1 }), __typename: 'TaskItemCounts' } as ItemCounts, 2, events);
    expect(c).toEqual(counts({ total: 2, queued: 1, succeeded: 1 }));
    expect(statuses.get('i0')).toBe('SUCCEEDED');
    expect(statuses.get('i1')).toBe('QUEUED');
  });
});
