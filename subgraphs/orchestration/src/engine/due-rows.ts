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
  /**
   * Work may have appeared (this process committed a change): a loop sleeping while idle passes again
   * within `intervalMs` of its last pass, as a loop that never slept would have.
   */
  wake(): void;
}

/**
 * How a loop sleeps while nothing is due (issue 11: an idle process costs nothing).
 * - With `nextDueInMs` (every kind of due row it handles has a due time in its row, and whatever makes
 *   new rows wakes it): after an empty pass it sleeps until the next due time it reads, at most `maxMs`.
 *   A row is handled at its time as before (within `intervalMs` when the clocks race).
 * - Without: after an empty pass it sleeps `intervalMs`, then twice that after the next, and so on up
 *   to `maxMs`.
 * Either way a change this process makes (wake(), called after its commit) is looked at within
 * `intervalMs` of the last pass, a change made elsewhere (another replica, SQL by hand) is seen within
 * `maxMs`, and while rows are found the loop runs every `intervalMs` (at once after a full pass).
 */
export interface IdleBackoff {
  maxMs: number;
  /** Milliseconds until the next row falls due by the database's clock (undefined: none will), read after an empty pass. */
  nextDueInMs?: () => Promise<number | undefined>;
}

/** What a pass of the whole loop saw. */
export interface LoopPass {
  found: number;
  /** A pass of one kind found as many rows as it reads, and handled some: more may be due now. */
  full: boolean;
}

/**
 * The sleep after a pass (pure: the loop's policy). `idleMs` is the sleep an empty pass of a loop
 * without due times gets now; the answer also gives the next one's. A failed pass (`pass` undefined)
 * waits the interval.
 */
export function sleepAfterPass(
  pass: LoopPass | undefined,
  { intervalMs, idle, idleMs, nextDueInMs }: { intervalMs: number; idle: IdleBackoff | undefined; idleMs: number; nextDueInMs: number | undefined },
): { sleepMs: number; nextIdleMs: number } {
  if (pass?.full) return { sleepMs: 0, nextIdleMs: intervalMs };
  if (pass === undefined || pass.found > 0 || idle === undefined) return { sleepMs: intervalMs, nextIdleMs: intervalMs };
  const maxMs = Math.max(intervalMs, idle.maxMs);
  if (idle.nextDueInMs !== undefined) {
    // Due already, yet the pass found none (it read a moment before): look again after the interval, never spin.
    const sleepMs = nextDueInMs === undefined ? maxMs : nextDueInMs <= 0 ? intervalMs : Math.min(maxMs, nextDueInMs);
    return { sleepMs, nextIdleMs: intervalMs };
  }
  return { sleepMs: Math.min(idleMs, maxMs), nextIdleMs: Math.min(maxMs, idleMs * 2) };
}

/**
 * A loop running `passes` (see duePass) one after the other every `intervalMs`; with `idle`, it
 * sleeps longer while nothing is due (see IdleBackoff).
 */
export function createDueRowsLoop({
  passes,
  log,
  intervalMs,
  passFailed,
  idle,
}: {
  passes: ReadonlyArray<{ pass: () => Promise<PassResult>; passSize: number }>;
  log: Logger;
  intervalMs: number;
  passFailed: string;
  idle?: IdleBackoff;
}): DueRowsLoop {
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Infinity: no timer). */
  let timerAt = Infinity;
  let running: Promise<void> = Promise.resolve();
  let passing = false;
  /** wake() came during the pass under way: it may have read before that change committed. */
  let wokenMidPass = false;
  let lastPassAt = 0;
  let idleMs = intervalMs;

  /** One pass of each kind; `full` when one found as many rows as it reads (more may be due). */
  const passAll = async (): Promise<{ handled: number } & LoopPass> => {
    let handled = 0;
    let found = 0;
    let full = false;
    for (const { pass, passSize } of passes) {
      const result = await pass();
      handled += result.handled;
      found += result.found;
      // Handled none of a full pass (every row failed or another replica holds them): wait the interval rather than spin.
      full ||= result.found >= passSize && result.handled > 0;
    }
    return { handled, found, full };
  };

  const sleep = (ms: number) => {
    if (timer) clearTimeout(timer);
    timerAt = Date.now() + ms;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      running = loop();
    }, ms);
  };

  const loop = async () => {
    if (stopped) return;
    passing = true;
    wokenMidPass = false;
    lastPassAt = Date.now();
    let pass: LoopPass | undefined;
    let nextDueInMs: number | undefined;
    try {
      pass = await passAll();
      if (idle?.nextDueInMs && pass.found === 0) nextDueInMs = await idle.nextDueInMs();
    } catch (err) {
      log.error(passFailed, { err });
      pass = undefined;
    }
    passing = false;
    const next = sleepAfterPass(pass, { intervalMs, idle, idleMs, nextDueInMs });
    idleMs = next.nextIdleMs;
    let sleepMs = next.sleepMs;
    if (wokenMidPass) {
      idleMs = intervalMs;
      sleepMs = Math.min(sleepMs, Math.max(0, lastPassAt + intervalMs - Date.now()));
    }
    if (!stopped) sleep(sleepMs);
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
      timer = undefined;
      await running;
    },
    tickOnce: async () => (await passAll()).handled,
    wake() {
      if (stopped) return;
      idleMs = intervalMs;
      if (passing) {
        wokenMidPass = true;
        return;
      }
      const dueInMs = Math.max(0, lastPassAt + intervalMs - Date.now());
      if (Date.now() + dueInMs < timerAt) sleep(dueInMs);
    },
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
