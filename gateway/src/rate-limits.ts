import type { Logger, Metrics, Redis } from '@orchestra/lib/gateway';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  retryAfterMs: number;
}

export interface GatewayRateLimiter {
  /** Counts one request for `key` and decides at once, from what this process knows. */
  hit(key: string): RateDecision;
  /** Sends what is counted but not yet shared (tests and shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface GatewayRateLimiterOptions {
  redis: Redis;
  /** Key prefix naming what is limited, e.g. `orchestra:rl:gateway`. */
  prefix: string;
  limit: number;
  windowMs: number;
  log: Logger;
  metrics?: Metrics;
  /** How often counts are shared through Redis. Default 100 ms. */
  flushMs?: number;
  maxKeys?: number;
}

interface KeyState {
  window: number;
  /** Best known count of the current window across every gateway process (ours included). */
  current: number;
  /** The previous window's total (weighted by how much of it still overlaps the sliding window). */
  previous: number;
  /** Our hits not yet added in Redis. */
  pending: number;
  /** Redis has not been asked for this key's totals yet. */
  fresh: boolean;
}

/**
 * A per-principal rate limit that costs no Redis round trip per request: each gateway process counts
 * in memory and decides at once (a sliding window approximated by the current and previous fixed
 * windows), and every `flushMs` adds its counts to Redis in one pipeline, reading back the totals of
 * every process. Across processes the limit can be overshot by what the others counted within one
 * flush interval. When Redis cannot be reached the limiter keeps counting in memory, so each process
 * enforces the limit alone until Redis is back (docs/decisions.md, "Redis outage at the gateway").
 */
export function createGatewayRateLimiter({ redis, prefix, limit, windowMs, log, metrics, flushMs = 100, maxKeys = 200_000 }: GatewayRateLimiterOptions): GatewayRateLimiter {
  const states = new Map<string, KeyState>();
  const degraded = metrics?.gauge('gateway_rate_limiter_degraded', 'Rate limiter counting in this process only (Redis unreachable)', ['limiter']);
  const label = { limiter: prefix.split(':').at(-1) ?? prefix };
  let degradedSince: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let lastSweep = Date.now();

  const windowOf = (now: number) => Math.floor(now / windowMs);
  const redisKey = (key: string, window: number) => `${prefix}:${key}:${window}`;

  const stateOf = (key: string, window: number): KeyState => {
    let state = states.get(key);
    if (!state) {
      if (states.size >= maxKeys) states.delete(states.keys().next().value as string);
      state = { window, current: 0, previous: 0, pending: 0, fresh: true };
      states.set(key, state);
    } else if (state.window !== window) {
      state.previous = state.window === window - 1 ? state.current : 0;
      state.current = 0;
      state.pending = 0;
      state.window = window;
      state.fresh = true;
    }
    return state;
  };

  const setDegraded = (on: boolean, error?: unknown) => {
    if (on && degradedSince === undefined) {
      degradedSince = Date.now();
      degraded?.set(label, 1);
      log.warn('rate limiter cannot reach Redis: counting in this process only', { err: error, limiter: label.limiter });
    } else if (!on && degradedSince !== undefined) {
      log.info('rate limiter shares counts through Redis again', { limiter: label.limiter, degradedMs: Date.now() - degradedSince });
      degradedSince = undefined;
      degraded?.set(label, 0);
    }
  };

  const flushNow = async (): Promise<void> => {
    const batch: Array<{ key: string; state: KeyState; window: number; sent: number; askPrevious: boolean }> = [];
    for (const [key, state] of states) {
      if (state.pending > 0 || state.fresh) batch.push({ key, state, window: state.window, sent: state.pending, askPrevious: state.fresh });
    }
    if (batch.length === 0) return;
    if (redis.status !== 'ready') {
      setDegraded(true);
      return;
    }
    const pipeline = redis.pipeline();
    for (const item of batch) {
      pipeline.incrby(redisKey(item.key, item.window), item.sent);
      pipeline.pexpire(redisKey(item.key, item.window), windowMs * 2);
      if (item.askPrevious) pipeline.get(redisKey(item.key, item.window - 1));
    }
    for (const item of batch) item.state.pending -= item.sent;
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      replies = null;
      setDegraded(true, error);
    }
    if (!replies) {
      // Not shared: count them again next time.
      for (const item of batch) if (item.state.window === item.window) item.state.pending += item.sent;
      return;
    }
    setDegraded(false);
    let i = 0;
    for (const item of batch) {
      const [incrError, total] = replies[i] ?? [null, null];
      i += 2;
      let previous: unknown;
      if (item.askPrevious) {
        previous = replies[i]?.[1];
        i += 1;
      }
      if (item.state.window !== item.window) continue;
      if (!incrError && typeof total === 'number') item.state.current = Math.max(item.state.current, total + item.state.pending);
      if (item.askPrevious) {
        item.state.fresh = false;
        if (typeof previous === 'string') item.state.previous = Math.max(item.state.previous, Number(previous));
      }
    }
  };

  const sweep = (now: number) => {
    if (now - lastSweep < windowMs) return;
    lastSweep = now;
    const window = windowOf(now);
    for (const [key, state] of states) if (state.window < window - 1 && state.pending === 0) states.delete(key);
  };

  const flush = async (): Promise<void> => {
    if (flushing) return flushing;
    flushing = flushNow().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush().catch((error: unknown) => log.warn('rate limiter flush failed', { err: error }));
    }, flushMs);
    timer.unref();
  };

  return {
    hit(key) {
      const now = Date.now();
      const window = windowOf(now);
      const state = stateOf(key, window);
      const elapsed = (now % windowMs) / windowMs;
      const estimate = state.previous * (1 - elapsed) + state.current;
      sweep(now);
      schedule();
      if (estimate + 1 > limit) {
        // When the sliding estimate drops under the limit again, at the latest at the next window.
        const untilNextWindow = windowMs - (now % windowMs);
        const needed = state.previous > 0 ? ((estimate + 1 - limit) / state.previous) * windowMs : untilNextWindow;
        return { allowed: false, limit, retryAfterMs: Math.max(1_000, Math.min(untilNextWindow, Math.ceil(needed))) };
      }
      state.current += 1;
      state.pending += 1;
      return { allowed: true, limit, retryAfterMs: 0 };
    },
    flush,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush().catch(() => undefined);
    },
  };
}
