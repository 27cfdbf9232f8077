import type { ItemCountFieldsFragment, RunEventBatchesSubscription, TaskStatus } from './api/__generated__/graphql';

/**
 * The item counts of a forEach step kept current from live events, without fetching its items.
 *
 * An item's TASK_STATUS event carries the step's id and the item task's own id (not in Run.tasks),
 * and its new status, not the one it leaves. The counts move by one from the old status to the new:
 * the old one is the status the item's last event gave (kept per item, `statuses`), and for an item
 * not seen since the counts were fetched it is the status that comes before the new one in an
 * item's life (PENDING → QUEUED → RUNNING → SUCCEEDED/FAILED, back to QUEUED for a retry). A
 * cancellation may leave any status; it is counted from QUEUED when the item had an attempt and from
 * PENDING when not, and the run is fetched again when it ends, which sets the counts right.
 */

export type ItemCounts = Omit<ItemCountFieldsFragment, '__typename'>;
type RunEvent = RunEventBatchesSubscription['runEventBatches']['events'][number];
type CountKey = Exclude<keyof ItemCounts, 'total'>;

const KEY: Record<TaskStatus, CountKey> = {
  PENDING: 'pending',
  QUEUED: 'queued',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

export const EMPTY_ITEM_COUNTS: ItemCounts = { total: 0, pending: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };

/** The status an item most likely left, when its last status is not known. */
export function previousItemStatus(event: Pick<RunEvent, 'taskStatus' | 'attempt'>): TaskStatus | undefined {
  switch (event.taskStatus) {
    case 'QUEUED':
      // A first attempt comes from PENDING; a later one is a retry of an attempt that ran.
      return (event.attempt ?? 1) <= 1 ? 'PENDING' : 'RUNNING';
    case 'RUNNING':
      return 'QUEUED';
    case 'SUCCEEDED':
    case 'FAILED':
      return 'RUNNING';
    case 'CANCELLED':
      return event.attempt === null ? 'PENDING' : 'QUEUED';
    case 'PENDING':
      // Started over (retryRun) after failing.
      return 'FAILED';
    case null:
    case undefined:
      return undefined;
  }
}

/**
 * The counts after an item's status event; `statuses` (the items' last statuses seen) is updated in
 * place. Counts never go below zero (a guess that was wrong is not carried into negative numbers).
 */
export function countItemEvent(counts: ItemCounts, statuses: Map<string, TaskStatus>, event: Pick<RunEvent, 'taskId' | 'taskStatus' | 'attempt'>): ItemCounts {
  const status = event.taskStatus;
  if (!status || event.taskId === null) return counts;
  const before = statuses.get(event.taskId) ?? previousItemStatus(event);
  statuses.set(event.taskId, status);
  if (before === status) return counts;
  const next = { ...counts };
  if (before) next[KEY[before]] = Math.max(0, next[KEY[before]] - 1);
  next[KEY[status]] += 1;
  return next;
}

/** Items that have ended (succeeded, failed or cancelled). */
export const itemsDone = (counts: ItemCounts): number => counts.succeeded + counts.failed + counts.cancelled;

/** The counts of a forEach step as fetched after its events were partly applied: those newer than `throughSeq` applied again on top. */
export function recountItems(fetched: ItemCounts, throughSeq: number, events: ReadonlyArray<Pick<RunEvent, 'seq' | 'taskId' | 'taskStatus' | 'attempt'>>): { counts: ItemCounts; statuses: Map<string, TaskStatus> } {
  const statuses = new Map<string, TaskStatus>();
  let counts: ItemCounts = { ...EMPTY_ITEM_COUNTS, ...withoutTypename(fetched) };
  for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
    if (event.taskId === null || !event.taskStatus) continue;
    if (event.seq <= throughSeq) statuses.set(event.taskId, event.taskStatus);
    else counts = countItemEvent(counts, statuses, event);
  }
  return { counts, statuses };
}

function withoutTypename(counts: ItemCounts & { __typename?: string }): ItemCounts {
  const { __typename: _typename, ...rest } = counts;
  return rest;
}
