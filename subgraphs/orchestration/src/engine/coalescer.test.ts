import { createCoalescer } from './coalescer';

/** A flush the test finishes by hand, recording what each flush was given. */
function controlledFlush() {
  const batches: number[][] = [];
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const flush = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(items);
      pending.push({ resolve, reject });
    });
  return { flush, batches, pending };
}

const settled = async (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'done',
    (error: Error) => `failed: ${error.message}`,
  );

describe('createCoalescer', () => {
  it('flushes a lone call at once, and the calls made meanwhile together in the next flush, in call order', async () => {
    const { flush, batches, pending } = controlledFlush();
    const add = createCoalescer(flush);
    const first = add([1]);
    expect(batches).toEqual([[1]]);
    const second = add([2, 3]);
    const third = add([4]);
    expect(batches).toEqual([[1]]);
    pending[0]!.resolve();
    expect(await settled(first)).toBe('done');
    expect(batches).toEqual([[1], [2, 3, 4]]);
    pending[1]!.resolve();
    expect(await Promise.all([settled(second), settled(third)])).toEqual(['done', 'done']);
    const fourth = add([5]);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    pending[2]!.resolve();
    expect(await settled(fourth)).toBe('done');
  });

  it('fails every call of a failed flush, and only those', async () => {
    const { flush, batches, pending } = controlledFlush();
    const add = createCoalescer(flush);
    const first = add([1]);
    const second = add([2]);
    const third = add([3]);
    pending[0]!.resolve();
    expect(await settled(first)).toBe('done');
    pending[1]!.reject(new Error('redis away'));
    expect(await Promise.all([settled(second), settled(third)])).toEqual(['failed: redis away', 'failed: redis away']);
    const fourth = add([4]);
    pending[2]!.resolve();
    expect(await settled(fourth)).toBe('done');
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('does not flush for a call without items', async () => {
    const { flush, batches } = controlledFlush();
    await createCoalescer(flush)([]);
    expect(batches).toEqual([]);
  });
});
