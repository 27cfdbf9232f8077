import { randomUUID } from 'node:crypto';
import { startTestOrchestration, type TestOrchestration } from '../testing/harness';

// Workers that register at the same time: the dispatcher takes as many of the pool's jobs at once as
// the pool has live slots, all of their slots counted. (Each registration's own transaction saw only
// its own row, and the pool's concurrency stayed at one worker's slots until the reconciler's next pass.)

let t: TestOrchestration;

beforeAll(async () => {
  t = await startTestOrchestration();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const register = (pool: string, slots: number) =>
  t.service.registry.register({
    worker: { workerId: `pc-${randomUUID().slice(0, 8)}`, endpoint: '127.0.0.1:1', pool, capabilities: ['noop'], slotsTotal: slots, slotsFree: slots, labels: {}, version: 'test', llmEndpoints: [] },
  });

describe('a pool whose workers register at once', () => {
  it('is consumed with every registered worker’s slots, however the registrations overlap', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const pool = `pc-${randomUUID().slice(0, 8)}`;
      await Promise.all([register(pool, 3), register(pool, 5), register(pool, 7)]);
      seen.push(t.service.dispatcher.concurrency(pool) ?? 0);
    }
    expect(seen).toEqual(Array.from({ length: 12 }, () => 15));
  }, 60_000);

  it('follows a worker that registers alone, and says nothing of a pool it does not consume', async () => {
    const pool = `pc-${randomUUID().slice(0, 8)}`;
    expect(t.service.dispatcher.concurrency(pool)).toBeUndefined();
    await register(pool, 2);
    expect(t.service.dispatcher.concurrency(pool)).toBe(2);
    await register(pool, 4);
    expect(t.service.dispatcher.concurrency(pool)).toBe(6);
  });
});
