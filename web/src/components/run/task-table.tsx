import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { StatusBadge } from '../status-badge';
import { RelativeTime } from '../time';
import { formatCount, formatDuration } from '../../lib/format';
import { formatAttempts, isWaiting, type ShownTask } from '../../lib/run-events';
import { ProgressBar, WaitReason } from './task-panel';

/**
 * The run's tasks as a table that stays light at thousands of rows: only the rows in view are in
 * the page (virtualized), a row is drawn again only when its task changed (live events keep the
 * other tasks' objects), and a status filter and a search by step narrow it down. It tells the page
 * whether a row in view waits (`onWaitingShown`): wait reasons are looked at again only then.
 */

const ROW_HEIGHT = 49;
const HEAD = ['Step', 'Status', 'Attempts', 'Progress', 'Worker', 'Started', 'Duration'];
const STATUSES = ['PENDING', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

const TaskRowView = memo(function TaskRowView({ task, selected, onSelect, index }: { task: ShownTask; selected: boolean; onSelect: (stepId: string) => void; index: number }) {
  return (
    <tr data-step={task.stepId} data-status={task.status} data-index={index} aria-rowindex={index + 2} className={`h-[49px] cursor-pointer hover:bg-slate-50/70 ${selected ? 'bg-indigo-50/60' : ''}`} onClick={() => onSelect(task.stepId)}>
      <td className="whitespace-nowrap px-4 py-2 align-middle">
        <button
          type="button"
          className="font-mono text-xs font-semibold text-indigo-700 hover:underline"
          onClick={(e) => {
            e.stopPropagation();
            onSelect(task.stepId);
          }}
          aria-expanded={selected}
        >
          {task.stepId}
        </button>
      </td>
      <td className="max-w-xs px-4 py-2 align-middle">
        <div className="flex flex-col gap-0.5">
          <span>
            <StatusBadge status={task.status} />
          </span>
          <WaitReason task={task} />
        </div>
      </td>
      <td className="whitespace-nowrap px-4 py-2 align-middle tabular-nums">{formatAttempts(task)}</td>
      <td className="px-4 py-2 align-middle">
        <ProgressBar value={task.status === 'SUCCEEDED' ? 1 : task.progress} label={`Progress of ${task.stepId}`} />
      </td>
      <td className="whitespace-nowrap px-4 py-2 align-middle font-mono text-xs">{task.workerId ?? '—'}</td>
      <td className="whitespace-nowrap px-4 py-2 align-middle">
        <RelativeTime value={task.startedAt} />
      </td>
      <td className="whitespace-nowrap px-4 py-2 align-middle tabular-nums">{formatDuration(task.durationMs)}</td>
    </tr>
  );
});

export function TaskTable({ tasks, selected, onSelect, onWaitingShown }: { tasks: readonly ShownTask[]; selected: string | undefined; onSelect: (stepId: string) => void; onWaitingShown?: (waiting: boolean) => void }) {
  const [status, setStatus] = useState<string>('');
  const [search, setSearch] = useState('');
  const term = useDeferredValue(search.trim().toLowerCase());
  const shown = useMemo(() => (status === '' && term === '' ? tasks : tasks.filter((t) => (status === '' || t.status === status) && (term === '' || t.stepId.toLowerCase().includes(term)))), [tasks, status, term]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const items = virtualizer.getVirtualItems();
  const before = items[0]?.start ?? 0;
  const after = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const waitingShown = items.some((item) => {
    const task = shown[item.index];
    return task !== undefined && isWaiting(task);
  });
  useEffect(() => onWaitingShown?.(waitingShown), [onWaitingShown, waitingShown]);
  return (
    <div>
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-4 py-3">
        <label className="flex items-center gap-2 text-sm text-slate-600">
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)} className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.charAt(0)}
                {s.slice(1).toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-2 text-sm text-slate-600">
          Search
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Step id" className="w-48 rounded-md border border-slate-300 px-2 py-1 text-sm" />
        </label>
        <span className="text-xs text-slate-500" aria-live="polite">
          {shown.length === tasks.length ? `${formatCount(tasks.length)} tasks` : `${formatCount(shown.length)} of ${formatCount(tasks.length)} tasks`}
        </span>
      </div>
      <div ref={scroller} className="max-h-[28rem] overflow-auto" data-testid="task-table-scroller">
        <table className="min-w-full text-sm" aria-label="Tasks" aria-rowcount={shown.length + 1}>
          <thead className="sticky top-0 z-10 bg-slate-50">
            <tr aria-rowindex={1}>
              {HEAD.map((h) => (
                <th key={h} scope="col" className="whitespace-nowrap px-4 py-2.5 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {before > 0 && (
              <tr aria-hidden="true">
                <td colSpan={HEAD.length} style={{ height: before, padding: 0 }} />
              </tr>
            )}
            {items.map((item) => {
              const task = shown[item.index]!;
              return <TaskRowView key={task.id} task={task} index={item.index} selected={task.stepId === selected} onSelect={onSelect} />;
            })}
            {after > 0 && (
              <tr aria-hidden="true">
                <td colSpan={HEAD.length} style={{ height: after, padding: 0 }} />
              </tr>
            )}
          </tbody>
        </table>
        {shown.length === 0 && <p className="px-4 py-6 text-center text-sm text-slate-500">No task matches.</p>}
      </div>
    </div>
  );
}
