import pg from 'pg';
import { assertSchemaName, withSystemTransaction, type Pool, type PoolClient } from './db';
import { type AppError, toAppError } from './errors';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import { createOutboxStore, type OutboxRow } from './outbox-store';
import { createWakeableSleep, idleSleepMs } from './wakeable-sleep';

/** Settings every outbox relay shares (the audit outbox, the notification outbox). */
export interface RelayTuning {
  /** Events per call. Default 100. */
  batchSize?: number;
  /** The backup poll when no NOTIFY arrives (and the probe interval while the receiver is down). Default 2 s. */
  pollMs?: number;
  /**
   * While the relay LISTENs and the receiver answers, the longest it sleeps with nothing due (issue 11:
   * an idle process costs nothing): an insert's NOTIFY wakes it at once and a retry at its
   * next_attempt_at (never sooner than pollMs after the last look), so this bounds only what a lost
   * NOTIFY would delay. Default 30 s; never below pollMs.
   */
  idlePollMs?: number;
  /** First retry delay; doubles per attempt. Default 500 ms. */
  baseBackoffMs?: number;
  /** Longest retry delay. Default 30 s. */
  maxBackoffMs?: number;
  /** How long delivered rows are kept before they are pruned. Default 24 h. */
  keepDeliveredMs?: number;
  /** How often pruning runs. Default 10 min. */
  pruneIntervalMs?: number;
  /**
   * Under a steady stream of inserts, the least time from one delivering batch's start to the next
   * (issue 11): each insert's NOTIFY would otherwise start a batch of its own as soon as the last one
   * ends, paying a transaction, a receiver call and the receiver's own transaction for a handful of
   * events. Events written meanwhile go together into the next batch, delayed at most this long. A
   * batch after a look that found nothing (an event alone, after a quiet spell) goes at once, and a
   * backlog of full batches does not wait. Default 0 (every wake-up looks at once).
   */
  gatherMs?: number;
}

/** Where a relay delivers: one call per batch; it throws an AppError (UNAVAILABLE when unreachable, BAD_USER_INPUT when it refuses an event). */
export interface RelaySink<E> {
  send(rows: Array<{ id: string; event: E }>): Promise<void>;
  close(): void;
}

export interface GenericRelayOptions<E> extends RelayTuning {
  pool: Pool;
  schema: string;
  /** The producing service's name (logs, LISTEN connection name). */
  service: string;
  /** The outbox table in `schema`, e.g. `audit_outbox`; its wake-up channel is `<table>_<schema>`. */
  table: 'audit_outbox' | 'notification_outbox';
  /** The receiver's name in logs ("audit" → "audit service unreachable ..."). */
  target: string;
  /** What start() warns when `connect` gives nothing, e.g. "AUDIT_GRPC_ADDR is not set: ...". */
  notConfigured: string;
  /** The receiver, or undefined when it is not configured (the relay then does nothing). */
  connect: () => RelaySink<E> | undefined;
  log: Logger;
  metrics: Metrics;
}

export interface OutboxRelay {
  /** Starts the loop (LISTEN + poll). Resolves once it runs; never rejects for the receiver being down. */
  start(): Promise<void>;
  /** Stops the loop, waits for the batch in flight, closes its connections. */
  stop(): Promise<void>;
  /** Claims and sends one batch; resolves to the number of events delivered. */
  deliverOnce(): Promise<number>;
  /** Deletes delivered rows older than `keepDeliveredMs`; resolves to how many. */
  pruneDelivered(): Promise<number>;
}

/** The receiver refused the event itself: retrying the same bytes cannot help until someone looks. */
export const RELAY_REJECTED = 'BAD_USER_INPUT';
/** The receiver could not be reached or did not answer in time (lib maps UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED here). */
const UNREACHABLE = 'UNAVAILABLE';
const REJECTED = RELAY_REJECTED;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Delivers a service's outbox table to a receiver over gRPC (the audit relay, the notification relay).
 *
 * Delivery is at-least-once and the receiver dedupes by event id, so every event takes effect
 * once. A batch is claimed with `FOR UPDATE SKIP LOCKED` and the transaction stays open across the
 * call: replicas never send the same row at the same time, and a crash before commit leaves the
 * rows pending to be sent again. A failed batch gets attempts/last_error and a next_attempt_at with
 * exponential backoff and jitter. While the receiver is unreachable the relay probes it with one event
 * per poll; the first success releases every event that only waited for it, so a backlog drains at
 * once instead of waiting out each row's backoff. When the receiver answers but refuses a batch, the
 * batch is resent one event at a time: the others get through and only the culprit keeps retrying on
 * its own backoff. Probes rotate over the backlog, so one such event cannot hold up the rest either.
 * Nothing is ever dropped.
 */
export function createGenericOutboxRelay<E>(options: GenericRelayOptions<E>): OutboxRelay {
  const {
    pool,
    schema,
    service,
    target,
    metrics,
    batchSize = 100,
    pollMs = 2_000,
    idlePollMs = 30_000,
    baseBackoffMs = 500,
    maxBackoffMs = 30_000,
    keepDeliveredMs = 24 * 60 * 60 * 1000,
    pruneIntervalMs = 10 * 60 * 1000,
    gatherMs = 0,
  } = options;
  assertSchemaName(schema);
  const store = createOutboxStore<E>(`${quoteIdent(schema)}.${options.table}`, REJECTED);
  const channel = `${options.table}_${schema}`;
  const log = options.log.child({ component: `${target}-relay` });
  const noun = options.table.replace(/_outbox$/, '');

  const pending = metrics.gauge(`${options.table}_pending`, `${noun} events in the outbox not yet delivered`);
  const oldestPending = metrics.gauge(`${options.table}_oldest_pending_seconds`, `Age of the oldest undelivered ${noun} event`);
  const delivered = metrics.counter(`${options.table}_delivered_total`, `${noun} events delivered to the ${target} service`);
  const failed = metrics.counter(`${options.table}_failed_total`, `${noun} event deliveries that failed (each is retried)`, ['code']);
  const pruned = metrics.counter(`${options.table}_pruned_total`, `Delivered ${noun} events pruned from the outbox`);

  let sink: RelaySink<E> | undefined;
  /** Set by a failure that was not about the events: the next batch is a single-event probe. */
  let linkDown = false;
  let running = false;
  let loop: Promise<void> | undefined;
  let listener: pg.Client | undefined;
  /** sleep() pauses the loop; nudge() (an insert's NOTIFY, a lost listener, stop) ends the pause. */
  const { sleep, wake: nudge } = createWakeableSleep(() => running);
  /** The gathering pause (gatherMs): NOTIFYs do not end it, stop does. */
  const gathering = createWakeableSleep(() => running);

  const receiver = (): RelaySink<E> | undefined => {
    sink ??= options.connect();
    return sink;
  };

  /** Exponential with "equal jitter": between half and all of base·2^(attempt-1), capped. */
  const backoffMs = (attempt: number): number => {
    const ceiling = Math.min(maxBackoffMs, baseBackoffMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };

  const markFailed = (tx: PoolClient, rows: Array<OutboxRow<E>>, error: AppError) =>
    store.markFailed(
      tx,
      rows.map((r) => ({ id: r.id, delayMs: backoffMs(r.attempts + 1) })),
      error,
    );

  const onRecovered = async (tx: PoolClient): Promise<number> => {
    if (!linkDown) return 0;
    linkDown = false;
    const released = await store.releaseWaiting(tx);
    log.info(`${target} service reachable again: delivering the backlog`, { released });
    return released;
  };

  const warnUnreachable = (error: AppError, rows: Array<OutboxRow<E>>) => {
    if (!linkDown) {
      log.warn(`${target} service unreachable: events stay in the outbox and are retried`, {
        code: error.code,
        error: error.message,
        count: rows.length,
        firstEventId: rows[0]?.id,
      });
    }
  };

  const send = async (to: RelaySink<E>, rows: Array<OutboxRow<E>>) => to.send(rows.map((r) => ({ id: r.id, event: r.event })));

  /** One claimed batch: how many were claimed and delivered, and whether more may be due. */
  const deliverBatch = async (): Promise<{ claimed: number; delivered: number; more: boolean }> => {
    const to = receiver();
    if (to === undefined) return { claimed: 0, delivered: 0, more: false };
    const probe = linkDown;
    const limit = probe ? 1 : batchSize;
    return withSystemTransaction(pool, async (tx) => {
      const rows = await store.claim(tx, limit, probe);
      if (rows.length === 0) return { claimed: 0, delivered: 0, more: false };
      let batchError: AppError;
      try {
        await send(to, rows);
        await store.markDelivered(tx, rows.map((r) => r.id));
        delivered.inc(rows.length);
        const released = await onRecovered(tx);
        log.debug(`${noun} events delivered`, { count: rows.length });
        return { claimed: rows.length, delivered: rows.length, more: rows.length === limit || released > 0 };
      } catch (error) {
        batchError = toAppError(error);
      }
      if (batchError.code === UNREACHABLE || rows.length === 1) {
        await markFailed(tx, rows, batchError);
        failed.inc({ code: batchError.code }, rows.length);
        if (batchError.code === REJECTED) {
          // The receiver answered: the link is fine, this one event is not.
          await onRecovered(tx);
          log.error(`${target} service rejected an event: it stays in the outbox`, { eventId: rows[0]?.id, attempts: (rows[0]?.attempts ?? 0) + 1, error: batchError.message, field: batchError.field });
        } else {
          warnUnreachable(batchError, rows);
          linkDown = true;
        }
        return { claimed: rows.length, delivered: 0, more: false };
      }
      // The receiver answered but refused the batch: send them one by one, so the rest get through
      // and only the culprit waits.
      let ok = 0;
      let otherFailures = 0;
      for (const [index, row] of rows.entries()) {
        try {
          await send(to, [row]);
          await store.markDelivered(tx, [row.id]);
          ok += 1;
        } catch (singleError) {
          const single = toAppError(singleError);
          if (single.code === UNREACHABLE) {
            const rest = rows.slice(index);
            await markFailed(tx, rest, single);
            failed.inc({ code: single.code }, rest.length);
            warnUnreachable(single, rest);
            linkDown = true;
            break;
          }
          await markFailed(tx, [row], single);
          failed.inc({ code: single.code });
          if (single.code !== REJECTED) otherFailures += 1;
          log.error(single.code === REJECTED ? `${target} service rejected an event: it stays in the outbox` : `${target} service failed on an event: it stays in the outbox`, {
            eventId: row.id,
            attempts: row.attempts + 1,
            code: single.code,
            error: single.message,
            field: single.field,
          });
        }
      }
      delivered.inc(ok);
      // Nothing got through and not for the events' own fault: treat the receiver as down (probe, then release).
      if (ok === 0 && otherFailures > 0) linkDown = true;
      else if (ok > 0) await onRecovered(tx);
      return { claimed: rows.length, delivered: ok, more: !linkDown && rows.length === limit };
    });
  };

  /** Sets the gauges; resolves to how long until the next undelivered event is due (undefined: none waits). */
  const refreshGauges = async (): Promise<number | undefined> => {
    const backlog = await store.backlog(pool);
    pending.set(backlog.count);
    oldestPending.set(backlog.oldestSeconds ?? 0);
    return backlog.nextDueInMs ?? undefined;
  };

  /** How long the loop sleeps after a look: pollMs, or up to idlePollMs while NOTIFY can wake it and the receiver answers. */
  const quietMs = (nextDueInMs: number | undefined): number =>
    listener === undefined || linkDown ? pollMs : idleSleepMs(nextDueInMs, pollMs, idlePollMs);

  const pruneDelivered = async (): Promise<number> => {
    const total = await store.pruneDelivered(pool, keepDeliveredMs);
    if (total > 0) {
      pruned.inc(total);
      log.info(`delivered ${noun} events pruned from the outbox`, { count: total });
    }
    return total;
  };

  const listen = async (): Promise<void> => {
    const connection = new pg.Client({ ...pool.options, application_name: `${service}-${target}-relay` });
    connection.on('notification', nudge);
    connection.on('error', (err) => {
      log.warn(`${noun} outbox listener failed: polling until it reconnects`, { err });
      if (listener === connection) listener = undefined;
      connection.end().catch(() => undefined);
      // A loop sleeping on NOTIFY goes back to polling now.
      nudge();
    });
    await connection.connect();
    await connection.query(`LISTEN ${quoteIdent(channel)}`);
    listener = connection;
  };

  const run = async (): Promise<void> => {
    let lastPrune = 0;
    let processed = 0;
    /** When the last batch that delivered something started (gatherMs counts from there). */
    let lastDeliveringStart: number | undefined;
    while (running) {
      let nextDueInMs: number | undefined;
      try {
        if (listener === undefined) await listen().catch((err: unknown) => log.warn(`cannot LISTEN for ${noun} outbox inserts: polling only`, { err }));
        const sinceLast = lastDeliveringStart === undefined ? Infinity : Date.now() - lastDeliveringStart;
        if (sinceLast < gatherMs) await gathering.sleep(gatherMs - sinceLast);
        if (!running) break;
        const startedAt = Date.now();
        let result = await deliverBatch();
        lastDeliveringStart = result.delivered > 0 ? startedAt : undefined;
        processed += result.delivered;
        while (running && result.more) {
          result = await deliverBatch();
          processed += result.delivered;
          // A long backlog shows progress.
          if (processed >= 1000) {
            log.info(`${noun} backlog delivery in progress`, { delivered: processed });
            processed = 0;
          }
        }
        processed = 0;
        if (Date.now() - lastPrune >= pruneIntervalMs) {
          lastPrune = Date.now();
          await pruneDelivered();
        }
        nextDueInMs = await refreshGauges();
      } catch (err) {
        // The database may be down: keep the loop alive and try again after a poll.
        log.error(`${noun} relay cycle failed`, { err });
        nextDueInMs = 0;
      }
      await sleep(nextDueInMs === 0 ? pollMs : quietMs(nextDueInMs));
    }
  };

  return {
    async start() {
      if (running) return;
      if (receiver() === undefined) {
        log.warn(options.notConfigured);
        return;
      }
      running = true;
      await listen().catch((err: unknown) => log.warn(`cannot LISTEN for ${noun} outbox inserts: polling only`, { err }));
      loop = run();
      log.info(`${noun} relay started`, { target, batchSize, pollMs, idlePollMs });
    },
    async stop() {
      running = false;
      nudge();
      gathering.wake();
      await loop;
      loop = undefined;
      const connection = listener;
      listener = undefined;
      await connection?.end().catch(() => undefined);
      sink?.close();
      sink = undefined;
    },
    async deliverOnce() {
      return (await deliverBatch()).delivered;
    },
    pruneDelivered,
  };
}
