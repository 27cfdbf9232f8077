import { createBatcher, createCoalescer } from './coalescer';

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

describe('createBatcher', () => {
  /** An apply the test finishes by hand; it answers each request with its double, or fails a batch holding a 13. */
  function controlledApply() {
    const batches: number[][] = [];
    const pending: Array<() => void> = [];
    const apply = (requests: number[]) =>
      new Promise<number[]>((resolve, reject) => {
        batches.push(requests);
        pending.push(() => (requests.includes(13) ? reject(new Error(`unlucky batch ${requests.join(',')}`)) : resolve(requests.map((r) => r * 2))));
      });
    /** Finishes the applies started so far, one at a time, until none is pending. */
    const finishAll = async () => {
      while (pending.length > 0) {
        pending.shift()!();
        await new Promise((r) => setImmediate(r));
      }
    };
    return { apply, batches, finishAll };
  }

  it('applies a lone request at once and the requests made meanwhile together, each getting its own result', async () => {
    const { apply, batches, finishAll } = controlledApply();
    const request = createBatcher({ apply, maxBatch: 10 });
    const results = [request(1), request(2), request(3), request(4)];
    expect(batches).toEqual([[1]]);
    await finishAll();
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('takes at most maxBatch requests per batch', async () => {
    const { apply, batches, finishAll } = controlledApply();
    const request = createBatcher({ apply, maxBatch: 2 });
    const results = [1, 2, 3, 4, 5, 6].map((n) => request(n));
    await finishAll();
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches).toEqual([[1], [2, 3], [4, 5], [6]]);
  });

  it('applies the requests of a failed batch one by one, so only the bad one fails', async () => {
    const { apply, batches, finishAll } = controlledApply();
    const failures: number[] = [];
    const request = createBatcher({ apply, maxBatch: 10, onBatchFailure: (_error, size) => failures.push(size) });
    const results = [1, 2, 13, 4].map((n) => settledValue(request(n)));
    await finishAll();
    expect(await Promise.all(results)).toEqual([2, 4, 'failed: unlucky batch 13', 8]);
    expect(batches).toEqual([[1], [2, 13, 4], [2], [13], [4]]);
    expect(failures).toEqual([3]);
  });
});

const settledValue = async <T>(p: Promise<T>): Promise<T | string> =>
  p.then(
    (v) => v,
    (error: Error) => `failed: ${error.message}`,
  );
