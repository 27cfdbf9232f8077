import type { AppRow } from '../store/apps';
import { createAppLoader } from './app-loader';

const row = (id: string) => ({ id, slug: `s-${id}` }) as AppRow;

describe('the per-request app loader', () => {
  it('turns lookups made together into one load, and answers null for ids not found', async () => {
    const calls: string[][] = [];
    const loader = createAppLoader(async (ids) => {
      calls.push(ids);
      return ids.filter((id) => id !== 'c').map(row);
    });
    const results = await Promise.all(['a', 'b', 'c', 'A'].map((id) => loader.load(id)));
    expect(results.map((r) => r?.slug ?? null)).toEqual(['s-a', 's-b', null, 's-a']);
    expect(calls).toEqual([['a', 'b', 'c']]);
    // Cached for the rest of the request.
    await loader.load('b');
    expect(calls).toHaveLength(1);
    await loader.load('d');
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('rejects every lookup of a batch whose load failed', async () => {
    const loader = createAppLoader(() => Promise.reject(new Error('database away')));
    await expect(Promise.all([loader.load('a'), loader.load('b')])).rejects.toThrow('database away');
  });
});
