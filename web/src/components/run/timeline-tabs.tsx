import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import type { TimelineStep } from '../../lib/timeline';
import { RunEventLog } from './event-log';
import { RunTimeline, type OpenAttempt, type TimelineRun } from './timeline';

/**
 * The run page's Timeline and Events tabs (issue 12). Nothing is fetched until one is opened (a run
 * of 2,000 items has thousands of attempts and events, which a reader of the graph does not need);
 * the tab last opened is opened again on the next run page of this browser tab.
 */

type Tab = 'timeline' | 'events';
const TABS: ReadonlyArray<[Tab, string]> = [
  ['timeline', 'Timeline'],
  ['events', 'Events'],
];
const REMEMBERED = 'orchestra.run-page.tab';

function rememberedTab(): Tab | null {
  try {
    const value = sessionStorage.getItem(REMEMBERED);
    return value === 'timeline' || value === 'events' ? value : null;
  } catch {
    return null;
  }
}

export function RunTimelineTabs({ run, onSelectStep, onOpenAttempt }: { run: TimelineRun & { tasks: readonly TimelineStep[] }; onSelectStep?: (stepId: string) => void; onOpenAttempt?: OpenAttempt }) {
  const [tab, setTab] = useState<Tab | null>(rememberedTab);
  const id = useId();
  const open = (next: Tab | null) => {
    setTab(next);
    try {
      if (next) sessionStorage.setItem(REMEMBERED, next);
      else sessionStorage.removeItem(REMEMBERED);
    } catch {
      // Storage refused (private mode): the tab is not remembered.
    }
  };
  // Arrow keys move between the tabs (one tab stop for the list).
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const at = TABS.findIndex(([t]) => t === tab);
    const next = TABS[(at + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]![0];
    open(next);
    document.getElementById(`${id}-${next}`)?.focus();
  };
  const stepIds = useMemo(() => run.tasks.map((t) => t.stepId), [run.tasks]);

  return (
    <section className="rounded-xl border border-slate-200 bg-white shadow-xs" aria-label="Run history">
      <header className="flex flex-wrap items-center gap-1 border-b border-slate-100 px-4 py-2">
        <div role="tablist" aria-label="Run history" className="flex gap-1" onKeyDown={onKeyDown}>
          {TABS.map(([t, label]) => (
            <button
              key={t}
              id={`${id}-${t}`}
              type="button"
              role="tab"
              aria-selected={tab === t}
              aria-controls={`${id}-panel`}
              tabIndex={tab === t || (tab === null && t === 'timeline') ? 0 : -1}
              onClick={() => open(tab === t ? null : t)}
              className={`rounded-md px-3 py-1.5 text-sm font-medium ${tab === t ? 'bg-indigo-50 text-indigo-700 ring-1 ring-indigo-200' : 'text-slate-600 hover:bg-slate-50'}`}
            >
              {label}
            </button>
          ))}
        </div>
        {tab === null && <span className="ml-3 text-xs text-slate-500">Every attempt on a time axis, or the run&apos;s event log: open one.</span>}
      </header>
      {tab !== null && (
        <div id={`${id}-panel`} role="tabpanel" aria-labelledby={`${id}-${tab}`}>
          {tab === 'timeline' ? <RunTimeline run={run} steps={run.tasks} {...(onSelectStep ? { onSelectStep } : {})} {...(onOpenAttempt ? { onOpenAttempt } : {})} /> : <RunEventLog run={run} stepIds={stepIds} />}
        </div>
      )}
    </section>
  );
}
