import { backoffCeilingMs, backoffDelayMs } from './backoff';

const policy = { maxAttempts: 10, initialDelayMs: 100, backoffFactor: 2, maxDelayMs: 1_000 };

describe('exponential backoff with full jitter', () => {
  it('doubles the ceiling per failure up to maxDelay', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeilingMs(policy, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffCeilingMs({ ...policy, backoffFactor: 3 }, 3)).toBe(900);
    expect(backoffCeilingMs(policy, 10_000)).toBe(1_000);
  });

  it('draws uniformly between 0 and the ceiling', () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelayMs(policy, 3, () => 0.999_999)).toBe(400);
    for (let i = 0; i < 200; i += 1) {
      const d = backoffDelayMs(policy, 4);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('never waits with a zero initial delay', () => {
    expect(backoffDelayMs({ ...policy, initialDelayMs: 0 }, 5, () => 0.9)).toBe(0);
  });
});
