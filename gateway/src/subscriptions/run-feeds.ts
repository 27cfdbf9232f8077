import {
  contiguousAfter,
  isTerminalRunEvent,
  parseStreamEntry,
  type StreamEntry,
  runEventChannel,
  runEventStreamKey,
  type Logger,
  type Metrics,
  type Principal,
  type Redis,
  type RunEvent,
} from '@orchestra/lib/gateway';
import { createOrgFeeds } from './org-feeds';

/**
 * The gateway's readers of run events: ONE reader per run (and per organization's status feed) in
 * this process, however many subscribers watch it, fanned out in memory (issue 11). A run's reader
 * keeps its most recent events, so a subscriber that joins or resumes within them is served from
 * memory; one that resumes further back catches up on its own (Redis stream, then PostgreSQL through
 * the federated graph) before it joins the live fan-out, in seq order without gaps.
 *
 * While Redis is healthy nothing polls per subscriber: readers wake on pub/sub, look at the stream
 * when a run has been quiet for `idleCheckMs` (a Redis read), and ask PostgreSQL only when the stream
 * shows a gap, has vanished, after the pub/sub connection came back, or every `storeCheckMs` for a
 * quiet run that has not finished (a publish lost while Redis was away).
 */

/** Where a feed delivers. Calls come in seq order without gaps; `complete` after the final status. */
export interface FeedSink<E = RunEvent> {
  offer(event: E): void;
  complete(): void;
  fail(error: unknown): void;
  /**
   * Several events are about to be offered in a row: hold what they write until uncork (optional; a
   * subscriber on a WebSocket sends them to the kernel in one write instead of one each).
   */
  cork?(): void;
  uncork?(): void;
}

/** Corks the sinks that can be (FeedSink.cork); returns them, to uncork each once the events are offered. */
function corkAll(sinks: Iterable<FeedSink>): FeedSink[] {
  const corked: FeedSink[] = [];
  for (const sink of sinks) {
    if (!sink.cork) continue;
    sink.cork();
    corked.push(sink);
  }
  return corked;
}

function uncorkAll(sinks: readonly FeedSink[]): void {
  for (const sink of sinks) sink.uncork?.();
}

/** Reads events after `afterSeq` from the source of truth, as `principal`. */
export type StoreReader = (principal: Principal, runId: string, afterSeq: number, limit: number) => Promise<RunEvent[]>;

export interface RunFeedsOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  metrics?: Metrics;
  store: StoreReader;
  /** The principal feeds read PostgreSQL as, for a run of `orgId` (a gateway service principal). */
  storePrincipal(orgId: string): Principal;
  /** Recent events kept per run. Default 256. */
  bufferSize?: number;
  /** A quiet run's stream is looked at this often (Redis only). Default 5 s. */
  idleCheckMs?: number;
  /** A quiet, unfinished run is checked against PostgreSQL this often. Default 60 s. */
  storeCheckMs?: number;
  /** A feed without subscribers is kept this long (resuming clients find its buffer). Default 15 s. */
  lingerMs?: number;
  /** Entries per stream read. Default 500. */
  batchSize?: number;
}

interface RunFeed {
  runId: string;
  orgId: string | undefined;
  /** Highest seq read, contiguous from 1. 0 before the first. */
  last: number;
  buffer: RunEvent[];
  sinks: Set<FeedSink>;
  /** Subscribers attached, including those still catching up (the feed stays while any are). */
  attached: number;
  terminal: boolean;
  ready: Promise<void>;
  /** The first read is done: wake-ups may read on from `last`. */
  loaded: boolean;
  pumping: Promise<void> | undefined;
  again: boolean;
  askStore: boolean;
  lastActivity: number;
  lastStoreCheck: number;
  idleSince: number | undefined;
  stopListening: (() => Promise<void>) | undefined;
}

export interface RunFeeds {
  /** The organization of a run as its event stream says (undefined: no stream in Redis). */
  orgOf(runId: string): Promise<string | undefined>;
  /** Records a run's organization learned elsewhere (an authorized look-up through the graph). */
  learnOrg(runId: string, orgId: string): void;
  /** Streams a run's events after `afterSeq` to `sink`; a catch-up beyond memory reads as `principal`. Returns detach. */
  attachRun(runId: string, afterSeq: number, sink: FeedSink, principal: Principal): () => void;
  /** Run status changes (RUN_STATUS) of an organization from now on. Returns detach. */
  attachOrg(orgId: string, sink: FeedSink): () => void;
  /** Reads every feed again from Redis and PostgreSQL (after pub/sub was lost). */
  resync(): void;
  stats(): { runFeeds: number; orgFeeds: number; sinks: number };
  stop(): Promise<void>;
}

export function createRunFeeds(options: RunFeedsOptions): RunFeeds {
  const { redis, prefix, store, storePrincipal, bufferSize = 256, idleCheckMs = 5_000, storeCheckMs = 60_000, lingerMs = 15_000, batchSize = 500 } = options;
  const log = options.log.child({ component: 'run-feeds' });
  const storeReads = options.metrics?.counter('gateway_run_feed_store_reads_total', 'Reads of run events from PostgreSQL by the gateway, by why', ['why']);
  const streamReads = options.metrics?.counter('gateway_run_feed_stream_reads_total', 'Reads of run event streams from Redis by the gateway, by why', ['why']);
  const runFeeds = new Map<string, RunFeed>();
  /** Organizations of runs seen recently (for subscribe-time authorization without a query). */
  const knownOrgs = new Map<string, string>();
  const listeners = new Map<string, () => void>();
  let subscriber: Redis | undefined;
  let stopped = false;

  const remember = (runId: string, orgId: string) => {
    if (knownOrgs.get(runId) === orgId) return;
    if (knownOrgs.size >= 100_000) knownOrgs.delete(knownOrgs.keys().next().value as string);
    knownOrgs.set(runId, orgId);
  };

  const subscriberConnection = (): Redis => {
    if (subscriber) return subscriber;
    const connection = redis.duplicate({ connectionName: `${String(redis.options.connectionName ?? 'redis')}-run-feeds` });
    connection.on('message', (channel: string) => listeners.get(channel)?.());
    connection.on('error', (err: Error) => log.warn('run feed subscriber connection error', { err }));
    let lost = false;
    connection.on('close', () => {
      lost = true;
    });
    connection.on('ready', () => {
      if (!lost) return;
      lost = false;
      log.info('run feed subscriber connection back: reading every feed again');
      feeds.resync();
    });
    subscriber = connection;
    return connection;
  };

  const listen = async (channel: string, fn: () => void): Promise<() => Promise<void>> => {
    listeners.set(channel, fn);
    await subscriberConnection().subscribe(channel);
    return async () => {
      listeners.delete(channel);
      if (subscriber && subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined);
    };
  };

  const readRange = async (key: string, from: string, why: string, count = batchSize): Promise<StreamEntry[]> => {
    streamReads?.inc({ why });
    return (await redis.xrange(key, from, '+', 'COUNT', count));
  };

  const orgFeeds = createOrgFeeds({ redis, prefix, log, listen, readRange, remember, idleCheckMs, lingerMs });

  // ---- run feeds ----

  const append = (feed: RunFeed, events: readonly RunEvent[]) => {
    // A read that found several events (the gateway fell behind: under load a read finds tens): each
    // subscriber's frames go to the kernel in one write, not one write (a syscall, ~40 µs on the AMD
    // EPYC machine) per event per subscriber, so a gateway that falls behind spends less per event.
    const corked = events.length > 1 ? corkAll(feed.sinks) : undefined;
    try {
      deliver(feed, events);
    } finally {
      if (corked) uncorkAll(corked);
    }
  };

  const deliver = (feed: RunFeed, events: readonly RunEvent[]) => {
    for (const event of events) {
      feed.buffer.push(event);
      feed.last = event.seq;
      if (feed.orgId === undefined) {
        feed.orgId = event.orgId;
        remember(feed.runId, event.orgId);
      }
      // (A sink that ends while offered is deleted from the set: iterating it stays correct, with no copy per event.)
      for (const sink of feed.sinks) sink.offer(event);
      if (isTerminalRunEvent(event)) feed.terminal = true;
      else if (event.kind === 'RUN_STATUS') feed.terminal = false; // retried after it ended
    }
    if (feed.buffer.length > bufferSize) feed.buffer.splice(0, feed.buffer.length - bufferSize);
    if (events.length > 0) feed.lastActivity = Date.now();
    if (feed.terminal) {
      for (const sink of feed.sinks) sink.complete();
      feed.sinks.clear();
    }
  };

  const readStore = async (feed: RunFeed, why: string): Promise<RunEvent[]> => {
    if (feed.orgId === undefined) return [];
    storeReads?.inc({ why });
    feed.lastStoreCheck = Date.now();
    return contiguousAfter(await store(storePrincipal(feed.orgId), feed.runId, feed.last, batchSize), feed.last);
  };

  /** Reads what follows `last` until nothing does; one at a time per feed, coalescing wake-ups. */
  const pump = (feed: RunFeed, why: string): Promise<void> => {
    if (feed.pumping) {
      feed.again = true;
      return feed.pumping;
    }
    feed.pumping = (async () => {
      try {
        do {
          feed.again = false;
          for (;;) {
            const entries = await readRange(runEventStreamKey(prefix, feed.runId), `${feed.last + 1}-0`, why);
            const fromStream = entries.map(parseStreamEntry).filter((e): e is RunEvent => e !== undefined);
            let batch = contiguousAfter(fromStream, feed.last);
            if (batch.length === 0 && (fromStream.length > 0 || feed.askStore)) {
              // A gap (an append lost or overtaken), or Redis may have missed events: the store decides.
              if (feed.orgId === undefined && fromStream[0]) feed.orgId = fromStream[0].orgId;
              batch = await readStore(feed, fromStream.length > 0 ? 'gap' : 'check');
              feed.askStore = false;
            }
            if (batch.length === 0) break;
            append(feed, batch);
          }
        } while (feed.again && !stopped);
      } catch (error) {
        log.warn('run feed read failed (retried on the next wake-up or idle check)', { err: error, runId: feed.runId });
      } finally {
        feed.pumping = undefined;
      }
    })();
    return feed.pumping;
  };

  const startRunFeed = (runId: string, principal: Principal): RunFeed => {
    const feed: RunFeed = {
      runId,
      orgId: knownOrgs.get(runId),
      last: 0,
      buffer: [],
      sinks: new Set(),
      attached: 0,
      terminal: false,
      ready: Promise.resolve(),
      loaded: false,
      pumping: undefined,
      again: false,
      askStore: false,
      lastActivity: Date.now(),
      lastStoreCheck: Date.now(),
      idleSince: undefined,
      stopListening: undefined,
    };
    runFeeds.set(runId, feed);
    feed.ready = (async () => {
      // Wake-ups before the first read is done are covered by the read that ends it.
      feed.stopListening = await listen(runEventChannel(prefix, runId), () => {
        if (feed.loaded) void pump(feed, 'notify');
      });
      // The newest events, read backwards: the buffer ends at the stream's top.
      streamReads?.inc({ why: 'start' });
      const newest = ((await redis.xrevrange(runEventStreamKey(prefix, runId), '+', '-', 'COUNT', bufferSize)) as StreamEntry[])
        .map(parseStreamEntry)
        .filter((e): e is RunEvent => e !== undefined)
        .reverse();
      const top = newest.at(-1);
      if (top) {
        feed.orgId = top.orgId;
        remember(runId, top.orgId);
        // Keep the contiguous tail only; anything before a hole is read on demand.
        let start = newest.length - 1;
        while (start > 0 && newest[start - 1]!.seq === newest[start]!.seq - 1) start -= 1;
        feed.buffer = newest.slice(start);
        feed.last = top.seq;
        feed.terminal = isTerminalRunEvent(top);
      } else {
        // No stream (expired, flushed, or nothing published yet): the source of truth says where the run is.
        feed.orgId ??= principal.orgId;
        storeReads?.inc({ why: 'start' });
        for (;;) {
          const page = contiguousAfter(await store(principal, runId, feed.last, 1_000), feed.last);
          if (page.length === 0) break;
          feed.buffer.push(...page);
          if (feed.buffer.length > bufferSize) feed.buffer.splice(0, feed.buffer.length - bufferSize);
          feed.last = page.at(-1)!.seq;
          feed.terminal = isTerminalRunEvent(page.at(-1)!);
        }
      }
      feed.loaded = true;
      await pump(feed, 'start');
    })();
    return feed;
  };

  /** Delivers the events after `afterSeq` up to the feed's buffer, reading what memory lacks. */
  const catchUp = async (feed: RunFeed, afterSeq: number, sink: FeedSink, principal: Principal, isActive: () => boolean): Promise<number> => {
    let delivered = afterSeq;
    const firstInBuffer = () => feed.buffer[0]?.seq ?? feed.last + 1;
    while (isActive() && delivered < firstInBuffer() - 1) {
      const entries = await readRange(runEventStreamKey(prefix, feed.runId), `${delivered + 1}-0`, 'catch-up', Math.min(batchSize, firstInBuffer() - 1 - delivered));
      let batch = contiguousAfter(entries.map(parseStreamEntry).filter((e): e is RunEvent => e !== undefined), delivered);
      if (batch.length === 0) {
        storeReads?.inc({ why: 'catch-up' });
        batch = contiguousAfter(await store(principal, feed.runId, delivered, batchSize), delivered);
      }
      if (batch.length === 0) break;
      for (const event of batch) {
        if (!isActive() || event.seq >= firstInBuffer()) break;
        sink.offer(event);
        delivered = event.seq;
      }
    }
    return delivered;
  };

  // ---- housekeeping: idle checks and closing unwatched feeds ----

  const closeRunFeed = (feed: RunFeed) => {
    runFeeds.delete(feed.runId);
    void feed.stopListening?.();
  };

  const tick = setInterval(() => {
    const now = Date.now();
    for (const feed of runFeeds.values()) {
      if (feed.attached === 0) {
        feed.idleSince ??= now;
        if (now - feed.idleSince >= lingerMs && !feed.pumping) closeRunFeed(feed);
        continue;
      }
      feed.idleSince = undefined;
      if (!feed.loaded || feed.terminal || now - feed.lastActivity < idleCheckMs) continue;
      feed.lastActivity = now;
      if (now - feed.lastStoreCheck >= storeCheckMs) feed.askStore = true;
      void pump(feed, 'idle');
    }
    orgFeeds.sweep(now);
  }, Math.max(50, Math.min(idleCheckMs, lingerMs) / 2));
  tick.unref();

  const feeds: RunFeeds = {
    async orgOf(runId) {
      const known = runFeeds.get(runId)?.orgId ?? knownOrgs.get(runId);
      if (known !== undefined) return known;
      streamReads?.inc({ why: 'authorize' });
      const top = ((await redis.xrevrange(runEventStreamKey(prefix, runId), '+', '-', 'COUNT', 1)) as StreamEntry[])[0];
      const event = top ? parseStreamEntry(top) : undefined;
      if (event) remember(runId, event.orgId);
      return event?.orgId;
    },

    learnOrg: remember,

    attachRun(runId, afterSeq, sink, principal) {
      const feed = runFeeds.get(runId) ?? startRunFeed(runId, principal);
      feed.idleSince = undefined;
      feed.attached += 1;
      let active = true;
      const isActive = () => active && !stopped;
      void (async () => {
        try {
          await feed.ready;
          let delivered = await catchUp(feed, afterSeq, sink, principal, isActive);
          if (!isActive()) return;
          // From memory, then live: the same tick, so nothing falls in between (in one write to the connection).
          sink.cork?.();
          try {
            for (const event of feed.buffer) {
              if (event.seq <= delivered) continue;
              sink.offer(event);
              delivered = event.seq;
            }
          } finally {
            sink.uncork?.();
          }
          if (feed.terminal && delivered >= feed.last) {
            sink.complete();
            return;
          }
          // The subscriber may have left while catching up.
          if (!isActive()) return;
          feed.sinks.add(sink);
        } catch (error) {
          if (isActive()) sink.fail(error);
        }
      })();
      return () => {
        if (active) feed.attached -= 1;
        active = false;
        feed.sinks.delete(sink);
      };
    },

    attachOrg: (orgId, sink) => orgFeeds.attach(orgId, sink),

    resync() {
      for (const feed of runFeeds.values()) {
        if (feed.terminal || !feed.loaded) continue;
        feed.askStore = true;
        void pump(feed, 'resync');
      }
      orgFeeds.resync();
    },

    stats() {
      let sinks = 0;
      for (const feed of runFeeds.values()) sinks += feed.sinks.size;
      sinks += orgFeeds.sinks();
      return { runFeeds: runFeeds.size, orgFeeds: orgFeeds.size(), sinks };
    },

    async stop() {
      stopped = true;
      clearInterval(tick);
      for (const feed of runFeeds.values()) feed.sinks.clear();
      runFeeds.clear();
      orgFeeds.stop();
      listeners.clear();
      if (subscriber) {
        const connection = subscriber;
        subscriber = undefined;
        await connection.quit().catch(() => connection.disconnect());
      }
    },
  };
  return feeds;
}
