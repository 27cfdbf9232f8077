import type { AttemptRow, ErrorInfo, TaskRow } from '../../store/rows';

/**
 * A step's queue timeout (like Temporal's schedule-to-start): an attempt that has waited longer than
 * its task's `queueTimeoutMs` to start, for whatever reason (no worker fits its GPUs, no free slot,
 * flow control), fails the task as QUEUE_TIMEOUT, unretried (a retry would only wait again). The
 * wait counts from when the attempt could first start (queued, and its retry backoff over).
 */
export const QUEUE_TIMEOUT = 'QUEUE_TIMEOUT';

export function queueTimeoutFailure(task: Pick<TaskRow, 'stepId' | 'queueTimeoutMs' | 'waitReason'>, attempt: Pick<AttemptRow, 'queuedAt' | 'availableAt'>, now: number): ErrorInfo | undefined {
  const limit = task.queueTimeoutMs;
  if (limit === null || limit === undefined) return undefined;
  const since = Math.max(new Date(attempt.queuedAt).getTime(), new Date(attempt.availableAt).getTime());
  const waited = now - since;
  if (waited <= limit) return undefined;
  const why = task.waitReason ? `: ${task.waitReason.message}` : '';
  return { code: QUEUE_TIMEOUT, message: `step "${task.stepId}" waited ${Math.round(waited / 1000)} s to start, past its queue timeout of ${Math.round(limit / 1000)} s${why}`, retryable: false };
}
