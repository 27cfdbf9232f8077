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
