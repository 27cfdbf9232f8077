import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log';

export type { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  url: string;
  /** Shows in CLIENT LIST, which helps when debugging connection leaks. */
  name: string;
  log: Logger;
  /** BullMQ workers need `null` here (blocking commands); everything else keeps a bound. */
  maxRetriesPerRequest?: number | null;
  extra?: RedisOptions;
}

export function createRedis({ url, name, log, maxRetriesPerRequest = 3, extra }: RedisConnectionOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...extra,
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis retries by itself; log each distinct failure once instead of every 200 ms.
    if (err.message !== lastError) log.warn('redis connection error', { err, connection: name });
    lastError = err.message;
  });
  redis.on('ready', () => {
    lastError = '';
  });
  return redis;
}

/**
 * The connection BullMQ queues and workers share, made from a service's connection: no retry limit per
 * command (BullMQ blocks on it) and no auto-pipelining. BullMQ defines its ~64 Lua scripts on the
 * connection it is given, and ioredis copies every defined script onto each Pipeline it builds; with
 * auto-pipelining it builds one per event-loop turn that sends a command, ~40 µs of CPU each here
 * (against ~4 µs on a connection without scripts). Measured A/B in one process (32 adders, a worker at
 * concurrency 32, noop jobs): 149 → 117 µs of CPU per job added and processed (0.79x).
 */
export function createQueueConnection(redis: Redis, connectionName: string): Redis {
  return redis.duplicate({ connectionName, maxRetriesPerRequest: null, enableAutoPipelining: false, lazyConnect: true });
}
