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
