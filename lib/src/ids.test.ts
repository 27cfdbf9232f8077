import { newRequestId, pooledRandomBytes } from './ids';
import { ensureTraceparent } from './trace';

describe('random ids from the pooled CSPRNG buffer', () => {
  it('gives distinct request ids and traceparents across many pool refills', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => newRequestId()));
    expect(ids.size).toBe(5_000);
    for (const id of [...ids].slice(0, 50)) expect(id).toMatch(/^req_[A-Za-z0-9_-]{12}$/);
    const traces = new Set(Array.from({ length: 2_000 }, () => ensureTraceparent(undefined)));
    expect(traces.size).toBe(2_000);
    for (const trace of [...traces].slice(0, 50)) expect(trace).toMatch(/^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-01$/);
  });

  it('never hands out the same bytes twice, also across a refill', () => {
    const seen = new Set<string>();
    // 4 KiB pool: 600 × 16 bytes crosses two refills.
    for (let i = 0; i < 600; i += 1) seen.add(pooledRandomBytes(16).toString('hex'));
    expect(seen.size).toBe(600);
  });

  it('refuses more than the pool holds, naming the limit', () => {
    expect(() => pooledRandomBytes(4097)).toThrow('pooledRandomBytes: at most 4096 bytes (asked 4097)');
  });
});
