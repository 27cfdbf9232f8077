/**
 * How a worker ends an attempt stopped from outside rather than by its executor: the failure code it
 * reports and whether a retry may help (workers/src/attempts.ts), and which of those codes the
 * orchestrator reads as "stopped: nothing completed, nothing said about the task" (WORKER_STOP_CODES,
 * engine/dispatch/execute-call.ts and recall.ts). One list for both ends of the Execute stream.
 */
export const WORKER_ABORTS = {
  /** Cancel RPC or a heartbeat's cancel_attempt_ids: the orchestrator gave up on it. */
  CANCELLED: { code: 'CANCELLED', retryable: false, stopped: true },
  /** Every caller of Execute went away (the call was cancelled). */
  ABORTED: { code: 'ABORTED', retryable: true, stopped: true },
  /** The call's deadline or the request's timeout_ms passed: the task's own time ran out, which says something about it. */
  TIMEOUT: { code: 'TIMEOUT', retryable: true, stopped: false },
  /** The worker is shutting down and the grace period is over. */
  SHUTDOWN: { code: 'ABORTED', retryable: true, stopped: true },
} as const satisfies Record<string, { code: string; retryable: boolean; stopped: boolean }>;

/** Why an attempt was stopped from outside. */
export type WorkerAbortKind = keyof typeof WORKER_ABORTS;

/**
 * Failure codes of attempts a worker stopped from outside (CANCELLED, ABORTED): when such a result
 * reaches an attempt still RUNNING, the attempt was lost to the fleet and runs again; it never fails
 * the task or uses its retries.
 */
export const WORKER_STOP_CODES: ReadonlySet<string> = new Set(
  Object.values(WORKER_ABORTS)
    .filter((a) => a.stopped)
    .map((a) => a.code),
);
