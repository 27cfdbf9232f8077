import { orgRunFeedChannel, orgRunFeedKey, parseStreamEntry, type Logger, type Redis, type StreamEntry } from '@orchestra/lib/gateway';
import type { FeedSink } from './run-feeds';

/**
 * The gateway's readers of organizations' run status feeds (`runStatusChanged`): ONE reader per
 * organization in this process however many subscribers watch it, woken by pub/sub and fanned out in
 * memory. Part of the run feeds (run-feeds.ts), which share their Redis subscriber connection and
 * stream reads with it and run its housekeeping.
 */
export interface OrgFeedsOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Subscribes to a pub/sub channel on the run feeds' subscriber connection; resolves to unsubscribe. */
  listen(channel: string, fn: () => void): Promise<() => Promise<void>>;
  /** XRANGE from `from` (counted by why). */
  readRange(key: string, from: string, why: string): Promise<StreamEntry[]>;
  /** Records the organization of a run seen in a feed (subscribe-time authorization). */
  remember(runId: string, orgId: string): void;
  idleCheckMs: number;
  lingerMs: number;
}

export interface OrgFeeds {
  /** Run status changes of an organization from now on. Returns detach. */
  attach(orgId: string, sink: FeedSink): () => void;
  /** Housekeeping at `now`: closes feeds nobody watched for lingerMs, reads quiet ones again. */
  sweep(now: number): void;
  /** Reads every feed again (after pub/sub was lost). */
  resync(): void;
  size(): number;
  sinks(): number;
  stop(): void;
}

interface OrgFeed {
  orgId: string;
  lastId: string;
  sinks: Set<FeedSink>;
  attached: number;
  idleSince: number | undefined;
  ready: Promise<void>;
  pumping: Promise<void> | undefined;
  again: boolean;
  lastActivity: number;
  stopListening: (() => Promise<void>) | undefined;
}

export function createOrgFeeds({ redis, prefix, log, listen, readRange, remember, idleCheckMs, lingerMs }: OrgFeedsOptions): OrgFeeds {
  const feeds = new Map<string, OrgFeed>();
  let stopped = false;

  /** Reads what follows `lastId` until nothing does; one at a time per feed, coalescing wake-ups. */
  const pump = (feed: OrgFeed): Promise<void> => {
    if (feed.pumping) {
      feed.again = true;
      return feed.pumping;
    }
    feed.pumping = (async () => {
      try {
        // Not before the feed knows where "now" is: a read from the initial 0-0 (a sweep or wake-up during a
        // slow start) would hand the subscribers attached meanwhile the organization's whole stream.
        await feed.ready;
        do {
          feed.again = false;
          for (;;) {
            const entries = await readRange(orgRunFeedKey(prefix, feed.orgId), `(${feed.lastId}`, 'org');
            if (entries.length === 0) break;
            for (const entry of entries) {
              feed.lastId = entry[0];
              const event = parseStreamEntry(entry);
              if (event === undefined || event.orgId !== feed.orgId) continue;
              remember(event.runId, event.orgId);
              for (const sink of [...feed.sinks]) sink.offer(event);
            }
            feed.lastActivity = Date.now();
          }
        } while (feed.again && !stopped);
      } catch (error) {
        log.warn('org feed read failed (retried on the next wake-up or idle check)', { err: error, orgId: feed.orgId });
      } finally {
        feed.pumping = undefined;
      }
    })();
    return feed.pumping;
  };

  const start = (orgId: string): OrgFeed => {
    const feed: OrgFeed = {
      orgId,
      lastId: '0-0',
      sinks: new Set(),
      attached: 0,
      idleSince: undefined,
      ready: Promise.resolve(),
      pumping: undefined,
      again: false,
      lastActivity: Date.now(),
      stopListening: undefined,
    };
    feeds.set(orgId, feed);
    feed.ready = (async () => {
      feed.stopListening = await listen(orgRunFeedChannel(prefix, orgId), () => void pump(feed));
      const newest = (await redis.xrevrange(orgRunFeedKey(prefix, orgId), '+', '-', 'COUNT', 1)) as StreamEntry[];
      // A flushed Redis starts ids again from the clock, which is past lastId anyway.
      feed.lastId = newest[0]?.[0] ?? `${Date.now()}-0`;
    })();
    return feed;
  };

  return {
    attach(orgId, sink) {
      const feed = feeds.get(orgId) ?? start(orgId);
      feed.idleSince = undefined;
      feed.attached += 1;
      let active = true;
      void feed.ready.then(
        () => {
          if (active) feed.sinks.add(sink);
        },
        (error: unknown) => {
          if (active) sink.fail(error);
        },
      );
      return () => {
        if (active) feed.attached -= 1;
        active = false;
        feed.sinks.delete(sink);
      };
    },

    sweep(now) {
      for (const feed of feeds.values()) {
        if (feed.attached === 0) {
          feed.idleSince ??= now;
          if (now - feed.idleSince >= lingerMs) {
            feeds.delete(feed.orgId);
            void feed.stopListening?.();
          }
          continue;
        }
        feed.idleSince = undefined;
        if (now - feed.lastActivity < idleCheckMs) continue;
        feed.lastActivity = now;
        void pump(feed);
      }
    },

    resync() {
      for (const feed of feeds.values()) void pump(feed);
    },

    size: () => feeds.size,

    sinks() {
      let count = 0;
      for (const feed of feeds.values()) count += feed.sinks.size;
      return count;
    },

    stop() {
      stopped = true;
      for (const feed of feeds.values()) feed.sinks.clear();
      feeds.clear();
    },
  };
}
