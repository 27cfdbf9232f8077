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

const isOlderIdError = (error: unknown): boolean => error instanceof Error && /equal or smaller than the target stream top item/i.test(error.message);

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
      const pipeline = redis.pipeline();
      const kinds: Array<'event' | 'other'> = [];
      const lastSeq = new Map<string, number>();
      const orgs = new Set<string>();
      for (const event of events) {
        const json = JSON.stringify(event);
        pipeline.xadd(runEventStreamKey(prefix, event.runId), 'MAXLEN', '~', String(maxLen), `${event.seq}-0`, 'e', json);
        kinds.push('event');
        lastSeq.set(event.runId, event.seq);
        if (event.kind === 'RUN_STATUS') {
          pipeline.xadd(orgRunFeedKey(prefix, event.orgId), 'MAXLEN', '~', String(orgFeedMaxLen), '*', 'e', json);
          kinds.push('other');
          orgs.add(event.orgId);
        }
      }
      const now = Date.now();
      /** Keys whose expiry this pipeline sets, by the index of their EXPIRE's reply. */
      const expiring = new Map<number, string>();
      const expire = (key: string) => {
        if (!expiry.due(key, now)) return;
        pipeline.expire(key, ttlSeconds + refreshSeconds);
        expiring.set(kinds.length, key);
        kinds.push('other');
      };
      for (const [runId, seq] of lastSeq) {
        expire(runEventStreamKey(prefix, runId));
        pipeline.publish(runEventChannel(prefix, runId), String(seq));
        kinds.push('other');
      }
      for (const orgId of orgs) {
        expire(orgRunFeedKey(prefix, orgId));
        pipeline.publish(orgRunFeedChannel(prefix, orgId), '');
        kinds.push('other');
      }
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await pipeline.exec();
      } catch (error) {
        replies = null;
        log.warn('could not publish run events to redis (readers will backfill)', { err: error, count: events.length });
      }
      // An expiry that may not have been set is set again at the next append.
      for (const [index, key] of expiring) if (replies === null || replies[index]?.[0]) expiry.forget(key);
      if (replies === null) {
        result.failed = events.length;
      } else {
        let firstFailure: Error | undefined;
        replies.forEach(([error], i) => {
          if (kinds[i] !== 'event') {
            if (error) firstFailure ??= error;
            return;
          }
          if (!error) result.appended += 1;
          else if (isOlderIdError(error)) result.skipped += 1;
          else {
            result.failed += 1;
            firstFailure ??= error;
          }
        });
        if (firstFailure) log.warn('some run events did not reach redis (readers will backfill)', { err: firstFailure, failed: result.failed });
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
