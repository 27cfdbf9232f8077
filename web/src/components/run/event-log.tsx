import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { RunStatus } from '../../lib/api/__generated__/graphql';
import { useDebouncedValue } from '../../hooks/use-debounced-value';
import { useRunEventLog } from '../../hooks/use-run-event-log';
import { EVENT_LEVELS, EVENT_SEARCH_MAX, eventKindLabel, eventLevel, eventMatcher, eventText, isFiltered, type EventFilter, type EventLogEntry } from '../../lib/event-log';
import { formatCount, formatDateTimeZone } from '../../lib/format';
import { ErrorNotice, LoadingBlock } from '../feedback';
import { StatusBadge } from '../status-badge';

/**
 * The run's event log (issue 12): every event with its time, kind, step, attempt and message — the
 * dispatcher's reasons among them ("attempt 1 of 3 failed …; retrying in 800 ms") — filtered by
 * kind, level, step and words; only the rows in view are drawn; it follows the run live, scrolled
 * to the newest while the reader is at the bottom.
 */

const ROW_HEIGHT = 32;
const FINAL: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
// Made once (a formatter per row would be built thousands of times).
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hour12: false });

const LEVEL_STYLE: Record<string, string> = {
  DEBUG: 'text-slate-400',
  INFO: 'text-slate-600',
  WARN: 'text-amber-700',
  ERROR: 'text-red-700',
};

const EventRow = memo(function EventRow({ event }: { event: EventLogEntry }) {
  const level = eventLevel(event);
  const text = eventText(event);
  const status = event.taskStatus ?? event.runStatus;
  return (
    <div data-testid="event-row" data-seq={event.seq} data-kind={event.kind} data-step={event.stepId ?? undefined} data-level={level} className="flex h-8 items-center gap-3 border-b border-slate-100 px-4 text-xs">
      <time dateTime={event.at} title={formatDateTimeZone(event.at)} className="w-24 shrink-0 tabular-nums text-slate-500">
        {CLOCK.format(new Date(event.at))}
      </time>
      <span className="w-12 shrink-0 text-right tabular-nums text-slate-400">#{event.seq}</span>
      <span className="w-24 shrink-0 truncate font-medium text-slate-700">{eventKindLabel(event.kind)}</span>
      <span className="w-32 shrink-0 truncate font-mono text-slate-700" title={event.stepId ?? 'the run'}>
        {event.stepId ?? '—'}
        {event.attempt !== null && <span className="text-slate-400"> · {event.attempt}</span>}
      </span>
      <span className="w-24 shrink-0">{status && <StatusBadge status={status as RunStatus} />}</span>
      <span className={`w-12 shrink-0 ${LEVEL_STYLE[level] ?? ''}`}>{level}</span>
      <span className="min-w-0 flex-1 truncate text-slate-800" title={text}>
        {text}
      </span>
    </div>
  );
});

function Select({ label, value, onChange, options }: { label: string; value: string; onChange: (value: string) => void; options: ReadonlyArray<[string, string]> }) {
  const id = useId();
  return (
    <label htmlFor={id} className="flex items-center gap-1.5 text-xs text-slate-600">
      {label}
      <select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} className="rounded-md border border-slate-300 bg-white px-2 py-1 text-xs">
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function RunEventLog({ run, stepIds }: { run: { id: string; status: RunStatus }; stepIds: readonly string[] }) {
  const active = !FINAL.has(run.status);
  const { buffer, version, loading, following, error } = useRunEventLog(run.id, active);
  const [kind, setKind] = useState('');
  const [level, setLevel] = useState<EventFilter['level']>('');
  const [stepId, setStepId] = useState('');
  const [text, setText] = useState('');
  const search = useDebouncedValue(text, 200);
  const filter = useMemo<EventFilter>(() => ({ kind, level, stepId, text: search }), [kind, level, stepId, search]);
  const shown = useMemo(() => (isFiltered(filter) ? buffer.events.filter(eventMatcher(filter)) : buffer.events), [buffer, version, filter]); // eslint-disable-line react-hooks/exhaustive-deps -- version says events were added
  const kinds = useMemo(() => buffer.kinds(), [buffer, version]); // eslint-disable-line react-hooks/exhaustive-deps -- version says events were added
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  // Following: while the reader is at the bottom, new events keep it there.
  // A live run's log starts at its newest event; a finished run's at its first.
  const [follow, setFollow] = useState(active);
  useEffect(() => {
    if (follow && shown.length > 0) virtualizer.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [follow, shown.length, virtualizer]);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT * 2;
    if (atBottom !== follow) setFollow(atBottom);
  };

  if (loading && buffer.events.length === 0) return <LoadingBlock label="Loading events" />;
  return (
    <div data-testid="event-log">
      {error && <ErrorNotice error={error} title={buffer.events.length > 0 ? 'Not every event could be loaded' : 'The events could not be loaded'} className="m-4" />}
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-100 px-4 py-2">
        <Select label="Kind" value={kind} onChange={setKind} options={[['', 'All kinds'], ...kinds.map((k): [string, string] => [k, eventKindLabel(k)])]} />
        <Select
          label="Level"
          value={level}
          onChange={(v) => setLevel(v as EventFilter['level'])}
          options={[['', 'All levels'], ...EVENT_LEVELS.filter((l) => l !== 'DEBUG').map((l): [string, string] => [l, `${l.charAt(0)}${l.slice(1).toLowerCase()} and above`])]}
        />
        <Select label="Step" value={stepId} onChange={setStepId} options={[['', 'All steps'], ...stepIds.map((s): [string, string] => [s, s])]} />
        <input
          type="search"
          value={text}
          maxLength={EVENT_SEARCH_MAX}
          onChange={(e) => setText(e.target.value)}
          placeholder="Search messages"
          aria-label="Search events"
          className="w-56 rounded-md border border-slate-300 px-2 py-1 text-xs"
        />
        <label className="ml-auto flex items-center gap-1.5 text-xs text-slate-600">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          {following ? 'Follow live' : 'Scroll to newest'}
        </label>
      </div>
      <div ref={scroller} onScroll={onScroll} className="max-h-[560px] overflow-auto" data-testid="event-log-scroller">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const event = shown[v.index]!;
            return (
              <div key={event.seq} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}>
                <EventRow event={event} />
              </div>
            );
          })}
        </div>
        {shown.length === 0 && !loading && <p className="px-4 py-6 text-sm text-slate-500">{buffer.events.length === 0 ? 'No event yet.' : 'No event matches the filter.'}</p>}
      </div>
      <p className="border-t border-slate-100 px-4 py-1.5 text-xs text-slate-500" aria-live="polite" data-testid="event-log-count" data-shown={shown.length} data-total={buffer.events.length}>
        {isFiltered(filter) ? `${formatCount(shown.length)} of ${formatCount(buffer.events.length)} events match` : `${formatCount(buffer.events.length)} events`}
        {loading && ' · loading older events…'}
        {buffer.full && ` · the first ${formatCount(buffer.max)} only`}
        {following && ' · live'}
      </p>
    </div>
  );
}
