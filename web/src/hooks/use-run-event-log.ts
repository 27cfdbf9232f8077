import { useEffect, useMemo, useState } from 'react';
import type { EventLogFieldsFragment } from '../lib/api/__generated__/graphql';
import { ApiError, toApiError } from '../lib/api/errors';
import type { LiveClient } from '../lib/api/live';
import { runEventLogQuery, runEventLogSubscription } from '../lib/api/operations/run-history';
import { EventLogBuffer } from '../lib/event-log';
import { useServices } from './services';

/** The run is not (or no longer) visible: another organization's, or deleted by retention. */
export const runNotFound = (runId: string): ApiError => new ApiError({ message: `There is no run ${runId} in this organization.`, code: 'NOT_FOUND' });

/** The next animation frame, or a second later when frames do not come (a tab in the background). */
function nextFrame(flush: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    flush();
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
  setTimeout(once, 1_000);
}

/** Events per history page (Run.events takes at most 1,000). */
export const EVENT_PAGE = 1_000;

/**
 * A run's events as they happen, after `afterSeq`, handed over in batches of an animation frame
 * (a burst of a thousand events is one render). Returns the unsubscribe function.
 */
export function followRunEvents(
  live: LiveClient,
  runId: string,
  afterSeq: number,
  handlers: { batch: (events: EventLogFieldsFragment[]) => void; error: (error: ApiError) => void; complete?: () => void },
): () => void {
  // Sent again on a reconnect: the stream resumes after the last event seen.
  const variables = { runId, afterSeq };
  let queued: EventLogFieldsFragment[] = [];
  let scheduled = false;
  let stopped = false;
  const flush = () => {
    scheduled = false;
    if (stopped || queued.length === 0) return;
    const batch = queued;
    queued = [];
    handlers.batch(batch);
  };
  const unsubscribe = live.subscribe(runEventLogSubscription, variables, {
    // Events come in batches (one message per ~200 ms of a busy run).
    next: ({ runEventBatches: { events } }) => {
      for (const event of events) {
        if (event.seq <= variables.afterSeq) continue;
        variables.afterSeq = event.seq;
        queued.push(event);
      }
      if (scheduled || queued.length === 0) return;
      scheduled = true;
      nextFrame(flush);
    },
    error: handlers.error,
    complete: () => {
      flush();
      handlers.complete?.();
    },
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}

export interface RunEventLog {
  buffer: EventLogBuffer;
  /** Changes whenever events were added. */
  version: number;
  /** History still loading (pages before the live events). */
  loading: boolean;
  following: boolean;
  error: ApiError | undefined;
}

/**
 * A run's event log while the Events tab is open: its history from Run.events, 1,000 a page, then
 * (while the run goes on) its live events from the last seq read. At most `buffer.max` are kept.
 */
export function useRunEventLog(runId: string, active: boolean): RunEventLog {
  const { api, live } = useServices();
  const buffer = useMemo(() => new EventLogBuffer(), [runId]); // eslint-disable-line react-hooks/exhaustive-deps -- a new log per run
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [caughtUp, setCaughtUp] = useState(false);
  const [following, setFollowing] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setCaughtUp(false);
    setError(undefined);
    void (async () => {
      try {
        for (;;) {
          const data = await api.request(runEventLogQuery, { id: runId, afterSeq: buffer.lastSeq, first: EVENT_PAGE }, { signal: controller.signal });
          if (controller.signal.aborted) return;
          if (!data.run) throw runNotFound(runId);
          if (buffer.add(data.run.events)) setVersion(buffer.version);
          if (data.run.events.length < EVENT_PAGE || buffer.full) break;
        }
        setCaughtUp(true);
      } catch (e) {
        if (!controller.signal.aborted) setError(toApiError(e));
      } finally {
        if (!controller.signal.aborted) setLoading(false);
      }
    })();
    return () => controller.abort();
  }, [api, runId, buffer]);

  useEffect(() => {
    if (!caughtUp || !active || buffer.full) return;
    setFollowing(true);
    const stop = followRunEvents(live, runId, buffer.lastSeq, {
      batch: (events) => {
        if (buffer.add(events)) setVersion(buffer.version);
      },
      error: (e) => {
        setError(e);
        setFollowing(false);
      },
      complete: () => setFollowing(false),
    });
    return () => {
      stop();
      setFollowing(false);
    };
  }, [caughtUp, active, live, runId, buffer]);

  return { buffer, version, loading, following, error };
}
