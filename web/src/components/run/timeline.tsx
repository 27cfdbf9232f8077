import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useMemo, useRef, useState, type CSSProperties, type MouseEvent } from 'react';
import type { RunStatus } from '../../lib/api/__generated__/graphql';
import { useRunTimeline } from '../../hooks/use-run-timeline';
import { formatCount, formatDateTimeZone, formatDuration } from '../../lib/format';
import { attemptSegments, tickLabel, timelineRows, timelineSpan, timeTicks, type TimelineAttempt, type TimelineRow, type TimelineStep, type TimeSpan } from '../../lib/timeline';
import { ErrorNotice, LoadingBlock } from '../feedback';
import { statusLabel } from '../status-badge';

/**
 * The run's attempts as a Gantt chart (issue 12): a row per step, a forEach step's items in rows of
 * their own under it (collapsed until opened; only the rows in view are drawn, so 2,000 items stay
 * light), each attempt a bar — its queue wait hatched, then its run time coloured by how it ended —
 * retries as bars of their own. Hovering a bar tells its worker, times (with the time zone) and error.
 */

const ROW_HEIGHT = 28;
const LABEL_WIDTH = 224;

const RUN_COLOUR: Record<TimelineAttempt['status'], string> = {
  QUEUED: 'bg-slate-400',
  RUNNING: 'bg-sky-500',
  SUCCEEDED: 'bg-emerald-500',
  FAILED: 'bg-red-500',
  CANCELLED: 'bg-amber-500',
  LOST: 'bg-orange-500',
};
const HATCH: CSSProperties = { backgroundImage: 'repeating-linear-gradient(135deg, rgb(203 213 225) 0 3px, rgb(241 245 249) 3px 6px)' };

export interface TimelineRun {
  id: string;
  status: RunStatus;
  createdAt: string;
  finishedAt: string | null;
}

interface Hovered {
  attempt: TimelineAttempt;
  x: number;
  y: number;
}

function AttemptTooltip({ hovered, now }: { hovered: Hovered; now: number }) {
  const a = hovered.attempt;
  const { queue, run } = attemptSegments(a, { start: 0, end: Number.MAX_SAFE_INTEGER }, now);
  const rows: Array<[string, string]> = [
    ['Worker', a.workerId ?? (a.status === 'QUEUED' ? 'not started' : 'looking it up…')],
    ['Queued', formatDateTimeZone(a.queuedAt)],
    ['Started', a.startedAt ? formatDateTimeZone(a.startedAt) : '—'],
    ['Finished', a.finishedAt ? formatDateTimeZone(a.finishedAt) : a.startedAt ? 'running' : 'waiting'],
    ['Queue wait', formatDuration(queue.ms)],
    ['Run time', run ? formatDuration(run.ms) : '—'],
  ];
  // Kept inside the window: left of the pointer when near the right edge.
  const style: CSSProperties = { top: hovered.y + 14, ...(hovered.x > window.innerWidth - 340 ? { right: window.innerWidth - hovered.x + 8 } : { left: hovered.x + 12 }) };
  return (
    <div role="tooltip" data-testid="timeline-tooltip" style={style} className="pointer-events-none fixed z-50 w-80 rounded-lg bg-slate-900 p-3 text-xs text-slate-100 shadow-lg">
      <p className="mb-2 font-semibold">
        {a.stepId}
        {a.itemIndex !== null && ` #${a.itemIndex}`} · attempt {a.number} · {statusLabel(a.status)}
      </p>
      <dl className="grid grid-cols-[6rem_1fr] gap-x-2 gap-y-0.5">
        {rows.map(([k, v]) => (
          <div key={k} className="contents">
            <dt className="text-slate-400">{k}</dt>
            <dd className="break-words">{v}</dd>
          </div>
        ))}
      </dl>
      {a.error && (
        <p className="mt-2 break-words text-red-300">
          {a.error.code}: {a.error.message}
        </p>
      )}
    </div>
  );
}

const AttemptBar = memo(function AttemptBar({ attempt, span, now, onHover }: { attempt: TimelineAttempt; span: TimeSpan; now: number; onHover: (a: TimelineAttempt | null, e?: MouseEvent) => void }) {
  const { queue, run } = attemptSegments(attempt, span, now);
  const width = queue.width + (run?.width ?? 0);
  const total = queue.ms + (run?.ms ?? 0) || 1;
  return (
    <div
      data-testid="timeline-attempt"
      data-step={attempt.stepId}
      data-item={attempt.itemIndex ?? undefined}
      data-attempt={attempt.number}
      data-status={attempt.status}
      data-queue-ms={Math.round(queue.ms)}
      data-run-ms={run ? Math.round(run.ms) : undefined}
      aria-label={`${attempt.stepId}${attempt.itemIndex !== null ? ` #${attempt.itemIndex}` : ''} attempt ${attempt.number}: ${statusLabel(attempt.status)}, waited ${formatDuration(queue.ms)}${run ? `, ran ${formatDuration(run.ms)}` : ''}`}
      onMouseEnter={(e) => onHover(attempt, e)}
      onMouseMove={(e) => onHover(attempt, e)}
      onMouseLeave={() => onHover(null)}
      className="absolute inset-y-1 flex min-w-[3px] overflow-hidden rounded-sm ring-1 ring-white"
      style={{ left: `${queue.left}%`, width: `${width}%` }}
    >
      <div data-part="queue" className="h-full" style={{ ...HATCH, flexGrow: queue.ms / total, flexBasis: 0 }} />
      {run && <div data-part="run" className={`h-full min-w-[2px] ${RUN_COLOUR[attempt.status]} ${attempt.status === 'RUNNING' ? 'animate-soft-pulse' : ''}`} style={{ flexGrow: run.ms / total, flexBasis: 0 }} />}
    </div>
  );
});

function RowLabel({ row, onToggle, onSelectStep }: { row: TimelineRow; onToggle: (stepId: string) => void; onSelectStep: ((stepId: string) => void) | undefined }) {
  if (row.kind === 'item') {
    return (
      <span className="truncate pl-8 font-mono text-xs text-slate-600" title={`Item ${row.itemIndex ?? '(index loading)'} of step ${row.stepId}`}>
        #{row.itemIndex ?? '…'}
      </span>
    );
  }
  return (
    <span className="flex min-w-0 items-center gap-1">
      {row.group ? (
        <button
          type="button"
          onClick={() => onToggle(row.stepId)}
          aria-expanded={row.group.expanded}
          aria-label={`${row.group.expanded ? 'Collapse' : 'Expand'} the items of ${row.stepId}`}
          className="w-5 shrink-0 rounded text-slate-500 hover:bg-slate-100"
        >
          {row.group.expanded ? '▾' : '▸'}
        </button>
      ) : (
        <span className="w-5 shrink-0" />
      )}
      <button type="button" onClick={() => onSelectStep?.(row.stepId)} className="truncate font-mono text-xs font-semibold text-indigo-700 hover:underline" title={`Open step ${row.stepId}`}>
        {row.stepId}
      </button>
      {row.group && (
        <span className="shrink-0 text-xs tabular-nums text-slate-500">
          {formatCount(row.group.items)} items{row.group.failed > 0 ? ` · ${formatCount(row.group.failed)} failed` : ''}
        </span>
      )}
    </span>
  );
}

const TimelineRowView = memo(function TimelineRowView({ row, span, now, onToggle, onSelectStep, onHover }: { row: TimelineRow; span: TimeSpan; now: number; onToggle: (stepId: string) => void; onSelectStep: ((stepId: string) => void) | undefined; onHover: (a: TimelineAttempt | null, e?: MouseEvent) => void }) {
  const size = span.end - span.start;
  const group = row.kind === 'step' ? row.group : null;
  return (
    <div className={`flex h-7 items-center border-b border-slate-100 ${row.kind === 'item' ? 'bg-slate-50/60' : ''}`} data-testid="timeline-row" data-kind={row.kind} data-step={row.stepId} data-item={row.kind === 'item' ? (row.itemIndex ?? undefined) : undefined}>
      <div className="flex shrink-0 items-center overflow-hidden px-2" style={{ width: LABEL_WIDTH }}>
        <RowLabel row={row} onToggle={onToggle} onSelectStep={onSelectStep} />
      </div>
      <div className="relative h-full flex-1">
        {group && group.start !== null && group.end !== null && !group.expanded && (
          <div
            data-testid="timeline-group"
            className="absolute inset-y-2 rounded-sm bg-indigo-200/70"
            style={{ left: `${((group.start - span.start) / size) * 100}%`, width: `${((group.end - group.start) / size) * 100}%` }}
            title={`${formatCount(group.items)} items, ${formatDateTimeZone(new Date(group.start).toISOString())} to ${formatDateTimeZone(new Date(group.end).toISOString())}`}
          />
        )}
        {row.attempts.map((a) => (
          <AttemptBar key={a.id} attempt={a} span={span} now={now} onHover={onHover} />
        ))}
      </div>
    </div>
  );
});

function Legend() {
  const swatch = (label: string, className: string, style?: CSSProperties) => (
    <span key={label} className="flex items-center gap-1">
      <span className={`inline-block h-2.5 w-4 rounded-sm ${className}`} style={style} />
      {label}
    </span>
  );
  return (
    <div className="flex flex-wrap items-center gap-3 text-xs text-slate-600" aria-label="Legend">
      {swatch('Queue wait', '', HATCH)}
      {swatch('Running', RUN_COLOUR.RUNNING)}
      {swatch('Succeeded', RUN_COLOUR.SUCCEEDED)}
      {swatch('Failed', RUN_COLOUR.FAILED)}
      {swatch('Cancelled', RUN_COLOUR.CANCELLED)}
      {swatch('Lost', RUN_COLOUR.LOST)}
    </div>
  );
}

export function RunTimeline({ run, steps, onSelectStep }: { run: TimelineRun; steps: readonly TimelineStep[]; onSelectStep?: (stepId: string) => void }) {
  const { timeline, version, loading, error, now, loadTask } = useRunTimeline(run, steps);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const [hovered, setHovered] = useState<Hovered | null>(null);
  const rows = useMemo(() => timelineRows(steps, timeline.attempts(), expanded, now), [steps, timeline, version, expanded, now]); // eslint-disable-line react-hooks/exhaustive-deps -- version says the timeline changed
  const span = useMemo(() => timelineSpan(run, timeline.attempts(), now), [run.createdAt, run.finishedAt, timeline, version, now]); // eslint-disable-line react-hooks/exhaustive-deps -- version says the timeline changed
  const ticks = useMemo(() => timeTicks(span), [span]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const groups = steps.filter((s) => s.itemCounts !== null && s.itemCounts !== undefined).map((s) => s.stepId);

  const toggle = useCallback((stepId: string) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (next.has(stepId)) next.delete(stepId);
      else next.add(stepId);
      return next;
    });
  }, []);
  const onHover = useCallback(
    (a: TimelineAttempt | null, e?: MouseEvent) => {
      if (!a || !e) {
        setHovered(null);
        return;
      }
      setHovered({ attempt: a, x: e.clientX, y: e.clientY });
      // A bar that started after the attempts were fetched: its worker comes with its task's history.
      if (a.workerId === null && a.status !== 'QUEUED') loadTask(a.taskId);
    },
    [loadTask],
  );
  // The hovered attempt as it is now (it may have moved on, or its worker come, since the pointer came).
  const shownHover = hovered ? { ...hovered, attempt: timeline.get(hovered.attempt.id) ?? hovered.attempt } : null;
  const size = span.end - span.start;

  if (loading && timeline.size === 0) return <LoadingBlock label="Loading attempts" />;
  return (
    <div data-testid="run-timeline" data-attempts={timeline.size}>
      {error && <ErrorNotice error={error} title="The timeline could not be loaded in full" className="m-4" />}
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-4 py-2">
        <Legend />
        <span className="ml-auto text-xs text-slate-500" title={formatDateTimeZone(new Date(span.start).toISOString())}>
          {formatCount(timeline.size)} attempts · from {formatDateTimeZone(new Date(span.start).toISOString())}
        </span>
        {groups.length > 0 && (
          <button type="button" onClick={() => setExpanded(expanded.size > 0 ? new Set() : new Set(groups))} className="rounded-md px-2 py-1 text-xs text-indigo-700 ring-1 ring-slate-200 hover:bg-slate-50">
            {expanded.size > 0 ? 'Collapse all items' : 'Expand all items'}
          </button>
        )}
      </div>
      <div className="flex h-6 border-b border-slate-200 text-[11px] text-slate-500" aria-hidden="true">
        <div className="shrink-0 px-2 leading-6" style={{ width: LABEL_WIDTH }}>
          Step
        </div>
        <div className="relative flex-1">
          {ticks.map((t) => (
            <span key={t} className="absolute top-0 -translate-x-1/2 leading-6 first:translate-x-0" style={{ left: `${(t / size) * 100}%` }}>
              {tickLabel(t)}
            </span>
          ))}
        </div>
      </div>
      <div ref={scroller} className="relative max-h-[560px] overflow-auto" data-testid="timeline-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          <div className="pointer-events-none absolute inset-y-0 right-0" style={{ left: LABEL_WIDTH }} aria-hidden="true">
            {ticks.map((t) => (
              <div key={t} className="absolute inset-y-0 border-l border-dashed border-slate-200" style={{ left: `${(t / size) * 100}%` }} />
            ))}
          </div>
          {virtualizer.getVirtualItems().map((v) => {
            const row = rows[v.index]!;
            return (
              <div key={row.key} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}>
                <TimelineRowView row={row} span={span} now={now} onToggle={toggle} onSelectStep={onSelectStep} onHover={onHover} />
              </div>
            );
          })}
        </div>
        {rows.length === 0 && <p className="px-4 py-6 text-sm text-slate-500">No attempt yet.</p>}
      </div>
      {shownHover && <AttemptTooltip hovered={shownHover} now={now} />}
    </div>
  );
}
