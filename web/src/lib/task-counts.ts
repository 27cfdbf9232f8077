import { formatCount } from './format';
import type { ItemCounts } from './item-counts';
import type { TaskStatus } from './api/__generated__/graphql';

export type TaskCounts = Record<TaskStatus, number> & { total: number };

const EMPTY: Omit<TaskCounts, 'total'> = { PENDING: 0, QUEUED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0 };

/** How many tasks are in each status; a forEach step that expanded its list counts its items instead of itself. */
export function countTasks(tasks: ReadonlyArray<{ status: TaskStatus; itemCounts?: ItemCounts | null | undefined }>): TaskCounts {
  const counts: TaskCounts = { ...EMPTY, total: 0 };
  for (const task of tasks) {
    const items = task.itemCounts;
    if (items) {
      counts.total += items.total;
      counts.PENDING += items.pending;
      counts.QUEUED += items.queued;
      counts.RUNNING += items.running;
      counts.SUCCEEDED += items.succeeded;
      counts.FAILED += items.failed;
      counts.CANCELLED += items.cancelled;
      continue;
    }
    counts.total += 1;
    counts[task.status] += 1;
  }
  return counts;
}

/** "1,820 / 2,000 done, 12 failed": finished tasks of all, with the failures and what is running. */
export function describeCounts(counts: TaskCounts): string {
  const done = counts.SUCCEEDED + counts.FAILED + counts.CANCELLED;
  const parts = [`${formatCount(done)} / ${formatCount(counts.total)} done`];
  if (counts.FAILED > 0) parts.push(`${formatCount(counts.FAILED)} failed`);
  if (counts.CANCELLED > 0) parts.push(`${formatCount(counts.CANCELLED)} cancelled`);
  if (counts.RUNNING > 0) parts.push(`${formatCount(counts.RUNNING)} running`);
  if (counts.QUEUED > 0) parts.push(`${formatCount(counts.QUEUED)} queued`);
  return parts.join(', ');
}
