import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { RunStatus } from '../../lib/api/__generated__/graphql';
import { useRunTimeline } from '../../hooks/use-run-timeline';
import { formatCount, formatDateTimeZone } from '../../lib/format';
import { tickLabel, timelineRows, timelineSpan, timeTicks, type TimelineAttempt, type TimelineStep } from '../../lib/timeline';
import { anchoredScroll, clampZoom, findTarget, moveTimelineCursor, MAX_ZOOM, MIN_ZOOM, type TimelineTarget } from '../../lib/timeline-keys';
import { ErrorNotice, LoadingBlock } from '../feedback';
import { AttemptTooltip, LABEL_WIDTH, Legend, ROW_HEIGHT, targetElementId, TimelineRowView, type Hovered } from './timeline-rows';

/**
 * The run's attempts as a Gantt chart (issue 12): a row per step, a forEach step's items in rows of
 * their own under it (collapsed until opened; only the rows in view are drawn, so 2,000 items stay
 * light), each attempt a bar — its queue wait hatched, then its run time coloured by how it ended —
 * retries as bars of their own. Hovering a bar tells its worker, times (with the time zone) and error.
 *
 * Zoom: the buttons, ctrl + wheel (keeping the time under the pointer in place) or + / − / 0 on the
 * chart widen the time axis up to 256×, its gridlines rescaled to the part in view; the labels stay.
 * Keyboard: the chart is one tab stop; the arrow keys (and Home/End, PageUp/PageDown) move between
 * bars, which shows the bar's details as on hover; Enter opens the attempt's task (or a forEach
 * item's) in the drawer, or opens and closes a forEach step's items.
 */

const HEADER_HEIGHT = 24;
/** The chart area's visible width (the scroller's, less the labels'). */
const chartWidthOf = (el: HTMLElement | null): number => Math.max(0, (el?.clientWidth ?? 0) - LABEL_WIDTH);
/** Gridlines in view at any zoom. */
const TICKS_IN_VIEW = 6;

export interface TimelineRun {
  id: string;
  status: RunStatus;
  createdAt: string;
  finishedAt: string | null;
}

/** Opens an attempt's details: its step's task, or (`itemTaskId`) the forEach item it was an attempt of. */
export type OpenAttempt = (stepId: string, itemTaskId?: string) => void;

export function RunTimeline({ run, steps, onSelectStep, onOpenAttempt }: { run: TimelineRun; steps: readonly TimelineStep[]; onSelectStep?: (stepId: string) => void; onOpenAttempt?: OpenAttempt }) {
  const { timeline, version, loading, error, now, loadTask } = useRunTimeline(run, steps);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const [hovered, setHovered] = useState<Hovered | null>(null);
  const [zoom, setZoom] = useState(MIN_ZOOM);
  /** The keyboard cursor: a target key (lib/timeline-keys.ts), shown only while the chart has focus. */
  const [activeKey, setActiveKey] = useState<string | null>(null);
  const [focused, setFocused] = useState(false);
  const idBase = useId().replace(/:/g, '');
  const rows = useMemo(() => timelineRows(steps, timeline.attempts(), expanded, now), [steps, timeline, version, expanded, now]); // eslint-disable-line react-hooks/exhaustive-deps -- version says the timeline changed
  const span = useMemo(() => timelineSpan(run, timeline.attempts(), now), [run.createdAt, run.finishedAt, timeline, version, now]); // eslint-disable-line react-hooks/exhaustive-deps -- version says the timeline changed
  // The axis is rescaled with the zoom: as many gridlines in view as at 1×, at a finer step.
  const ticks = useMemo(() => timeTicks(span, TICKS_IN_VIEW * zoom), [span, zoom]);
  const scroller = useRef<HTMLDivElement | null>(null);
  // The chart's element as state too: the wheel listener is attached once it exists (after the attempts load).
  const [scrollerElement, setScrollerElement] = useState<HTMLDivElement | null>(null);
  const attachScroller = useCallback((el: HTMLDivElement | null) => {
    scroller.current = el;
    setScrollerElement(el);
  }, []);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10, scrollMargin: HEADER_HEIGHT });
  const groups = steps.filter((s) => s.itemCounts !== null && s.itemCounts !== undefined).map((s) => s.stepId);
  const cursor = useMemo(() => findTarget(rows, activeKey), [rows, activeKey]);

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

  // --- Zoom ---------------------------------------------------------------------------------------
  /** Where the time axis should stay put across a zoom: px from the chart area's visible left edge. */
  const zoomAnchor = useRef<{ x: number; width: number } | null>(null);
  const zoomTo = useCallback((next: number, anchorX?: number) => {
    setZoom((current) => {
      const target = clampZoom(next);
      if (target === current) return current;
      const visible = chartWidthOf(scroller.current);
      zoomAnchor.current = { x: anchorX ?? visible / 2, width: visible * current };
      return target;
    });
  }, []);
  useLayoutEffect(() => {
    const anchor = zoomAnchor.current;
    const el = scroller.current;
    zoomAnchor.current = null;
    if (!anchor || !el) return;
    el.scrollLeft = anchoredScroll(el.scrollLeft, anchor.x, anchor.width, chartWidthOf(scroller.current) * zoom);
  }, [zoom]);
  // ctrl + wheel zooms about the pointer (a non-passive listener: the page must not zoom or scroll instead).
  useEffect(() => {
    const el = scrollerElement;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      const x = e.clientX - el.getBoundingClientRect().left - LABEL_WIDTH;
      setZoom((current) => {
        const target = clampZoom(current * Math.pow(2, -e.deltaY / 300));
        if (target === current) return current;
        zoomAnchor.current = { x: Math.max(0, x), width: chartWidthOf(scroller.current) * current };
        return target;
      });
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [scrollerElement]);

  // --- Keyboard -----------------------------------------------------------------------------------
  /** Brings the cursor's bar into view: its row (virtualized) and its place on the time axis. */
  const reveal = useCallback(
    (row: number, target: TimelineTarget) => {
      virtualizer.scrollToIndex(row, { align: 'auto' });
      const el = scroller.current;
      if (!el) return;
      const width = chartWidthOf(scroller.current) * zoom;
      const x = ((target.start - span.start) / (span.end - span.start)) * width;
      const visible = chartWidthOf(scroller.current);
      if (Number.isFinite(x) && (x < el.scrollLeft || x > el.scrollLeft + visible - 24)) el.scrollLeft = Math.max(0, x - visible / 3);
    },
    [virtualizer, zoom, span],
  );
  const open = (target: TimelineTarget) => {
    if (target.kind === 'group') toggle(target.stepId);
    else if (target.itemTask) onOpenAttempt?.(target.stepId, target.taskId);
    else (onOpenAttempt ?? onSelectStep)?.(target.stepId);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === '+' || e.key === '=') zoomTo(zoom * 2);
    else if (e.key === '-' || e.key === '_') zoomTo(zoom / 2);
    else if (e.key === '0') zoomTo(MIN_ZOOM);
    else if ((e.key === 'Enter' || e.key === ' ') && cursor) open(cursor.target);
    else if (e.key === 'Escape' && activeKey !== null) setActiveKey(null);
    else {
      const next = moveTimelineCursor(rows, cursor, e.key, e.ctrlKey || e.metaKey);
      if (!next) return;
      setActiveKey(next.target.key);
      reveal(next.row, next.target);
    }
    e.preventDefault();
  };
  // The cursor's attempt is shown as on hover (worker, times with their zone, error), under its bar.
  const activeAttempt = focused && cursor?.target.kind === 'attempt' ? (timeline.get(cursor.target.attemptId) ?? null) : null;
  const [activeBox, setActiveBox] = useState<{ x: number; y: number } | null>(null);
  // The bar moves on screen when the rows scroll or the axis zooms: placed again then.
  const firstRowShown = virtualizer.range?.startIndex;
  useLayoutEffect(() => {
    if (!activeAttempt || !activeKey) {
      setActiveBox(null);
      return;
    }
    const box = document.getElementById(targetElementId(idBase, activeKey))?.getBoundingClientRect();
    setActiveBox(box ? { x: box.left + Math.min(box.width, 40), y: box.bottom - 10 } : null);
  }, [activeAttempt, activeKey, idBase, zoom, firstRowShown]);
  useEffect(() => {
    if (activeAttempt && activeAttempt.workerId === null && activeAttempt.status !== 'QUEUED') loadTask(activeAttempt.taskId);
  }, [activeAttempt, loadTask]);

  // The hovered attempt as it is now (it may have moved on, or its worker come, since the pointer came).
  const shownHover = hovered ? { ...hovered, attempt: timeline.get(hovered.attempt.id) ?? hovered.attempt } : activeAttempt && activeBox ? { attempt: activeAttempt, ...activeBox } : null;
  const size = span.end - span.start;
  const shownKey = focused ? activeKey : null;

  if (loading && timeline.size === 0) return <LoadingBlock label="Loading attempts" />;
  return (
    <div data-testid="run-timeline" data-attempts={timeline.size} data-zoom={zoom}>
      {error && <ErrorNotice error={error} title="The timeline could not be loaded in full" className="m-4" />}
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-4 py-2">
        <Legend />
        <span className="ml-auto text-xs text-slate-500" title={formatDateTimeZone(new Date(span.start).toISOString())}>
          {formatCount(timeline.size)} attempts · from {formatDateTimeZone(new Date(span.start).toISOString())}
        </span>
        <div className="flex items-center gap-1" role="group" aria-label="Zoom the time axis">
          <button type="button" onClick={() => zoomTo(zoom / 2)} disabled={zoom <= MIN_ZOOM} aria-label="Zoom the timeline out" title="Zoom out (−, or ctrl + wheel)" className="size-7 rounded-md text-sm text-slate-700 ring-1 ring-slate-200 hover:bg-slate-50 disabled:text-slate-300">
            −
          </button>
          <span className="w-12 text-center text-xs tabular-nums text-slate-600" data-testid="timeline-zoom" aria-live="polite">
            {zoom < 10 ? zoom.toFixed(zoom % 1 === 0 ? 0 : 1) : Math.round(zoom)}×
          </span>
          <button type="button" onClick={() => zoomTo(zoom * 2)} disabled={zoom >= MAX_ZOOM} aria-label="Zoom the timeline in" title="Zoom in (+, or ctrl + wheel)" className="size-7 rounded-md text-sm text-slate-700 ring-1 ring-slate-200 hover:bg-slate-50 disabled:text-slate-300">
            +
          </button>
          <button type="button" onClick={() => zoomTo(MIN_ZOOM)} disabled={zoom === MIN_ZOOM} aria-label="Fit the timeline to the run" title="The whole run in view (0)" className="rounded-md px-2 py-1 text-xs text-indigo-700 ring-1 ring-slate-200 hover:bg-slate-50 disabled:text-slate-300">
            Fit
          </button>
        </div>
        {groups.length > 0 && (
          <button type="button" onClick={() => setExpanded(expanded.size > 0 ? new Set() : new Set(groups))} className="rounded-md px-2 py-1 text-xs text-indigo-700 ring-1 ring-slate-200 hover:bg-slate-50">
            {expanded.size > 0 ? 'Collapse all items' : 'Expand all items'}
          </button>
        )}
      </div>
      <div
        ref={attachScroller}
        className="relative max-h-[560px] overflow-auto outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-indigo-500"
        data-testid="timeline-scroller"
        tabIndex={0}
        role="group"
        aria-label="Attempts on a time axis: arrow keys move between bars, Enter opens one, + and − zoom"
        aria-activedescendant={shownKey !== null && cursor ? targetElementId(idBase, shownKey) : undefined}
        onKeyDown={onKeyDown}
        onFocus={(e) => {
          if (e.target !== e.currentTarget) return;
          setFocused(true);
          // The first visit starts on the first bar.
          if (!cursor) {
            const first = moveTimelineCursor(rows, null, 'ArrowDown');
            if (first) setActiveKey(first.target.key);
          }
        }}
        onBlur={() => setFocused(false)}
      >
        {/* Zoomed in, the content is wider than the view: the time axis spreads over it, the labels stay at the left. */}
        <div className="relative min-w-full" style={{ width: `calc(${LABEL_WIDTH}px + (100% - ${LABEL_WIDTH}px) * ${zoom})` }}>
          <div className="sticky top-0 z-30 flex border-b border-slate-200 bg-white text-[11px] text-slate-500" style={{ height: HEADER_HEIGHT }} aria-hidden="true">
            <div className="sticky left-0 z-10 shrink-0 bg-white px-2 leading-6" style={{ width: LABEL_WIDTH }}>
              Step
            </div>
            <div className="relative flex-1 overflow-hidden" data-testid="timeline-axis">
              {ticks.map((t) => (
                <span key={t} data-tick={t} className="absolute top-0 -translate-x-1/2 whitespace-nowrap leading-6 first:translate-x-0" style={{ left: `${(t / size) * 100}%` }}>
                  {tickLabel(t)}
                </span>
              ))}
            </div>
          </div>
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            <div className="pointer-events-none absolute inset-y-0 right-0" style={{ left: LABEL_WIDTH }} aria-hidden="true">
              {ticks.map((t) => (
                <div key={t} className="absolute inset-y-0 border-l border-dashed border-slate-200" style={{ left: `${(t / size) * 100}%` }} />
              ))}
            </div>
            {virtualizer.getVirtualItems().map((v) => {
              const row = rows[v.index]!;
              return (
                <div key={row.key} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start - HEADER_HEIGHT}px)` }}>
                  <TimelineRowView
                    row={row}
                    span={span}
                    now={now}
                    activeKey={shownKey !== null && cursor?.row === v.index ? shownKey : null}
                    idBase={idBase}
                    onToggle={toggle}
                    onSelectStep={onSelectStep}
                    onHover={onHover}
                  />
                </div>
              );
            })}
          </div>
        </div>
        {rows.length === 0 && <p className="px-4 py-6 text-sm text-slate-500">No attempt yet.</p>}
      </div>
      {shownHover && <AttemptTooltip hovered={shownHover} now={now} />}
    </div>
  );
}
