import type { Redis } from 'ioredis';

/**
 * Small parts of the run event hub (run-events.ts): waking a waiting reader, ending an async
 * generator promptly, how often a stream key's expiry is pushed forward, and hearing of reconnects.
 */

/** Sets a flag and wakes whoever waits; a wake-up that comes before the wait is not lost. */
export interface Waker {
  notify(): void;
  clear(): void;
  /** Resolves true when notified, false after `ms` or on abort. */
  wait(ms: number, signal: AbortSignal): Promise<boolean>;
}

export function createWaker(): Waker {
  let pending = false;
  let wake: (() => void) | undefined;
  return {
    notify() {
      pending = true;
      wake?.();
    },
    clear() {
      pending = false;
    },
    wait(ms, signal) {
      if (pending) return Promise.resolve(true);
      if (signal.aborted) return Promise.resolve(false);
      return new Promise((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          wake = undefined;
          resolve(value);
        };
        const onAbort = () => done(false);
        const timer = setTimeout(() => done(false), ms);
        signal.addEventListener('abort', onAbort, { once: true });
        wake = () => done(true);
      });
    },
  };
}

/**
 * Makes an async generator end promptly on `return()`: an async generator suspended in an `await`
 * would only see the return request after that await settles (up to the idle check).
 */
export function abortable<T>(make: (signal: AbortSignal) => AsyncGenerator<T, void, undefined>, outer?: AbortSignal): AsyncGenerator<T, void, undefined> {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const inner = make(controller.signal);
  const finish = () => outer?.removeEventListener('abort', onOuterAbort);
  const iterator: AsyncGenerator<T, void, undefined> = {
    next: async () => {
      const result = await inner.next();
      if (result.done === true) finish();
      return result;
    },
    return: async (value) => {
      controller.abort();
      finish();
      return inner.return(value);
    },
    throw: async (error) => {
      controller.abort();
      finish();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    [Symbol.asyncDispose]: async () => {
      await iterator.return(undefined);
    },
  };
  return iterator;
}

/**
 * Which keys' expiry is due to be pushed forward: a key is due when this process has not set it
 * within the last `intervalMs`. Entries older than that are swept as publishes go by, so the map
 * holds only the keys appended to within about two intervals.
 */
export function createExpiryRefresher(intervalMs: number): { due(key: string, now: number): boolean; forget(key?: string): void } {
  const setAt = new Map<string, number>();
  let sweptAt = Date.now();
  return {
    due(key, now) {
      if (now - sweptAt >= intervalMs) {
        for (const [k, at] of setAt) if (now - at >= intervalMs) setAt.delete(k);
        sweptAt = now;
      }
      const at = setAt.get(key);
      if (at !== undefined && now - at < intervalMs) return false;
      setAt.set(key, now);
      return true;
    },
    forget(key) {
      if (key === undefined) setAt.clear();
      else setAt.delete(key);
    },
  };
}

/** Hooks on each connection's 'ready' (one listener per connection, however many hubs share it). */
const readyHooks = new WeakMap<Redis, Set<() => void>>();

/** Calls `fn` each time `redis` is ready again (a reconnect, perhaps to a Redis that restarted empty); returns the removal. */
export function onRedisReady(redis: Redis, fn: () => void): () => void {
  let hooks = readyHooks.get(redis);
  if (!hooks) {
    const created = new Set<() => void>();
    redis.on('ready', () => {
      for (const hook of created) hook();
    });
    readyHooks.set(redis, created);
    hooks = created;
  }
  hooks.add(fn);
  const added = hooks;
  return () => added.delete(fn);
}
