import { AppError } from '@orchestra/lib';
import { checkEventFilter, checkEventName, matchesFilter, valueAt } from './event-filter';

const refusal = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('event filters', () => {
  const payload = { order: { status: 'paid', total: 12, tags: ['a', 'b'], 'a/b': 1, 'c~d': 2 }, nothing: null };

  it('walks JSON pointers, escapes included', () => {
    expect(valueAt(payload, '/order/status')).toBe('paid');
    expect(valueAt(payload, '/order/tags/1')).toBe('b');
    expect(valueAt(payload, '/order/a~1b')).toBe(1);
    expect(valueAt(payload, '/order/c~0d')).toBe(2);
    expect(valueAt(payload, '')).toBe(payload);
    expect(valueAt(payload, '/order/tags/01')).toBeUndefined();
    expect(valueAt(payload, '/order/missing/deeper')).toBeUndefined();
    expect(valueAt(payload, '/order/toString')).toBeUndefined();
  });

  it('matches when every condition holds, by JSON equality', () => {
    expect(matchesFilter([], payload)).toBe(true);
    expect(matchesFilter([{ path: '/order/status', equals: 'paid' }, { path: '/order/total', equals: 12 }], payload)).toBe(true);
    expect(matchesFilter([{ path: '/order/status', equals: 'paid' }, { path: '/order/total', equals: '12' }], payload)).toBe(false);
    expect(matchesFilter([{ path: '/order/tags', equals: ['a', 'b'] }], payload)).toBe(true);
    expect(matchesFilter([{ path: '/nothing', equals: null }], payload)).toBe(true);
    // A missing field is not null.
    expect(matchesFilter([{ path: '/absent', equals: null }], payload)).toBe(false);
  });

  it('refuses filters out of bounds, naming the field', () => {
    expect(refusal(() => checkEventFilter({ path: '/a' }, 'input.filter'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.filter' });
    expect(refusal(() => checkEventFilter(Array.from({ length: 11 }, () => ({ path: '/a', equals: 1 })), 'input.filter')).message).toMatch(/at most 10/);
    expect(refusal(() => checkEventFilter([{ path: 'a', equals: 1 }], 'input.filter'))).toMatchObject({ field: 'input.filter[0].path' });
    expect(refusal(() => checkEventFilter([{ path: '/a~2', equals: 1 }], 'f'))).toMatchObject({ field: 'f[0].path' });
    expect(refusal(() => checkEventFilter([{ path: '/a' }], 'f'))).toMatchObject({ field: 'f[0].equals' });
    expect(refusal(() => checkEventFilter([{ path: '/a', equals: 'x'.repeat(2000) }], 'f'))).toMatchObject({ field: 'f[0].equals' });
    expect(refusal(() => checkEventFilter([{ path: '/a', equals: 1, regex: '.*' }], 'f'))).toMatchObject({ field: 'f[0].regex' });
    expect(refusal(() => checkEventFilter([{ path: `/${'a/'.repeat(20)}`, equals: 1 }], 'f'))).toMatchObject({ field: 'f[0].path' });
    expect(checkEventFilter(null, 'f')).toEqual([]);
  });

  it('checks event names', () => {
    expect(checkEventName('order.paid', 'name')).toBe('order.paid');
    expect(refusal(() => checkEventName('', 'name'))).toMatchObject({ field: 'name', reason: 'INVALID_EVENT_NAME' });
    expect(refusal(() => checkEventName('has space', 'name'))).toMatchObject({ reason: 'INVALID_EVENT_NAME' });
    expect(refusal(() => checkEventName('x'.repeat(129), 'name'))).toMatchObject({ reason: 'INVALID_EVENT_NAME' });
  });
});
