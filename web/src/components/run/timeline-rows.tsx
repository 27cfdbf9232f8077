import { memo, type CSSProperties, type MouseEvent } from 'react';
import { formatCount, formatDateTimeZone, formatDuration } from '../../lib/format';
import { attemptSegments, type TimelineAttempt, type TimelineRow, type TimeSpan } from '../../lib/timeline';
import { attemptTargetKey, groupTargetKey } from '../../lib/timeline-keys';
import { statusLabel } from '../status-badge';

/**
 * The timeline's parts (timeline.tsx lays them out, zooms and moves the keyboard cursor): a row per
 * step or item with its attempts as bars, the tooltip, the legend.
 */

export const ROW_HEIGHT = 28;
export const LABEL_WIDTH = 224;

const RUN_COLOUR: Record<TimelineAttempt['status'], string> = {
  QUEUED: 'bg-slate-400',
  RUNNING: 'bg-sky-500',
  SUCCEEDED: 'bg-emerald-500',
  FAILED: 'bg-red-500',
  CANCELLED: 'bg-amber-500',
  LOST: 'bg-orange-500',
};
const HATCH: CSSProperties = { backgroundImage: 'repeating-linear-gradient(135deg, var(--timeline-hatch-a) 0 3px, var(--timeline-hatch-b) 3px 6px)' };
/** The keyboard cursor's bar. */
const ACTIVE_RING = 'outline-2 outline-offset-1 outline-indigo-500 z-10';

/** The DOM id of a bar (aria-activedescendant of the chart): `base` is the chart's own id. */
export const targetElementId = (base: string, key: string): string => `${base}-${key.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

export interface Hovered {
  attempt: TimelineAttempt;
  x: number;
  y: number;
}

export function AttemptTooltip({ hovered, now }: { hovered: Hovered; now: number }) {
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

type HoverHandler = (a: TimelineAttempt | null, e?: MouseEvent) => void;

const AttemptBar = memo(function AttemptBar({ attempt, span, now, active, idBase, onHover }: { attempt: TimelineAttempt; span: TimeSpan; now: number; active: boolean; idBase: string; onHover: HoverHandler }) {
  const { queue, run } = attemptSegments(attempt, span, now);
  const width = queue.width + (run?.width ?? 0);
  const total = queue.ms + (run?.ms ?? 0) || 1;
  return (
    <div
      id={targetElementId(idBase, attemptTargetKey(attempt.id))}
      role="img"
      data-testid="timeline-attempt"
      data-step={attempt.stepId}
      data-item={attempt.itemIndex ?? undefined}
      data-attempt={attempt.number}
      data-status={attempt.status}
      data-queue-ms={Math.round(queue.ms)}
      data-run-ms={run ? Math.round(run.ms) : undefined}
      data-active={active || undefined}
      aria-label={`${attempt.stepId}${attempt.itemIndex !== null ? ` #${attempt.itemIndex}` : ''} attempt ${attempt.number}: ${statusLabel(attempt.status)}, waited ${formatDuration(queue.ms)}${run ? `, ran ${formatDuration(run.ms)}` : ''}`}
      onMouseEnter={(e) => onHover(attempt, e)}
      onMouseMove={(e) => onHover(attempt, e)}
      onMouseLeave={() => onHover(null)}
      className={`absolute inset-y-1 flex min-w-[3px] overflow-hidden rounded-sm ring-1 ring-white ${active ? ACTIVE_RING : ''}`}
      style={{ left: `${queue.left}%`, width: `${width}%` }}
    >
      <div data-part="queue" className="h-full" style={{ ...HATCH, flexGrow: queue.ms / total, flexBasis: 0 }} />
      {run && <div data-part="run" className={`h-full min-w-[2px] ${RUN_COLOUR[attempt.status]} ${attempt.status === 'RUNNING' ? 'animate-soft-pulse' : ''}`} style={{ flexGrow: run.ms / total, flexBasis: 0 }} />}
    </div>
  );
});

/** The row's label. Its buttons are not tab stops: the chart is one, and Enter on a bar does what they do. */
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
          tabIndex={-1}
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
      <button type="button" tabIndex={-1} onClick={() => onSelectStep?.(row.stepId)} className="truncate font-mono text-xs font-semibold text-indigo-700 hover:underline" title={`Open step ${row.stepId}`}>
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

export const TimelineRowView = memo(function TimelineRowView({
  row,
  span,
  now,
  activeKey,
  idBase,
  onToggle,
  onSelectStep,
  onHover,
}: {
  row: TimelineRow;
  span: TimeSpan;
  now: number;
  /** The keyboard cursor's target key when it is in this row (else null, so other rows are not drawn again). */
  activeKey: string | null;
  idBase: string;
  onToggle: (stepId: string) => void;
  onSelectStep: ((stepId: string) => void) | undefined;
  onHover: HoverHandler;
}) {
  const size = span.end - span.start;
  const group = row.kind === 'step' ? row.group : null;
  const groupKey = group ? groupTargetKey(row.stepId) : null;
  return (
    <div className={`flex h-7 items-center border-b border-slate-100 ${row.kind === 'item' ? 'bg-slate-50' : 'bg-white'}`} data-testid="timeline-row" data-kind={row.kind} data-step={row.stepId} data-item={row.kind === 'item' ? (row.itemIndex ?? undefined) : undefined}>
      {/* Sticky: the labels stay in view when the chart is zoomed in and scrolled along. */}
      <div className={`sticky left-0 z-20 flex h-full shrink-0 items-center overflow-hidden border-r border-slate-100 px-2 ${row.kind === 'item' ? 'bg-slate-50' : 'bg-white'}`} style={{ width: LABEL_WIDTH }}>
        <RowLabel row={row} onToggle={onToggle} onSelectStep={onSelectStep} />
      </div>
      <div className="relative h-full flex-1">
        {group && groupKey && (
          <div
            id={targetElementId(idBase, groupKey)}
            role="img"
            aria-label={`${row.stepId}: ${formatCount(group.items)} items${group.failed > 0 ? `, ${formatCount(group.failed)} failed` : ''}; Enter ${group.expanded ? 'closes' : 'opens'} them`}
            data-testid="timeline-group"
            data-step={row.stepId}
            data-active={activeKey === groupKey || undefined}
            className={`absolute rounded-sm ${group.expanded ? 'inset-y-3 bg-indigo-200/40' : 'inset-y-2 bg-indigo-200/70'} ${activeKey === groupKey ? ACTIVE_RING : ''}`}
            style={group.start !== null && group.end !== null ? { left: `${((group.start - span.start) / size) * 100}%`, width: `${((group.end - group.start) / size) * 100}%` } : { left: 0, width: 6 }}
            title={group.start !== null && group.end !== null ? `${formatCount(group.items)} items, ${formatDateTimeZone(new Date(group.start).toISOString())} to ${formatDateTimeZone(new Date(group.end).toISOString())}` : `${formatCount(group.items)} items, none started yet`}
          />
        )}
        {row.attempts.map((a) => (
          <AttemptBar key={a.id} attempt={a} span={span} now={now} active={activeKey === attemptTargetKey(a.id)} idBase={idBase} onHover={onHover} />
        ))}
      </div>
    </div>
  );
});

export function Legend() {
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
