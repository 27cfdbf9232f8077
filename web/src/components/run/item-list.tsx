import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, useState } from 'react';
import { useServices } from '../../hooks/services';
import type { TaskItemsQuery, TaskStatus } from '../../lib/api/__generated__/graphql';
import type { ApiError } from '../../lib/api/errors';
import { taskItemsQuery } from '../../lib/api/operations/runs';
import { queryKeys } from '../../lib/api/query-keys';
import { formatCount, formatDuration } from '../../lib/format';
import { itemsDone, type ItemCounts } from '../../lib/item-counts';
import { ErrorNotice } from '../feedback';
import { StatusBadge } from '../status-badge';

/**
 * A forEach step's items in the task drawer: a page of 100 at a time as the list is scrolled (a step
 * may have 10,000), only the rows in view in the page, a status filter (asked of the API, so the
 * failed items of 10,000 are one page away). A row shows the item's status as live events left it.
 */

export type ItemRow = NonNullable<TaskItemsQuery['task']>['items']['edges'][number]['node'];

const PAGE = 100;
const ROW_HEIGHT = 36;
const STATUSES: ReadonlyArray<[TaskStatus, keyof ItemCounts]> = [
  ['FAILED', 'failed'],
  ['RUNNING', 'running'],
  ['QUEUED', 'queued'],
  ['PENDING', 'pending'],
  ['SUCCEEDED', 'succeeded'],
  ['CANCELLED', 'cancelled'],
];

const ItemRowView = memo(function ItemRowView({ item, status, selected, onOpen }: { item: ItemRow; status: TaskStatus; selected: boolean; onOpen: (item: ItemRow) => void }) {
  return (
    <button
      type="button"
      onClick={() => onOpen(item)}
      data-item-index={item.itemIndex}
      data-status={status}
      aria-pressed={selected}
      className={`flex h-9 w-full items-center gap-3 border-b border-slate-100 px-3 text-left text-sm hover:bg-white ${selected ? 'bg-indigo-50' : ''}`}
    >
      <span className="w-16 font-mono text-xs font-semibold text-indigo-700">#{item.itemIndex}</span>
      <StatusBadge status={status} />
      <span className="tabular-nums text-xs text-slate-500">{item.attempts}/{item.maxAttempts}</span>
      <span className="ml-auto tabular-nums text-xs text-slate-500">{formatDuration(item.durationMs)}</span>
      {item.error && <span className="max-w-48 truncate text-xs text-red-700" title={item.error.message}>{item.error.code}</span>}
    </button>
  );
});

export function ItemList({ parentId, counts, liveStatuses, selected, onOpen }: { parentId: string; counts: ItemCounts; liveStatuses: ReadonlyMap<string, TaskStatus> | undefined; selected: string | undefined; onOpen: (item: ItemRow) => void }) {
  const { api } = useServices();
  const [status, setStatus] = useState<TaskStatus | ''>('');
  const items = useInfiniteQuery<NonNullable<TaskItemsQuery['task']>['items'], ApiError>({
    queryKey: queryKeys.runs.taskItems(parentId, status || undefined),
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam, signal }) => {
      const data = await api.request(taskItemsQuery, { id: parentId, first: PAGE, after: (pageParam as string | undefined) ?? null, status: status || null }, { signal });
      if (!data.task) throw new Error(`task ${parentId} not found`);
      return data.task.items;
    },
    getNextPageParam: (last) => (last.pageInfo.hasNextPage ? (last.pageInfo.endCursor ?? undefined) : undefined),
    staleTime: 5_000,
  });
  const rows = items.data?.pages.flatMap((p) => p.edges.map((e) => e.node)) ?? [];
  const total = items.data?.pages[0]?.totalCount ?? 0;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const shown = virtualizer.getVirtualItems();
  const lastShown = shown[shown.length - 1]?.index ?? -1;
  // The next page is asked for when the rows in view come near the end of those loaded.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = items;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastShown >= rows.length - 20) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastShown, rows.length]);

  return (
    <section aria-label="Items" data-testid="item-list" className="rounded-xl bg-white shadow-xs ring-1 ring-slate-200">
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-3 py-2">
        <h3 className="text-sm font-semibold text-slate-800">Items</h3>
        <span className="text-xs tabular-nums text-slate-500" data-testid="item-list-counts">
          {formatCount(itemsDone(counts))} / {formatCount(counts.total)} done
        </span>
        <label className="ml-auto flex items-center gap-2 text-xs text-slate-600">
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as TaskStatus | '')} className="rounded-md border border-slate-300 bg-white px-2 py-1 text-xs">
            <option value="">All ({formatCount(counts.total)})</option>
            {STATUSES.map(([s, key]) => (
              <option key={s} value={s}>
                {s.charAt(0)}
                {s.slice(1).toLowerCase()} ({formatCount(counts[key])})
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void items.refetch()} className="rounded-md px-2 py-1 text-xs text-indigo-700 ring-1 ring-slate-200 hover:bg-slate-50">
          Refresh
        </button>
      </div>
      {items.error && <ErrorNotice error={items.error} className="m-3" />}
      <div ref={scroller} className="max-h-80 overflow-auto" data-testid="item-list-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {shown.map((v) => {
            const item = rows[v.index]!;
            return (
              <div key={item.id} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}>
                <ItemRowView item={item} status={liveStatuses?.get(item.id) ?? item.status} selected={item.id === selected} onOpen={onOpen} />
              </div>
            );
          })}
        </div>
        {items.isPending && <p className="px-3 py-4 text-sm text-slate-500">Loading items…</p>}
        {!items.isPending && rows.length === 0 && !items.error && <p className="px-3 py-4 text-sm text-slate-500">No item {status ? `is ${status.toLowerCase()}` : 'yet'}.</p>}
      </div>
      <p className="border-t border-slate-100 px-3 py-1.5 text-xs text-slate-500" aria-live="polite">
        {rows.length > 0 && `${formatCount(rows.length)} of ${formatCount(total)} loaded${hasNextPage ? ' (scroll for more)' : ''}. Statuses are live; the filter is as of the last load.`}
      </p>
    </section>
  );
}
