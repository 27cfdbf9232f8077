import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiError } from '../lib/api/errors';
import type { LiveStatus } from '../lib/api/live';
import { runEventsSubscription, runQuery, taskLogsQuery } from '../lib/api/operations/runs';
import { queryKeys } from '../lib/api/query-keys';
import { applyRunEvents, hasWaitingTasks, isFinalRun, mergeLogLines, needsRefetch, type RunEvent } from '../lib/run-events';
import { useServices } from './services';
import { useApiQuery } from './use-api';

export type RunLiveState = LiveStatus | 'ended' | 'idle';

/** How often a run with waiting tasks is fetched again (their wait reasons change without events). */
const WAITING_REFETCH_MS = 3_000;

/** Log lines kept per page; a run that logs more shows the newest. */
const MAX_LIVE_LOG_LINES = 5_000;

/**
 * A run kept current without reloading: fetched once, then the run's events from the seq the fetch
 * reflects are applied as they arrive (statuses, attempts, progress, logs). When a task starts or a
 * task or the run ends, the run is fetched again for what events do not carry (worker, outputs,
 * durations, attempt history); events newer than that fetch stay applied on top.
 */
export function useLiveRun(runId: string) {
  const { live } = useServices();
  const queryClient = useQueryClient();
  const query = useApiQuery(queryKeys.runs.detail(runId), runQuery, { id: runId }, {
    // Why a task waits can change without an event (a worker joins, a limit frees up): look again now and then.
    refetchInterval: (q) => (q.state.data?.run && !isFinalRun(q.state.data.run.status) && hasWaitingTasks(q.state.data.run) ? WAITING_REFETCH_MS : false),
  });
  const fetched = query.data?.run ?? undefined;
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [liveState, setLiveState] = useState<RunLiveState>('idle');
  const [liveError, setLiveError] = useState<ApiError | undefined>();
  const latest = useRef(fetched);
  latest.current = fetched;

  // Only unfinished runs stream; a retried run is unfinished again after its refetch.
  const shouldStream = fetched !== undefined && !isFinalRun(fetched.status);

  useEffect(() => {
    if (!shouldStream || !latest.current) return;
    let refetchTimer: ReturnType<typeof setTimeout> | undefined;
    const refetchSoon = () => {
      if (refetchTimer !== undefined) return;
      refetchTimer = setTimeout(() => {
        refetchTimer = undefined;
        void queryClient.invalidateQueries({ queryKey: queryKeys.runs.detail(runId) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.runs.allTaskLogs });
      }, 250);
    };
    // Updated as events arrive: a reconnect resumes after the last one seen.
    const variables = { runId, afterSeq: latest.current.lastSeq };
    // A new stream (first load, or the run was retried after it ended).
    setLiveError(undefined);
    setLiveState('connecting');
    const unsubscribe = live.subscribe(runEventsSubscription, variables, {
      next: ({ runEvents: event }) => {
        setLiveState((current) => (current === 'ended' ? current : 'live'));
        if (event.seq <= variables.afterSeq) return;
        variables.afterSeq = event.seq;
        setEvents((current) => {
          const next = [...current, event];
          return next.length > MAX_LIVE_LOG_LINES * 2 ? next.slice(-MAX_LIVE_LOG_LINES) : next;
        });
        if (needsRefetch(event)) refetchSoon();
      },
      error: (error) => {
        setLiveError(error);
        setLiveState('closed');
      },
      complete: () => {
        setLiveState('ended');
        refetchSoon();
      },
      status: (status) => setLiveState((current) => (current === 'ended' ? current : status)),
    });
    return () => {
      unsubscribe();
      if (refetchTimer !== undefined) clearTimeout(refetchTimer);
    };
  }, [shouldStream, runId, live, queryClient]);

  const run = useMemo(() => (fetched ? applyRunEvents(fetched, events) : undefined), [fetched, events]);
  return { query, run, events, liveState: shouldStream ? liveState : 'idle', liveError };
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
