import { isTerminalRunEvent, type RunEvent } from '@orchestra/lib/gateway';
import type { FeedSink } from './run-feeds';

/**
 * Subscription.runEventBatches (issue 12): a run's events gathered a short while and sent as one
 * message. A busy run (thousands of tasks) makes hundreds of events a second; one message each costs
 * the subscriber a frame, a parse and a render per event, and each message is too small to compress
 * (the WebSocket compresses messages of 1 KiB and more, each on its own). A batch of a few hundred
 * similar events is one message that compresses to a small fraction of their size.
 */

export interface RunEventBatch {
  runId: string;
  /** The first and last seq this batch covers, events left out by the filter included. */
  firstSeq: number;
  lastSeq: number;
  /** In seq order, without gaps but for the events the filter left out. */
  events: RunEvent[];
}

export interface BatchTimers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: BatchTimers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface BatchingOptions {
  /** How long the first event of a batch waits for others. */
  windowMs: number;
  /** A batch this big is sent at once. */
  maxEvents: number;
  /** Which events are sent (default all); the others only move `lastSeq` on. */
  keep?: (event: RunEvent) => boolean;
  timers?: BatchTimers;
}

export interface BatchingSink extends FeedSink {
  /** Drops what is gathered and stops the timer (the subscriber left). */
  cancel(): void;
}

/**
 * A feed sink that gathers events into batches for `sink`: a batch goes out `windowMs` after its first
 * event, when it holds `maxEvents`, or at once with the run's final status (nothing waits behind it).
 */
export function batchingSink(runId: string, sink: FeedSink<RunEventBatch>, options: BatchingOptions): BatchingSink {
  const timers = options.timers ?? realTimers;
  let events: RunEvent[] = [];
  let firstSeq: number | undefined;
  let lastSeq = 0;
  let timer: unknown;
  let done = false;

  const flush = () => {
    if (timer !== undefined) timers.clear(timer);
    timer = undefined;
    if (firstSeq === undefined) return;
    const batch: RunEventBatch = { runId, firstSeq, lastSeq, events };
    events = [];
    firstSeq = undefined;
    // A window in which the filter kept nothing sends nothing (a resume from an older seq skips the same events again).
    if (batch.events.length > 0) sink.offer(batch);
  };

  return {
    offer(event) {
      if (done) return;
      firstSeq ??= event.seq;
      lastSeq = event.seq;
      if (options.keep?.(event) ?? true) events.push(event);
      if (events.length >= options.maxEvents || isTerminalRunEvent(event)) flush();
      else timer ??= timers.set(flush, options.windowMs);
    },
    complete() {
      if (done) return;
      flush();
      done = true;
      sink.complete();
    },
    fail(error) {
      if (done) return;
      // What came before the failure is sent: the subscriber resumes after its last seq.
      flush();
      done = true;
      sink.fail(error);
    },
    cancel() {
      done = true;
      if (timer !== undefined) timers.clear(timer);
      timer = undefined;
      events = [];
      firstSeq = undefined;
    },
  };
}
