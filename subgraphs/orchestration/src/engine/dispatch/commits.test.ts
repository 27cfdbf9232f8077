import { createMemoryLogger } from '@orchestra/lib';
import type { Engine } from '../engine';
import type { TransitionContext } from '../transitions';
import { createDispatchChange } from './commits';

/** An engine whose commits are immediate and whose effects end when the test says. */
function engineWithHeldEffects() {
  const held: Array<{ end: () => void; fail: (error: Error) => void }> = [];
  const engine: Pick<Engine, 'changeCommitted'> = {
    async changeCommitted<T>(_principal: unknown, fn: (ctx: TransitionContext) => Promise<T>) {
      const result = await fn({} as TransitionContext);
      const effects = new Promise<void>((end, fail) => held.push({ end, fail }));
      return { result, effects };
    },
  };
  return { engine, held };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('a dispatch change', () => {
  it('resolves when its effects have ended, as engine.change does', async () => {
    const { engine, held } = engineWithHeldEffects();
    const change = createDispatchChange({ engine, log: createMemoryLogger('commits-test') });
    let resolved: string | undefined;
    const done = change(() => Promise.resolve('claimed')).then((r) => (resolved = r));
    await tick();
    expect(held).toHaveLength(1);
    expect(resolved).toBeUndefined();
    held[0]!.end();
    await done;
    expect(resolved).toBe('claimed');
  });

  it('logs a failed effect and resolves with what committed, so a batcher never applies a committed batch again', async () => {
    const { engine, held } = engineWithHeldEffects();
    const log = createMemoryLogger('commits-test');
    const change = createDispatchChange({ engine, log });
    const done = change(() => Promise.resolve(['claimed', 'claimed']));
    await tick();
    held[0]!.fail(new Error('redis went away'));
    await expect(done).resolves.toEqual(['claimed', 'claimed']);
    expect(log.lines.filter((l) => l['level'] === 'warn' || l['level'] === 40).map((l) => l['msg'])).toEqual(['effects of a dispatch commit failed (its events and queued attempts are in PostgreSQL)']);
  });

  it('passes a failed transaction on to the caller (nothing committed, no effects)', async () => {
    const { engine, held } = engineWithHeldEffects();
    const change = createDispatchChange({ engine, log: createMemoryLogger('commits-test') });
    await expect(change(() => Promise.reject(new Error('serialization failure')))).rejects.toThrow('serialization failure');
    expect(held).toHaveLength(0);
  });
});
