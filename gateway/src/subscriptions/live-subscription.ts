import type { ExecutionResult } from 'graphql';
import { AppError, type Logger, type Principal } from '@orchestra/lib/gateway';
import type { SubscriptionField } from './registry';

/** What resolvers of a subscription's selection see as their context. */
export interface SubscriberContext {
  principal: Principal;
  /** principalScope(principal): subscribers in one scope share executions. */
  scope: string;
  log: Logger;
}

export interface LiveSubscriptionOptions {
  id: string;
  field: SubscriptionField;
  args: unknown;
  /** Subscribers with the same key (field, document, variables, scope) share each event's execution. */
  groupKey: string;
  /** Executes the selection for one event (shared by the group through the server's result cache). */
  execute(event: unknown, eventKey: string, groupKey: string): Promise<ExecutionResult>;
  /** May this subscription still receive events right now (connection authenticated, token unexpired)? */
  allowed(): boolean;
  /** Results queued for a subscriber that does not read them; past this it ends (resume from the last seq). */
  maxQueued: number;
  onEnd(subscription: LiveSubscription): void;
}

const DONE: IteratorResult<ExecutionResult, undefined> = { done: true, value: undefined };

/**
 * One subscriber's stream: events pushed by a shared feed, executed once per group, delivered in the
 * order they came, pulled by graphql-ws through an async iterator. Ends with an error (sent to the
 * client as the subscription's `error`) when access ends, or completes with its source.
 */
export class LiveSubscription {
  private readonly queue: ExecutionResult[] = [];
  private waiter: { resolve(result: IteratorResult<ExecutionResult, undefined>): void; reject(error: unknown): void } | undefined;
  private tail: Promise<void> = Promise.resolve();
  private ended: { error?: AppError } | undefined;
  private detach: (() => void) | undefined;
  readonly iterator: AsyncGenerator<ExecutionResult, undefined, undefined>;

  constructor(private readonly options: LiveSubscriptionOptions) {
    const iterator: AsyncGenerator<ExecutionResult, undefined, undefined> = {
      next: () => this.next(),
      return: () => {
        this.finish();
        return Promise.resolve(DONE);
      },
      throw: (error: unknown) => {
        this.finish();
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      },
      [Symbol.asyncIterator]: () => iterator,
      [Symbol.asyncDispose]: () => {
        this.finish();
        return Promise.resolve();
      },
    };
    this.iterator = iterator;
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
    return this.ended === undefined;
  }

  /** Starts the source; `attach` returns its detach function. */
  start(attach: (sink: { offer(event: unknown): void; complete(): void; fail(error: unknown): void }) => () => void): void {
    this.detach = attach({
      offer: (event) => this.offer(event),
      complete: () => {
        // After everything already offered has been delivered.
        this.tail = this.tail.then(() => this.end());
      },
      fail: (error) => this.end(error instanceof AppError ? error : new AppError('UNAVAILABLE', 'the event stream failed; subscribe again to resume', { reason: 'STREAM_FAILED', cause: error })),
    });
    if (this.ended) this.detach();
  }

  private offer(event: unknown): void {
    if (this.ended || !this.options.allowed()) return;
    const eventKey = this.options.field.eventKey(event);
    const result = this.options.execute(event, eventKey, this.options.groupKey);
    this.tail = this.tail.then(async () => {
      let value: ExecutionResult;
      try {
        value = await result;
      } catch (error) {
        this.end(error instanceof AppError ? error : new AppError('INTERNAL', 'an event could not be resolved', { cause: error }));
        return;
      }
      // Access may have ended while the event was resolved.
      if (this.ended || !this.options.allowed()) return;
      this.push(value);
    });
  }

  private push(result: ExecutionResult): void {
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ done: false, value: result });
      return;
    }
    if (this.queue.length >= this.options.maxQueued) {
      this.end(new AppError('UNAVAILABLE', `this subscriber fell more than ${this.options.maxQueued} events behind: subscribe again from the last seq you received`, { reason: 'SUBSCRIBER_TOO_SLOW' }));
      return;
    }
    this.queue.push(result);
  }

  private next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve({ done: false, value: queued });
    if (this.ended) return this.ended.error ? Promise.reject(this.ended.error) : Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Ends the subscription: with `error`, the client gets it as the subscription's error; without, it completes. */
  end(error?: AppError): void {
    if (this.ended) return;
    this.ended = error ? { error } : {};
    // An error goes out at once (queued events of a principal whose access ended are dropped).
    if (error) this.queue.length = 0;
    this.detach?.();
    this.options.onEnd(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) {
      if (error) waiter.reject(error);
      else waiter.resolve(DONE);
    }
  }

  /** The client completed it, or the connection closed. */
  private finish(): void {
    if (!this.ended) this.end();
    this.queue.length = 0;
  }
}
