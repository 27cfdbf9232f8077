import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { RunStatus } from '../lib/api/__generated__/graphql';
import { toApiError, type ApiError } from '../lib/api/errors';
import { runAttemptsQuery, taskAttemptsQuery } from '../lib/api/operations/run-history';
import { AttemptTimeline, isLiveAttempt, type TimelineStep } from '../lib/timeline';
import { followRunEvents, runNotFound } from './use-run-event-log';
import { useServices } from './services';

/** Attempts per page of Run.attempts (it takes at most 1,000). */
const ATTEMPT_PAGE = 1_000;
/** How soon attempts seen live without their item index are fetched (one fetch for a burst of them). */
const PLACE_DELAY_MS = 1_000;
const FINAL: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export interface RunTimelineState {
  timeline: AttemptTimeline;
  /** Changes whenever an attempt changed. */
  version: number;
  loading: boolean;
  error: ApiError | undefined;
  /** Now, ticking each second while something waits or runs (running bars grow). */
  now: number;
  /** Fetches a task's attempts in full (a hovered bar's worker, when it started after the fetch). */
  loadTask: (taskId: string) => void;
}

/**
 * Every attempt of a run while the Timeline tab is open: fetched a page at a time (Run.attempts),
 * then moved on by the run's live events (a new bar per retry, running bars growing) from the seq
 * the first page was read at. Items seen live before their index is known are fetched after the
 * last page's cursor (new attempts come after it); when the run ends, all are fetched once more.
 */
export function useRunTimeline(run: { id: string; status: RunStatus }, steps: readonly TimelineStep[]): RunTimelineState {
  const { api, live } = useServices();
  const stepTaskIds = useRef(new Set<string>());
  stepTaskIds.current = useMemo(() => new Set(steps.map((s) => s.id)), [steps]);
  const timeline = useMemo(() => new AttemptTimeline((id) => stepTaskIds.current.has(id)), [run.id]); // eslint-disable-line react-hooks/exhaustive-deps -- a new timeline per run
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [startSeq, setStartSeq] = useState<number | undefined>();
  const [now, setNow] = useState(() => Date.now());
  const active = !FINAL.has(run.status);
  const cursor = useRef<string | undefined>(undefined);
  const fetching = useRef<Promise<void> | undefined>(undefined);

  /** Pages after `from` (undefined: from the first), merged; the last cursor kept for the next fetch. */
  const fetchPages = useCallback(
    async (from: string | undefined, signal: AbortSignal): Promise<number | undefined> => {
      let after = from;
      let firstSeq: number | undefined;
      for (;;) {
        const data = await api.request(runAttemptsQuery, { id: run.id, first: ATTEMPT_PAGE, after: after ?? null }, { signal });
        if (!data.run) throw runNotFound(run.id);
        firstSeq ??= data.run.lastSeq;
        const page = data.run.attempts;
        if (timeline.merge(page.edges.map((e) => e.node))) setVersion(timeline.version);
        after = page.pageInfo.endCursor ?? after;
        if (!page.pageInfo.hasNextPage) break;
      }
      cursor.current = after;
      return firstSeq;
    },
    [api, run.id, timeline],
  );

  // The first load, and again when the run ends (times and workers in full).
  const ended = !active;
  useEffect(() => {
    const controller = new AbortController();
    setError(undefined);
    const load = fetchPages(undefined, controller.signal)
      .then((seq) => {
        if (!controller.signal.aborted) setStartSeq((current) => current ?? seq);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(toApiError(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    fetching.current = load;
    return () => controller.abort();
  }, [fetchPages, ended]);

  // Live: events from the first page's seq move the bars on, a frame's worth at a time.
  useEffect(() => {
    if (startSeq === undefined || !active) return;
    const controller = new AbortController();
    let placeTimer: ReturnType<typeof setTimeout> | undefined;
    const place = () => {
      placeTimer = undefined;
      const previous = fetching.current ?? Promise.resolve();
      fetching.current = previous
        .then(() => fetchPages(cursor.current, controller.signal))
        .then(() => undefined)
        .catch(() => undefined);
    };
    const stop = followRunEvents(live, run.id, startSeq, {
      batch: (events) => {
        if (timeline.apply(events)) setVersion(timeline.version);
        if (timeline.needsFetch && placeTimer === undefined) placeTimer = setTimeout(place, PLACE_DELAY_MS);
      },
      error: setError,
    });
    return () => {
      stop();
      controller.abort();
      if (placeTimer !== undefined) clearTimeout(placeTimer);
    };
  }, [startSeq, active, live, run.id, timeline, fetchPages]);

  // Running and waiting bars grow with the clock.
  const anyLive = useMemo(() => [...timeline.attempts()].some(isLiveAttempt), [timeline, version]); // eslint-disable-line react-hooks/exhaustive-deps -- version says the timeline changed
  useEffect(() => {
    if (!active && !anyLive) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active, anyLive]);

  const asked = useRef(new Map<string, number>());
  const loadTask = useCallback(
    (taskId: string) => {
      // Once per task and version of the timeline: hovering back and forth asks once.
      if (asked.current.get(taskId) === timeline.version) return;
      asked.current.set(taskId, timeline.version);
      void api
        .request(taskAttemptsQuery, { id: taskId })
        .then((data) => {
          if (data.task && timeline.merge(data.task.attemptHistory)) setVersion(timeline.version);
        })
        .catch(() => undefined);
    },
    [api, timeline],
  );

  return { timeline, version, loading, error, now, loadTask };
}
