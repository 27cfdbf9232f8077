import type { Redis } from 'ioredis';

export interface RateLimitResult {
  allowed: boolean;
  /** Hits counted in the current window, including this one. */
  count: number;
  limit: number;
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one hit for `key` and says whether it is within the limit. */
  hit(key: string): Promise<RateLimitResult>;
  /** Reads without counting. */
  peek(key: string): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
}

// Sliding window over a sorted set: exact, and atomic in one round trip.
const HIT_SCRIPT = `
local key, now, window, limit, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if member ~= '' then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
local count = redis.call('ZCARD', key)
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry = 0
if count >= limit and oldest[2] then retry = tonumber(oldest[2]) + window - now end
return { count, retry }
`;

export interface RateLimiterOptions {
  redis: Redis;
  /** Key prefix naming what is limited, e.g. `orchestra:rl:login-ip`. */
  prefix: string;
  limit: number;
  windowMs: number;
}

export function createRateLimiter({ redis, prefix, limit, windowMs }: RateLimiterOptions): RateLimiter {
  let seq = 0;
  const run = async (key: string, count: boolean): Promise<RateLimitResult> => {
    const now = Date.now();
    const member = count ? `${now}-${process.pid}-${(seq += 1)}` : '';
    const [n, retry] = (await redis.eval(HIT_SCRIPT, 1, `${prefix}:${key}`, now, windowMs, limit, member)) as [number, number];
    return { allowed: count ? n <= limit : n < limit, count: n, limit, retryAfterMs: Math.max(0, retry) };
  };
  return {
    hit: (key) => run(key, true),
    peek: (key) => run(key, false),
    reset: async (key) => {
      await redis.del(`${prefix}:${key}`);
    },
  };
}
