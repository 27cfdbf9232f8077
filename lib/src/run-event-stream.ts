/**
 * What a run's events are and how Redis holds them (lib/run-events.ts publishes and reads them; the
 * gateway's run feeds read them too): the event shape, the stream and channel keys, and the stream
 * entry codec.
 */

export const RUN_EVENT_KINDS = ['RUN_STATUS', 'TASK_STATUS', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA', 'TASK_WAITING'] as const;
export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];

export const TERMINAL_RUN_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/**
 * A piece of a task attempt's output as it was produced (a model's tokens, coalesced by the
 * dispatcher into at most ~20 pieces a second per task). The attempt's streamed text is the
 * concatenation of its pieces in `seq` order, starting afresh at a piece with `restart`.
 */
export interface RunEventOutputDelta {
  /** 1, 2, 3 ... per attempt, without gaps: a client orders and dedupes by it. */
  seq: number;
  /** Characters (UTF-16 code units) of the attempt's streamed text before this piece (0 on a restart). */
  offset: number;
  text: string;
  /** What was streamed before in this attempt is abandoned (a fallback to another provider, a re-ask). */
  restart: boolean;
}

/**
 * Why a task waits, on a TASK_WAITING event: the task's wait reason as it is stored and shown
 * (orchestration's domain/wait-reasons.ts; GraphQL TaskWaitReason). A TASK_WAITING event is recorded
 * once per change of the reason's kind while the task has not started; null: it no longer waits for a
 * particular reason.
 */
export interface RunEventWaitReason {
  /** RETRY_BACKOFF, NO_WORKER, NO_FREE_SLOT, PRIORITY, FAIR_SHARE, CONCURRENCY_KEY, RATE_LIMIT, QUOTA, MAX_PARALLEL, APPROVAL, EVENT, SCHEDULE, GPU. */
  kind: string;
  message: string;
  /** ISO 8601: since when it waits for this kind of reason. */
  since: string;
  details?: Record<string, unknown> | undefined;
}

export interface RunEventError {
  code: string;
  message: string;
  retryable?: boolean | null;
}

/** One event of a run. Every field is present (null when it does not apply), as GraphQL shows it. */
export interface RunEvent {
  runId: string;
  orgId: string;
  workflowId: string;
  /** 1, 2, 3 ... per run, without gaps. */
  seq: number;
  kind: RunEventKind;
  /** ISO 8601. */
  at: string;
  /** The run's status after a RUN_STATUS event. */
  runStatus: string | null;
  taskId: string | null;
  stepId: string | null;
  /** The task's status after a TASK_STATUS event. */
  taskStatus: string | null;
  attemptId: string | null;
  attempt: number | null;
  /** 0..1 on TASK_PROGRESS. */
  progress: number | null;
  /** The progress message, log line, or reason of a status change. */
  message: string | null;
  /** DEBUG / INFO / WARN / ERROR on TASK_LOG. */
  level: string | null;
  error: RunEventError | null;
  /** On TASK_OUTPUT_DELTA (absent from events recorded before this kind existed). */
  outputDelta?: RunEventOutputDelta | null;
  /** On TASK_WAITING: why the task waits now (null: no particular reason any more); absent on other kinds. */
  waitReason?: RunEventWaitReason | null;
}

/** Reads events after `afterSeq` (at most `limit`, in seq order) from the source of truth. */
export type RunEventBackfill = (afterSeq: number, limit: number) => Promise<RunEvent[]>;

export const runEventStreamKey = (prefix: string, runId: string): string => `${prefix}:run:${runId}:events`;
export const runEventChannel = (prefix: string, runId: string): string => `${prefix}:run:${runId}:notify`;
export const orgRunFeedKey = (prefix: string, orgId: string): string => `${prefix}:org:${orgId}:runs`;
export const orgRunFeedChannel = (prefix: string, orgId: string): string => `${prefix}:org:${orgId}:notify`;

export const isTerminalRunEvent = (event: RunEvent): boolean =>
  event.kind === 'RUN_STATUS' && event.runStatus !== null && TERMINAL_RUN_STATUSES.includes(event.runStatus);

/** An entry of a run's event stream as XRANGE returns it (the event is the JSON of field `e`). */
export type StreamEntry = [id: string, fields: string[]];

/** The event an entry of a run's event stream holds (undefined for an entry without a readable one). */
export const parseStreamEntry = ([, fields]: StreamEntry): RunEvent | undefined => {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'e') {
      try {
        return JSON.parse(fields[i + 1] as string) as RunEvent;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
};

/** The events of `events` that continue the sequence after `last` without a gap. */
export function contiguousAfter(events: readonly RunEvent[], last: number): RunEvent[] {
  const out: RunEvent[] = [];
  let expected = last + 1;
  for (const event of events) {
    if (event.seq < expected) continue; // already delivered
    if (event.seq !== expected) break;
    out.push(event);
    expected += 1;
  }
  return out;
}
