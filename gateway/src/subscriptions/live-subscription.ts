import { AppError, type Logger, type Principal } from '@orchestra/lib/gateway';
import type { SubscriptionField } from './registry';
import type { Operation } from './protocol';
import type { FeedSink } from './run-feeds';

/** What resolvers of a subscription's selection see as their context (one execution serves a group of subscribers). */
export interface SubscriberContext {
  principal: Principal;
  /** principalScope(principal): subscribers in one scope share executions. */
  scope: string;
  log: Logger;
}

/** Where a subscription's messages go: its connection's WebSocket. */
export interface FrameSocket {
  readonly readyState: number;
  /** Bytes queued on the connection and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  send(data: string): void;
}

/** Holds a socket's writes and lets them go in one (ws-transport.ts's, for ws's WebSocket); one object shared by every subscription. */
export interface FrameCorking {
  cork(socket: FrameSocket): void;
  uncork(socket: FrameSocket): void;
}

export interface LiveSubscriptionOptions {
  id: string;
  field: SubscriptionField;
  args: unknown;
  socket: FrameSocket;
  /**
   * The `payload` of the `next` message for one event, as JSON: serialized once for every subscriber
   * of the same field, document, variables and scope (the server's shared results), a promise while
   * the event's selection is still being resolved (federated entity fields).
   */
  payload(event: unknown): string | Promise<string>;
  /** May this subscription still receive events right now (connection authenticated, token unexpired)? */
  allowed(): boolean;
  /** Events waiting for their selection to resolve; past this the subscriber ends (resume from the last seq). */
  maxQueued: number;
  /** Bytes its connection may hold unsent; a subscriber that would add to more ends as too slow. */
  maxBufferedBytes: number;
  /** How the socket's writes are held while a feed offers several events in a row (none: each is written at once). */
  corking?: FrameCorking | undefined;
  onDelivered(): void;
  /** It ended: by itself (`error` when an error ended it), or cancelled (client completed it, connection closed). */
  onEnd(subscription: LiveSubscription, error: AppError | undefined, cancelled: boolean): void;
}

const OPEN = 1;

const tooSlow = (what: string) =>
  new AppError('UNAVAILABLE', `this subscriber fell too far behind (${what}): subscribe again from the last seq you received`, { reason: 'SUBSCRIBER_TOO_SLOW' });

/**
 * One subscriber's stream. Events pushed by a shared feed are sent straight to the connection as
 * graphql-transport-ws `next` messages built around the group's pre-serialized payload (the same
 * bytes for every subscriber of the group but the subscription id), in the order they came: no
 * per-subscriber execution, JSON serialization, promise or queue when the payload is ready.
 *
 * It is its feed's sink and its connection's operation (protocol.ts) itself, so an open subscription
 * is this object, its options and the feed's entry. When it ends, `onEnd` says how: completed (the
 * source completed), with an error (sent as the subscription's `error`, e.g. when access ends), or
 * cancelled (nothing to send).
 */
export class LiveSubscription implements FeedSink<unknown>, Operation {
  /** Deliveries waiting for a payload that is still resolving (the order is kept through `tail`). */
  private pending = 0;
  private tail: Promise<void> | undefined;
  private ended = false;
  private detach: (() => void) | undefined;
  /** `{"id":<id>,"type":"next","payload":` */
  private readonly framePrefix: string;

  constructor(private readonly options: LiveSubscriptionOptions) {
    this.framePrefix = `{"id":${JSON.stringify(options.id)},"type":"next","payload":`;
  }

  get id(): string {
    return this.options.id;
  }

  get field(): SubscriptionField {
    return this.options.field;
  }

  get args(): unknown {
    return this.options.args;
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Starts the source; `attach` returns its detach function. The subscription is the sink. */
  start(attach: (sink: FeedSink<unknown>) => () => void): void {
    this.detach = attach(this);
    if (this.ended) this.detach();
  }

  // ---- the feed's sink ----

  offer(event: unknown): void {
    if (this.ended || !this.options.allowed()) return;
    let payload: string | Promise<string>;
    try {
      payload = this.options.payload(event);
    } catch (error) {
      this.end(error instanceof AppError ? error : new AppError('INTERNAL', 'an event could not be resolved', { cause: error }));
      return;
    }
    if (typeof payload === 'string' && this.pending === 0) {
      this.send(payload);
      return;
    }
    if (this.pending >= this.options.maxQueued) {
      this.end(tooSlow(`more than ${this.options.maxQueued} events waiting`));
      return;
    }
    this.pending += 1;
    this.tail = (this.tail ?? Promise.resolve()).then(async () => {
      let json: string;
      try {
        json = await payload;
      } catch (error) {
        this.end(error instanceof AppError ? error : new AppError('INTERNAL', 'an event could not be resolved', { cause: error }));
        return;
      } finally {
        this.pending -= 1;
        if (this.pending === 0) this.tail = undefined;
      }
      // Access may have ended while the event was resolved.
      if (this.ended || !this.options.allowed()) return;
      this.send(json);
    });
  }

  /** The feed offers several events in a row: their frames go to the kernel in one write at uncork. */
  cork(): void {
    this.options.corking?.cork(this.options.socket);
  }

  uncork(): void {
    this.options.corking?.uncork(this.options.socket);
  }

  complete(): void {
    // After everything already offered has been sent.
    if (this.pending === 0 || !this.tail) this.end();
    else this.tail = this.tail.then(() => this.end());
  }

  fail(error: unknown): void {
    this.end(error instanceof AppError ? error : new AppError('UNAVAILABLE', 'the event stream failed; subscribe again to resume', { reason: 'STREAM_FAILED', cause: error }));
  }

  private send(payload: string): void {
    const { socket } = this.options;
    // A closed connection ends its subscriptions as it closes.
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.end(tooSlow(`more than ${Math.round(this.options.maxBufferedBytes / 1024)} KiB unread`));
      return;
    }
    socket.send(this.framePrefix + payload + '}');
    this.options.onDelivered();
  }

  // ---- the connection's operation ----

  /** The client completed it, or the connection closed. */
  cancel(): void {
    this.stop(undefined, true);
  }

  /** Ends the subscription: with `error`, the client gets it as the subscription's error; without, it completes. */
  end(error?: AppError): void {
    this.stop(error, false);
  }

  private stop(error: AppError | undefined, cancelled: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.detach?.();
    this.detach = undefined;
    this.options.onEnd(this, error, cancelled);
  }
}
