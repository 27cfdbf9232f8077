/**
 * Turns many concurrent calls into few: the items of every call made while a flush runs are
 * flushed together by the next one. Alone, a call flushes at once (no timer, no added latency);
 * under load, one round trip serves every caller that arrived meanwhile. Each call settles with
 * the flush that carried its items, in call order.
 */
export type Coalescer<T> = (items: readonly T[]) => Promise<void>;

export function createCoalescer<T>(flush: (items: T[]) => Promise<void>): Coalescer<T> {
  let waiting: Array<{ items: readonly T[]; done: () => void; failed: (error: unknown) => void }> = [];
  let flushing = false;
  const drain = async () => {
    flushing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        await flush(batch.flatMap((call) => call.items));
        for (const call of batch) call.done();
      } catch (error) {
        for (const call of batch) call.failed(error);
      }
    }
    flushing = false;
  };
  return (items) => {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((done, failed) => {
      waiting.push({ items, done, failed });
      if (!flushing) void drain();
    });
  };
}

export interface BatcherOptions<R, T> {
  /** Applies requests together; resolves to one result per request, in order. */
  apply: (requests: R[]) => Promise<T[]>;
  maxBatch: number;
  /** Batches applied at the same time, at most (default 1). */
  parallel?: number;
  /** Told when a batch of several requests failed (they are then applied one by one). */
  onBatchFailure?: (error: unknown, size: number) => void;
}

/**
 * Like createCoalescer, for requests that each want their own result: the requests made while
 * `parallel` batches are being applied go together into the next one (up to `maxBatch`). When a
 * batch of several fails, each of its requests is applied again on its own, so one bad request
 * cannot fail the others and each caller gets its own result or error.
 */
export function createBatcher<R, T>({ apply, maxBatch, parallel = 1, onBatchFailure }: BatcherOptions<R, T>): (request: R) => Promise<T> {
  type Call = { request: R; done: (result: T) => void; failed: (error: unknown) => void };
  let waiting: Call[] = [];
  let applying = 0;
  const one = async (call: Call) => {
    try {
      call.done((await apply([call.request]))[0] as T);
    } catch (error) {
      call.failed(error);
    }
  };
  const drain = async () => {
    applying += 1;
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(batch.length);
      if (batch.length === 1) {
        await one(batch[0] as Call);
        continue;
      }
      let results: T[];
      try {
        results = await apply(batch.map((call) => call.request));
      } catch (error) {
        onBatchFailure?.(error, batch.length);
        for (const call of batch) await one(call);
        continue;
      }
      batch.forEach((call, i) => call.done(results[i] as T));
    }
    applying -= 1;
  };
  return (request) =>
    new Promise<T>((done, failed) => {
      waiting.push({ request, done, failed });
      if (applying < parallel) void drain();
    });
}
