import { useQueryClient } from '@tanstack/react-query';
import { startTransition, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiError } from '../lib/api/errors';
import type { LiveStatus } from '../lib/api/live';
import { runEventBatchesSubscription, runItemCountsQuery, runQuery, runWaitsQuery, taskDetailQuery, taskLogsQuery } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { LiveRunStore, type LiveRunSnapshot } from '../lib/live-run-store';
import { endsRun, hasWaitingTasks, isFinalRun, isWaiting, mergeLogLines, shownTaskDetail, type RunDetail, type RunEvent, type ShownTask } from '../lib/run-events';
import { STREAMING_CAPABILITIES } from '../lib/streamed-answer';
import { useServices } from './services';
import { useApiQuery } from './use-api';

export type RunLiveState = LiveStatus | 'ended' | 'idle';

/**
 * The store's snapshot, its changes rendered as transitions. A batch of live events (applied once
 * per animation frame) then redraws the page in slices that give the browser back its thread every
 * few milliseconds, instead of in the frame's own task as one piece (useSyncExternalStore renders
 * synchronously: at 4× CPU throttling those frames were the page's long tasks). A newer batch that
 * comes while one is drawn is drawn right after it; the page never shows an older run than it did.
 */
function useStoreSnapshot(store: LiveRunStore): LiveRunSnapshot {
  const [state, setState] = useState(() => ({ store, snapshot: store.getSnapshot() }));
  useEffect(() => {
    const take = () =>
      startTransition(() =>
        setState((current) => {
          const snapshot = store.getSnapshot();
          return current.store === store && current.snapshot === snapshot ? current : { store, snapshot };
        }),
      );
    // What changed between the render and this subscription.
    take();
    return store.subscribe(take);
  }, [store]);
  return state.store === store ? state.snapshot : store.getSnapshot();
}

/** How often the wait reasons of a run with waiting tasks are looked at again (they change without events). */
const WAITING_REFETCH_MS = 5_000;
/** How often a forEach step's counts are asked for again while they have not come. */
const ITEM_COUNTS_RETRY_MS = 2_000;

/**
 * A run kept current without reloading it: fetched once, then its events from the seq the fetch
 * reflects are applied as they arrive, batched per animation frame (statuses, attempts, progress,
 * errors, logs). Task transitions fetch nothing: what events do not carry (a task's worker, input,
 * output, attempt history) is fetched for the open task only (`useTaskDetail`). The run is fetched
 * again once, when it ends, for its outputs in full. Wait reasons (which change without events) are
 * looked at again only while the page shows a waiting task (`waitsShown`: a row in view, the open task).
 */
export function useLiveRun(runId: string, waitsShown: { rows: boolean; openStep: string | undefined } = { rows: true, openStep: undefined }) {
  const { live } = useServices();
  const queryClient = useQueryClient();
  const query = useApiQuery(queryKeys.runs.detail(runId), runQuery, { id: runId });
  const fetched = query.data?.run ?? undefined;
  // One store per run: another run's events and seqs must never carry over (navigating from run to run).
  const store = useMemo(() => new LiveRunStore(), [runId]); // eslint-disable-line react-hooks/exhaustive-deps -- a new store per run
  useEffect(() => store.setBase(fetched), [store, fetched]);
  const snapshot = useStoreSnapshot(store);
  // Until the store has taken a new fetch (an effect, after this render), the fetch is shown as it is.
  const run: RunDetail | undefined = snapshot.base === fetched ? snapshot.run : fetched;
  const logs = snapshot.logs;
  const [liveState, setLiveState] = useState<RunLiveState>('idle');
  const [liveError, setLiveError] = useState<ApiError | undefined>();

  // Only unfinished runs stream; a retried run is unfinished again after its refetch.
  const shouldStream = fetched !== undefined && !isFinalRun(fetched.status);
  // A model's streamed output is subscribed to only when some step streams one (the steps do not change while the run lives).
  const withOutput = fetched?.tasks.some((t) => STREAMING_CAPABILITIES.has(t.capability)) === true;
  // A run with forEach items: the progress of its own step tasks only (items are counted by status, never shown with their progress live).
  const progressOf = useMemo(() => (fetched?.tasks.some((t) => (t.itemCounts ?? null) !== null) === true ? fetched.tasks.map((t) => t.id) : null), [fetched]);
  const progressKey = progressOf?.join(',') ?? '';

  useEffect(() => {
    if (!shouldStream) return;
    let ended = false;
    const refetchOnce = () => {
      if (ended) return;
      ended = true;
      // The run ended: fetched once more for what events do not carry (outputs, workers, durations).
      setTimeout(() => {
        void queryClient.invalidateQueries({ queryKey: queryKeys.runs.detail(runId) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.runs.allTaskLogs });
      }, 250);
    };
    // Updated as events arrive: a reconnect resumes after the last one seen.
    const variables = { runId, afterSeq: store.lastSeq ?? 0, withOutput, progressOf };
    setLiveError(undefined);
    setLiveState('connecting');
    // Events arrive one message at a time: the page is told the stream is live once, not per event.
    let shownLive = false;
    const unsubscribe = live.subscribe(runEventBatchesSubscription, variables, {
      next: ({ runEventBatches: batch }) => {
        if (!shownLive) {
          shownLive = true;
          setLiveState((current) => (current === 'ended' ? current : 'live'));
        }
        for (const event of batch.events) {
          if (event.seq <= variables.afterSeq) continue;
          store.push(event);
          if (endsRun(event)) refetchOnce();
        }
        // Resumed after the batch's last seq (events left out by progressOf included).
        variables.afterSeq = Math.max(variables.afterSeq, batch.lastSeq);
      },
      error: (error) => {
        setLiveError(error);
        setLiveState('closed');
      },
      complete: () => {
        setLiveState('ended');
        refetchOnce();
      },
      status: (status) => {
        shownLive = status === 'live';
        setLiveState((current) => (current === 'ended' ? current : status));
      },
    });
    return unsubscribe;
  }, [shouldStream, withOutput, progressKey, runId, live, queryClient, store]); // eslint-disable-line react-hooks/exhaustive-deps -- progressKey stands for progressOf

  // Why tasks wait changes without events (a worker joins, a limit frees up): only that is looked at
  // again, and only while a waiting task is on screen (at thousands of tasks the answer is not small).
  const openWaits = waitsShown.openStep !== undefined && run?.tasks.some((t) => t.stepId === waitsShown.openStep && isWaiting(t)) === true;
  const waiting = run !== undefined && !isFinalRun(run.status) && (openWaits || (waitsShown.rows && hasWaitingTasks(run)));
  const waits = useApiQuery(queryKeys.runs.waits(runId), runWaitsQuery, { id: runId }, { enabled: waiting, refetchInterval: waiting ? WAITING_REFETCH_MS : false });
  useEffect(() => {
    if (waits.data?.run) store.applyWaits(waits.data.run.tasks);
  }, [store, waits.data]);

  // A forEach step that expanded after the run was fetched: its counts are fetched once (a row per
  // step, not its items), the item events since then counted on top; looked at again until they come.
  const partialItems = run?.tasks.some((t) => t.itemCountsPartial === true) === true;
  const itemCounts = useApiQuery(queryKeys.runs.itemCounts(runId), runItemCountsQuery, { id: runId }, { enabled: partialItems, refetchInterval: partialItems ? ITEM_COUNTS_RETRY_MS : false });
  useEffect(() => {
    if (itemCounts.data?.run) store.applyItemCounts(itemCounts.data.run);
  }, [store, itemCounts.data, partialItems]);

  return { query, run, logs, liveState: shouldStream ? liveState : 'idle', liveError };
}

/**
 * The open task in full: fetched when it opens, and again (shortly after) when a live event changes
 * its status or attempt, since the worker, output and history come only with the detail. Live
 * changes since the fetch are shown on top.
 */
export function useTaskDetail(row: ShownTask | undefined) {
  const queryClient = useQueryClient();
  const taskId = row?.id;
  const query = useApiQuery(queryKeys.runs.task(taskId ?? ''), taskDetailQuery, { id: taskId ?? '' }, { enabled: taskId !== undefined });
  const detail = query.data?.task ?? undefined;
  // A change of status or attempt fetches it again (debounced: a burst of changes fetches once).
  const change = row ? `${row.id}|${row.status}|${row.attempts}` : '';
  const lastChange = useRef(change);
  useEffect(() => {
    if (lastChange.current === change) return;
    const sameTask = lastChange.current.split('|')[0] === taskId;
    lastChange.current = change;
    if (!sameTask || taskId === undefined) return;
    const timer = setTimeout(() => void queryClient.invalidateQueries({ queryKey: queryKeys.runs.task(taskId) }), 250);
    return () => clearTimeout(timer);
  }, [change, taskId, queryClient]);
  const task = useMemo(() => (row ? shownTaskDetail(row, detail) : undefined), [row, detail]);
  return { query, task };
}

/**
 * An item task of a forEach step opened from its step's item list: fetched when it opens, and again
 * when live events change its status (`liveStatus`, from the step's counts).
 */
export function useItemDetail(itemId: string | undefined, liveStatus: string | undefined) {
  const queryClient = useQueryClient();
  const query = useApiQuery(queryKeys.runs.task(itemId ?? ''), taskDetailQuery, { id: itemId ?? '' }, { enabled: itemId !== undefined });
  const detail = query.data?.task ?? undefined;
  const stale = liveStatus !== undefined && detail !== undefined && detail.status !== liveStatus;
  useEffect(() => {
    if (!stale || itemId === undefined) return;
    const timer = setTimeout(() => void queryClient.invalidateQueries({ queryKey: queryKeys.runs.task(itemId) }), 250);
    return () => clearTimeout(timer);
  }, [stale, liveStatus, itemId, queryClient]);
  const task = useMemo(() => (detail ? shownTaskDetail(detail, detail) : undefined), [detail]);
  return { query, task };
}

/** A task's log lines: those stored, plus those that streamed in since. */
export function useTaskLogs(taskId: string | undefined, events: readonly RunEvent[]) {
  const query = useApiQuery(queryKeys.runs.taskLogs(taskId ?? ''), taskLogsQuery, { id: taskId ?? '', afterSeq: 0, first: 1000 }, { enabled: taskId !== undefined });
  const lines = useMemo(() => {
    if (!taskId) return [];
    const liveLines = events.filter((e) => e.taskId === taskId && e.kind === 'TASK_LOG');
    return mergeLogLines(query.data?.task?.logs ?? [], liveLines);
  }, [taskId, events, query.data]);
  return { query, lines };
}
