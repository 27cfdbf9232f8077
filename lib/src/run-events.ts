import type { Redis } from 'ioredis';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import {
  contiguousAfter,
  isTerminalRunEvent,
  orgRunFeedChannel,
  orgRunFeedKey,
  parseStreamEntry,
  runEventChannel,
  runEventStreamKey,
  type RunEvent,
  type RunEventBackfill,
  type StreamEntry,
} from './run-event-stream';
import { abortable, createExpiryRefresher, createWaker, onRedisReady } from './run-event-parts';

/**
 * The live event path of runs (DESIGN.md §5). Every state change of a run or task, every progress
 * update and every log line is a RunEvent with a per-run sequence number. PostgreSQL (the
 * orchestration service's `run_events`) is the source of truth; Redis carries the live copy:
 *
 * - `${prefix}:run:${runId}:events` — a stream per run whose entry ids are `${seq}-0`, so appends are
 *   ordered and idempotent (a repeated or late append is refused by Redis and skipped), trimmed to
 *   about `maxLen` entries and expiring `ttlSeconds` (plus at most `expireRefreshSeconds`) after
 *   the last append;
 * - `${prefix}:org:${orgId}:runs` — a stream per org of run status changes (dashboards);
 * - `${prefix}:run:${runId}:notify` / `${prefix}:org:${orgId}:notify` — pub/sub wake-ups, so readers
 *   need no blocking connection each.
 *
 * A reader resuming after seq N reads the stream from N+1. Whenever the stream cannot continue the
 * sequence (trimmed, flushed, an append lost to a race) or has been quiet for a while, it asks the
 * caller's backfill (PostgreSQL) instead, so it never skips an event.
 */

export interface RunEventHubOptions {
  /** Commands (XADD, XRANGE, PUBLISH). Readers also open one subscriber connection (a duplicate), closed by stop(). */
  redis: Redis;
  prefix: string;
  log: Logger;
  metrics?: Metrics;
  /** Approximate entries kept per run stream. Default 1000. */
  maxLen?: number;
  /** Approximate entries kept in an org's status feed. Default 10 000. */
  orgFeedMaxLen?: number;
  /** A run stream (and an org feed) expires at least this long after its last append. Default 24 h. */
  ttlSeconds?: number;
  /**
   * A key's expiry is pushed forward at most once per this many seconds (not on every append: one
   * EXPIRE per run per publish was a Redis command per task event), to ttlSeconds plus this, so a
   * key still expires at least ttlSeconds (and at most ttlSeconds + this) after its last append.
   * Default: a hundredth of ttlSeconds, at most 60 s.
   */
  expireRefreshSeconds?: number;
  /** A reader that heard nothing for this long asks the backfill (events published while Redis was away). Default 5 s. */
  idleCheckMs?: number;
  /** Events per read. Default 500. */
  batchSize?: number;
}

export interface RunEventsOptions {
  runId: string;
  /** Deliver events with seq > afterSeq (0 = from the first). */
  afterSeq: number;
  backfill: RunEventBackfill;
  signal?: AbortSignal;
}

export interface OrgRunFeedOptions {
  orgId: string;
  signal?: AbortSignal;
}

export interface PublishResult {
  appended: number;
  /** Already in the stream, or older than its last entry (readers fill those gaps from the backfill). */
  skipped: number;
  failed: number;
}

export interface RunEventHub {
  /**
   * Appends committed events to their runs' streams (and run status changes to the org feed, in the
   * order given) and wakes readers. Give each run's events in seq order. Never throws: PostgreSQL
   * already holds the events, readers fill in what Redis missed.
   */
  publish(events: readonly RunEvent[]): Promise<PublishResult>;
  /**
   * The events of one run in seq order, without gaps, from `afterSeq + 1`. Ends after the run's final
   * status when nothing follows it; `return()` (or the signal) ends it at once.
   */
  runEvents(options: RunEventsOptions): AsyncGenerator<RunEvent, void, undefined>;
  /** Run status changes (RUN_STATUS events) of one org from now on. */
  orgRunStatus(options: OrgRunFeedOptions): AsyncGenerator<RunEvent, void, undefined>;
  /** Ends every reader and closes the subscriber connection. */
  stop(): Promise<void>;
}

/** Redis's answer to an append older than a stream's last entry (a repeated or late event). */
const OLDER_ID = /equal or smaller than the target stream top item/i;

/**
 * A batch of run events in one call (one command instead of one per event, stream and wake-up):
 * each event appended to its run's stream with its seq as the entry id (`${seq}-0`; a repeated or
 * late one is refused by Redis and reported), a run status change also to its org's feed, the due
 * expiries pushed forward, then each run's and org's readers woken. KEYS: the events' streams (one
 * per event, in order), the org feeds, the keys to expire. ARGV: how many of each, the streams'
 * MAXLEN, the org feeds' MAXLEN, the expiry in seconds, per event its id, JSON and org feed (1-based
 * among the org keys, 0 none), then how many wake-ups and per wake-up its channel and message.
 * Answers each event's error ('' when appended), which expiries were set (1) and the first other error.
 */
const PUBLISH_SCRIPT = `
local n, k, x = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local maxLen, orgMaxLen, ttl = ARGV[4], ARGV[5], ARGV[6]
local appends, expired, other = {}, {}, ''
local a = 7
for i = 1, n do
  local r = redis.pcall('XADD', KEYS[i], 'MAXLEN', '~', maxLen, ARGV[a], 'e', ARGV[a + 1])
  if type(r) == 'table' and r.err then appends[i] = r.err else appends[i] = '' end
  local org = tonumber(ARGV[a + 2])
  if org > 0 then
    local o = redis.pcall('XADD', KEYS[n + org], 'MAXLEN', '~', orgMaxLen, '*', 'e', ARGV[a + 1])
    if type(o) == 'table' and o.err and other == '' then other = o.err end
  end
  a = a + 3
end
for j = 1, x do
  local r = redis.pcall('EXPIRE', KEYS[n + k + j], ttl)
  if type(r) == 'table' and r.err then
    expired[j] = 0
    if other == '' then other = r.err end
  else
    expired[j] = 1
  end
end
local c = tonumber(ARGV[a])
a = a + 1
for j = 1, c do
  local r = redis.pcall('PUBLISH', ARGV[a], ARGV[a + 1])
  if type(r) == 'table' and r.err and other == '' then other = r.err end
  a = a + 2
end
return {appends, expired, other}
`;

export function createRunEventHub(options: RunEventHubOptions): RunEventHub {
  const { redis, prefix, maxLen = 1000, orgFeedMaxLen = 10_000, ttlSeconds = 24 * 60 * 60, idleCheckMs = 5_000, batchSize = 500 } = options;
  const refreshSeconds = options.expireRefreshSeconds ?? Math.min(60, Math.floor(ttlSeconds / 100));
  const expiry = createExpiryRefresher(refreshSeconds * 1000);
  // A Redis that came back (restarted, perhaps empty) may hold keys created since without an expiry: set them all again.
  const stopForgetting = onRedisReady(redis, () => expiry.forget());
  const log = options.log.child({ component: 'run-events' });
  const published = options.metrics?.counter('run_events_published_total', 'Run events appended to Redis streams, by outcome', ['outcome']);
  const backfills = options.metrics?.counter('run_events_backfills_total', 'Times a reader filled a gap in a run stream from the source of truth');

  // Readers share one subscriber connection; each channel is subscribed while someone listens.
  let subscriber: Redis | undefined;
  const listeners = new Map<string, Set<() => void>>();
  const readers = new Set<AsyncGenerator<RunEvent, void, undefined>>();
  let stopped = false;

  const subscriberConnection = (): Redis => {
    if (subscriber) return subscriber;
    const connection = redis.duplicate({ connectionName: `${String(redis.options.connectionName ?? 'redis')}-run-events` });
    connection.on('message', (channel: string) => {
      for (const fn of listeners.get(channel) ?? []) fn();
    });
    connection.on('error', (err: Error) => log.warn('run event subscriber connection error', { err }));
    subscriber = connection;
    return connection;
  };

  const listen = async (channel: string, fn: () => void): Promise<() => Promise<void>> => {
    let set = listeners.get(channel);
    if (!set) {
      set = new Set();
      listeners.set(channel, set);
    }
    set.add(fn);
    if (set.size === 1) await subscriberConnection().subscribe(channel);
    return async () => {
      const current = listeners.get(channel);
      current?.delete(fn);
      if (current && current.size === 0) {
        listeners.delete(channel);
        if (subscriber && subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  };

  const readStream = async (key: string, from: string, exclusive: boolean): Promise<StreamEntry[]> =>
    (await redis.xrange(key, exclusive ? `(${from}` : from, '+', 'COUNT', batchSize));

  const hub: RunEventHub = {
    async publish(events) {
      const result: PublishResult = { appended: 0, skipped: 0, failed: 0 };
      if (events.length === 0) return result;
      // One script call (PUBLISH_SCRIPT) for the whole batch: its keys are the events' streams, the org
      // feeds and the keys whose expiry is due; its arguments the events and the wake-ups.
      const streamKeys: string[] = [];
      const orgKeys: string[] = [];
      const orgIndex = new Map<string, number>();
      const eventArgs: string[] = [];
      const lastSeq = new Map<string, number>();
      for (const event of events) {
        streamKeys.push(runEventStreamKey(prefix, event.runId));
        let org = 0;
        if (event.kind === 'RUN_STATUS') {
          org = orgIndex.get(event.orgId) ?? 0;
          if (org === 0) {
            orgKeys.push(orgRunFeedKey(prefix, event.orgId));
            org = orgKeys.length;
            orgIndex.set(event.orgId, org);
          }
        }
        eventArgs.push(`${event.seq}-0`, JSON.stringify(event), String(org));
        lastSeq.set(event.runId, event.seq);
      }
      const now = Date.now();
      const expiring: string[] = [];
      const wakeUps: string[] = [];
      for (const [runId, seq] of lastSeq) {
        const key = runEventStreamKey(prefix, runId);
        if (expiry.due(key, now)) expiring.push(key);
        wakeUps.push(runEventChannel(prefix, runId), String(seq));
      }
      for (const orgId of orgIndex.keys()) {
        const key = orgRunFeedKey(prefix, orgId);
        if (expiry.due(key, now)) expiring.push(key);
        wakeUps.push(orgRunFeedChannel(prefix, orgId), '');
      }
      const keys = [...streamKeys, ...orgKeys, ...expiring];
      const args = [String(streamKeys.length), String(orgKeys.length), String(expiring.length), String(maxLen), String(orgFeedMaxLen), String(ttlSeconds + refreshSeconds), ...eventArgs, String(wakeUps.length / 2), ...wakeUps];
      let reply: [string[], number[], string] | null;
      try {
        reply = (await redis.eval(PUBLISH_SCRIPT, keys.length, ...keys, ...args)) as [string[], number[], string];
      } catch (error) {
        reply = null;
        log.warn('could not publish run events to redis (readers will backfill)', { err: error, count: events.length });
      }
      // An expiry that may not have been set is set again at the next append.
      expiring.forEach((key, i) => {
        if (reply === null || reply[1][i] !== 1) expiry.forget(key);
      });
      if (reply === null) {
        result.failed = events.length;
      } else {
        const [appends, , otherError] = reply;
        let firstFailure: string | undefined = otherError === '' ? undefined : otherError;
        for (const error of appends) {
          if (error === '') result.appended += 1;
          else if (OLDER_ID.test(error)) result.skipped += 1;
          else {
            result.failed += 1;
            firstFailure ??= error;
          }
        }
        if (firstFailure !== undefined) log.warn('some run events did not reach redis (readers will backfill)', { err: new Error(firstFailure), failed: result.failed });
      }
      published?.inc({ outcome: 'appended' }, result.appended);
      published?.inc({ outcome: 'skipped' }, result.skipped);
      published?.inc({ outcome: 'failed' }, result.failed);
      return result;
    },

    runEvents({ runId, afterSeq, backfill, signal }) {
      const key = runEventStreamKey(prefix, runId);
      const reader = abortable(async function* read(abort) {
        const waker = createWaker();
        const stopListening = await listen(runEventChannel(prefix, runId), () => waker.notify());
        try {
          let last = afterSeq;
          // Nothing may be in Redis at all (flushed, expired): the first look goes to the backfill too.
          let askStore = true;
          let finished = false;
          while (!abort.aborted && !stopped) {
            waker.clear();
            const fromStream = (await readStream(key, `${last + 1}-0`, false)).map(parseStreamEntry).filter((e): e is RunEvent => e !== undefined);
            let batch = contiguousAfter(fromStream, last);
            if (batch.length === 0 && (fromStream.length > 0 || askStore)) {
              if (fromStream.length > 0) backfills?.inc();
              batch = contiguousAfter(await backfill(last, batchSize), last);
              askStore = false;
            }
            if (batch.length > 0) {
              for (const event of batch) {
                if (abort.aborted) return;
                yield event;
                last = event.seq;
                finished = isTerminalRunEvent(event);
              }
              continue;
            }
            // The run reached its final status and nothing came after it.
            if (finished) return;
            const woken = await waker.wait(idleCheckMs, abort);
            if (!woken) askStore = true;
          }
        } finally {
          await stopListening();
        }
      }, signal);
      readers.add(reader);
      return trackEnd(reader, () => readers.delete(reader));
    },

    orgRunStatus({ orgId, signal }) {
      const key = orgRunFeedKey(prefix, orgId);
      const reader = abortable(async function* read(abort) {
        const waker = createWaker();
        const stopListening = await listen(orgRunFeedChannel(prefix, orgId), () => waker.notify());
        try {
          const newest = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as StreamEntry[];
          let lastId = newest[0]?.[0] ?? '0-0';
          while (!abort.aborted && !stopped) {
            waker.clear();
            const entries = await readStream(key, lastId, true);
            if (entries.length === 0) {
              // A flushed Redis starts ids again from the clock, which is past lastId anyway.
              await waker.wait(idleCheckMs, abort);
              continue;
            }
            for (const entry of entries) {
              lastId = entry[0];
              const event = parseStreamEntry(entry);
              if (event === undefined) continue;
              if (abort.aborted) return;
              yield event;
            }
          }
        } finally {
          await stopListening();
        }
      }, signal);
      readers.add(reader);
      return trackEnd(reader, () => readers.delete(reader));
    },

    async stop() {
      stopped = true;
      stopForgetting();
      await Promise.allSettled([...readers].map((r) => r.return(undefined)));
      readers.clear();
      if (subscriber) {
        const connection = subscriber;
        subscriber = undefined;
        listeners.clear();
        await connection.quit().catch(() => connection.disconnect());
      }
    },
  };
  return hub;
}

/** Calls `onEnd` once the generator is finished, however it ends. */
function trackEnd<T>(generator: AsyncGenerator<T, void, undefined>, onEnd: () => void): AsyncGenerator<T, void, undefined> {
  const wrapped: AsyncGenerator<T, void, undefined> = {
    next: async () => {
      try {
        const result = await generator.next();
        if (result.done === true) onEnd();
        return result;
      } catch (error) {
        onEnd();
        throw error;
      }
    },
    return: async (value) => {
      onEnd();
      return generator.return(value);
    },
    throw: async (error) => {
      onEnd();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
    [Symbol.asyncDispose]: async () => {
      await wrapped.return(undefined);
    },
  };
  return wrapped;
}
