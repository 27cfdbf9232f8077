import type { RunLiveState } from '../hooks/use-live-run';

/** Whether the page is receiving live events; announced politely when it changes. */
export function LiveIndicator({ state }: { state: RunLiveState }) {
  if (state === 'idle' || state === 'ended') return null;
  const shown =
    state === 'live'
      ? { text: 'Live', dot: 'bg-emerald-500 animate-soft-pulse', tone: 'text-emerald-700' }
      : state === 'closed'
        ? { text: 'Not live', dot: 'bg-slate-400', tone: 'text-slate-500' }
        : { text: state === 'reconnecting' ? 'Reconnecting…' : 'Connecting…', dot: 'bg-amber-400', tone: 'text-amber-700' };
  return (
    <span className={`inline-flex items-center gap-1.5 text-xs font-medium ${shown.tone}`} role="status" aria-live="polite" data-live-state={state}>
      <span className={`size-2 rounded-full ${shown.dot}`} aria-hidden="true" />
      {shown.text}
    </span>
  );
}
