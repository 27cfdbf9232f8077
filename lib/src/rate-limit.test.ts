import { createMemoryLogger } from './log';
import { createRateLimiter } from './rate-limit';
import { createRedis, type Redis } from './redis';
import { TEST_REDIS_URL, uniqueName } from './testing';

let redis: Redis;
beforeAll(() => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'lib-test', log: createMemoryLogger() });
});
afterAll(async () => {
  await redis.quit();
});

describe('sliding-window rate limiter (real Redis)', () => {
  it('allows up to the limit, then refuses with a retry time', async () => {
    const limiter = createRateLimiter({ redis, prefix: uniqueName('rl'), limit: 3, windowMs: 60_000 });
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await limiter.hit('k'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterMs).toBeGreaterThan(59_000);
    expect((await limiter.hit('other')).allowed).toBe(true);
    await limiter.reset('k');
    expect((await limiter.peek('k')).count).toBe(0);
  });

  it('forgets hits older than the window', async () => {
    const limiter = createRateLimiter({ redis, prefix: uniqueName('rl'), limit: 1, windowMs: 200 });
    expect((await limiter.hit('k')).allowed).toBe(true);
    expect((await limiter.hit('k')).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
    expect((await limiter.hit('k')).allowed).toBe(true);
  });
});
