import { createHash } from 'node:crypto';
import { AppError, type RateLimiter, type Redis } from '@orchestra/lib';

/**
 * Failed sign-ins slow down the one who fails, not the account's owner (issue 9, item 4).
 *
 * - Per account and client (the IP): the first `freeFailures` failures cost nothing; after that
 *   each attempt must wait 1 s, 2 s, 4 s, … (at most `maxDelaySeconds`) after the last failure.
 *   An attacker's failures delay only the attacker's client: the owner from another client is
 *   unaffected, and nothing ever locks the account as a whole.
 * - Per client across accounts (password spraying): `maxFailuresPerIp` per window, as before.
 * - Per account across clients (one account guessed from many IPs): `maxFailuresPerAccount` per
 *   window, applied only to clients that have never signed in to the account; a client that
 *   signed in successfully in the last 30 days (a known client) is exempt, so a distributed attack
 *   slows strangers down without locking the owner out of the places they use.
 */
export interface SignInThrottle {
  /** RATE_LIMITED (with retryAfterSeconds) when this client must wait before trying this account again. */
  check(email: string, ip: string): Promise<void>;
  failed(email: string, ip: string): Promise<void>;
  /** A successful sign-in: the client's failures are forgotten and the client becomes known to the account. */
  succeeded(email: string, ip: string): Promise<void>;
}

export interface SignInThrottleOptions {
  redis: Redis;
  prefix: string;
  freeFailures: number;
  maxDelaySeconds: number;
  windowSeconds: number;
  ip: RateLimiter;
  account: RateLimiter;
  /** Counts refusals by what refused ('client' | 'ip' | 'account'). */
  onRefused?: (by: 'client' | 'ip' | 'account', retryAfterSeconds: number) => void;
}

const KNOWN_CLIENT_SECONDS = 30 * 24 * 3600;
const MAX_KNOWN_CLIENTS = 20;

/** Emails and IPs are hashed into keys: Redis holds no addresses. */
const digest = (value: string): string => createHash('sha256').update(value).digest('base64url').slice(0, 22);

export const tooManyFailures = (retryAfterSeconds: number): AppError =>
  new AppError('RATE_LIMITED', `too many failed sign-in attempts: try again in ${retryAfterSeconds} s`, {
    reason: 'TOO_MANY_FAILED_SIGN_INS',
    details: { retryAfterSeconds },
  });

export function createSignInThrottle(o: SignInThrottleOptions): SignInThrottle {
  const clientKey = (email: string, ip: string): string => `${o.prefix}:client:${digest(email)}:${digest(ip)}`;
  const knownKey = (email: string): string => `${o.prefix}:known:${digest(email)}`;
  const delayAfter = (failures: number): number =>
    failures < o.freeFailures ? 0 : Math.min(o.maxDelaySeconds, 2 ** Math.min(30, failures - o.freeFailures));
  const refuse = (by: 'client' | 'ip' | 'account', retryAfterMs: number): never => {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    o.onRefused?.(by, seconds);
    throw tooManyFailures(seconds);
  };

  return {
    async check(email, ip) {
      const [client, perIp] = await Promise.all([o.redis.hmget(clientKey(email, ip), 'n', 'last'), o.ip.peek(digest(ip))]);
      const failures = Number(client[0] ?? 0);
      const last = Number(client[1] ?? 0);
      const wait = last + delayAfter(failures) * 1000 - Date.now();
      if (failures >= o.freeFailures && wait > 0) refuse('client', wait);
      if (!perIp.allowed) refuse('ip', perIp.retryAfterMs);
      const perAccount = await o.account.peek(digest(email));
      if (!perAccount.allowed && (await o.redis.zscore(knownKey(email), digest(ip))) === null) refuse('account', perAccount.retryAfterMs);
    },
    async failed(email, ip) {
      const key = clientKey(email, ip);
      // The record lives as long as its longest delay could, and at least the window.
      const ttl = Math.max(o.windowSeconds, o.maxDelaySeconds) * 1000;
      await Promise.all([
        o.redis.multi().hincrby(key, 'n', 1).hset(key, 'last', Date.now()).pexpire(key, ttl).exec(),
        o.ip.hit(digest(ip)),
        o.account.hit(digest(email)),
      ]);
    },
    async succeeded(email, ip) {
      const known = knownKey(email);
      await o.redis
        .multi()
        .del(clientKey(email, ip))
        .zadd(known, Date.now(), digest(ip))
        .zremrangebyscore(known, '-inf', Date.now() - KNOWN_CLIENT_SECONDS * 1000)
        .zremrangebyrank(known, 0, -(MAX_KNOWN_CLIENTS + 1))
        .expire(known, KNOWN_CLIENT_SECONDS)
        .exec();
    },
  };
}
