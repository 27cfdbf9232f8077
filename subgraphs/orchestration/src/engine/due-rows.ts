import type { Logger } from '@orchestra/lib';

/**
 * The loop every ticker of orchestration shares (schedules, runs started for later, waits at their
 * deadline): PostgreSQL is the truth, nothing is kept in memory. A pass reads which rows are due (a
 * system read, no locks), then handles them in transactions of their organization, each claiming its
 * rows under lock (FOR UPDATE SKIP LOCKED: a row another replica holds is skipped, and is no longer
 * due once that one commits), so any number of replicas handle each due row once. A batch that fails
 * is handled again one row per transaction, so one bad row delays only itself; a row that fails alone
 * is logged and stays due for the next pass. A pass that found as many rows as it reads (and handled
 * some) runs again at once; otherwise the next one comes after the interval.
 */

/** One kind of due row: how to find them and how to handle a batch of them. */
export interface DueRows<Ref> {
  /** Rows one pass reads, at most. */
  passSize: number;
  /** Reads up to `limit` due rows (unlocked, every organization), most overdue first. */
  findDue: (limit: number) => Promise<Ref[]>;
  /** Handles a batch in one transaction, claiming each row under lock; resolves to how many rows it handled. */
  handle: (batch: readonly Ref[]) => Promise<number>;
  /** Splits a pass's rows into batches (rows of one organization each). Default: one row per batch. */
  batches?: (due: readonly Ref[]) => Ref[][];
  /** Batches in flight at once. Default 1. */
  parallel?: number;
  /** Log fields naming a row (ids, organization). */
  describe: (ref: Ref) => Record<string, unknown>;
  /** Log fields naming a batch. Default: the first row's. */
  describeBatch?: (batch: readonly Ref[]) => Record<string, unknown>;
  /** Log messages: a row that failed alone (retried next pass), and a batch that failed (its rows then go one by one). */
  messages: { rowFailed: string; batchFailed: string };
}

/** What one pass of one kind did. */
export interface PassResult {
  found: number;
  handled: number;
}

/** One pass over one kind of due row. */
export function duePass<Ref>(rows: DueRows<Ref>, log: Logger): () => Promise<PassResult> {
  const { passSize, findDue, handle, batches = (due) => due.map((ref) => [ref]), parallel = 1, describe, describeBatch = (batch) => describe(batch[0] as Ref), messages } = rows;

  const handleBatch = async (batch: readonly Ref[]): Promise<number> => {
    try {
      return await handle(batch);
    } catch (err) {
      if (batch.length === 1) {
        log.error(messages.rowFailed, { err, ...describe(batch[0] as Ref) });
        return 0;
      }
      log.warn(messages.batchFailed, { err, ...describeBatch(batch), rows: batch.length });
      let handled = 0;
      for (const ref of batch) {
        const count = await handleBatch([ref]);
        handled += count;
      }
      return handled;
    }
  };

  return async () => {
    const due = await findDue(passSize);
    const queue = batches(due);
    let handled = 0;
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < queue.length; i = next++) {
        // Not `handled += await ...`: that reads `handled` before the await, losing the other lanes' counts.
        const count = await handleBatch(queue[i] as Ref[]);
        handled += count;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, queue.length)) }, lane));
    return { found: due.length, handled };
  };
}

export interface DueRowsLoop {
  start(): void;
  /** Stops the loop after the pass under way (awaited). */
  stop(): Promise<void>;
  /** One pass of every kind, in order; resolves to the rows handled. */
  tickOnce(): Promise<number>;
}

/** A loop running `passes` (see duePass) one after the other every `intervalMs`. */
export function createDueRowsLoop({ passes, log, intervalMs, passFailed }: { passes: ReadonlyArray<{ pass: () => Promise<PassResult>; passSize: number }>; log: Logger; intervalMs: number; passFailed: string }): DueRowsLoop {
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  /** One pass of each kind; `full` when one found as many rows as it reads (more may be due). */
  const passAll = async (): Promise<{ handled: number; full: boolean }> => {
    let handled = 0;
    let full = false;
    for (const { pass, passSize } of passes) {
      const result = await pass();
      handled += result.handled;
      // Handled none of a full pass (every row failed or another replica holds them): wait the interval rather than spin.
      full ||= result.found >= passSize && result.handled > 0;
    }
    return { handled, full };
  };

  const loop = async () => {
    if (stopped) return;
    let again = false;
    try {
      again = (await passAll()).full;
    } catch (err) {
      log.error(passFailed, { err });
    }
    if (!stopped) timer = setTimeout(() => (running = loop()), again ? 0 : intervalMs);
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    tickOnce: async () => (await passAll()).handled,
  };
}

/** Splits rows into batches of at most `size` rows of one organization each (in the order found). */
export function batchesByOrg<Ref extends { orgId: string }>(due: readonly Ref[], size: number): Ref[][] {
  const byOrg = new Map<string, Ref[]>();
  for (const ref of due) {
    const refs = byOrg.get(ref.orgId);
    if (refs) refs.push(ref);
    else byOrg.set(ref.orgId, [ref]);
  }
  return [...byOrg.values()].flatMap((refs) => Array.from({ length: Math.ceil(refs.length / size) }, (_, i) => refs.slice(i * size, (i + 1) * size)));
}
