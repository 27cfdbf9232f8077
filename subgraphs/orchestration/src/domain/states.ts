import { AppError } from '@orchestra/lib';

/** SCHEDULED: started for later (startAt); QUEUED from then on. */
export const RUN_STATUSES = ['SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** PENDING waits for dependencies; QUEUED waits for a worker (or its retry delay). */
export const TASK_STATUSES = ['PENDING', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** LOST: the worker or dispatcher died under it; the task got a new attempt. */
export const ATTEMPT_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  SCHEDULED: ['QUEUED', 'CANCELLED'],
  // A run may fail before any task started (an input template that cannot resolve).
  QUEUED: ['RUNNING', 'FAILED', 'CANCELLED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED'],
  SUCCEEDED: [],
  // retryRun / replay
  FAILED: ['RUNNING'],
  CANCELLED: ['RUNNING'],
};

const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: ['QUEUED', 'CANCELLED'],
  QUEUED: ['RUNNING', 'FAILED', 'CANCELLED'],
  // QUEUED again: a retry after a failure, or a new attempt after a lost one.
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'QUEUED'],
  SUCCEEDED: [],
  FAILED: ['PENDING', 'QUEUED'],
  CANCELLED: ['PENDING', 'QUEUED'],
};

const ATTEMPT_TRANSITIONS: Record<AttemptStatus, readonly AttemptStatus[]> = {
  // FAILED without running: its input templates could not be resolved. SUCCEEDED without running: a
  // forEach step's attempt, which the dispatcher expanded into its item tasks.
  QUEUED: ['RUNNING', 'CANCELLED', 'FAILED', 'SUCCEEDED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
  LOST: [],
};

export const isTerminalRun = (status: RunStatus): boolean => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
export const isTerminalTask = (status: TaskStatus): boolean => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';

export const canRunTransition = (from: RunStatus, to: RunStatus): boolean => RUN_TRANSITIONS[from].includes(to);
export const canTaskTransition = (from: TaskStatus, to: TaskStatus): boolean => TASK_TRANSITIONS[from].includes(to);
export const canAttemptTransition = (from: AttemptStatus, to: AttemptStatus): boolean => ATTEMPT_TRANSITIONS[from].includes(to);

/** Throws CONFLICT naming both states when a run may not move from `from` to `to`. */
export function assertRunTransition(runId: string, from: RunStatus, to: RunStatus): void {
  if (!canRunTransition(from, to)) {
    throw new AppError('CONFLICT', `run ${runId} is ${from} and cannot become ${to}`, { reason: 'INVALID_RUN_TRANSITION', details: { from, to } });
  }
}

/** Run statuses whose tasks a retry may re-run. */
export const RETRYABLE_RUN_STATUSES: readonly RunStatus[] = ['FAILED', 'CANCELLED'];
/** Task statuses a retry re-runs (succeeded tasks are kept). */
export const RERUN_TASK_STATUSES: readonly TaskStatus[] = ['FAILED', 'CANCELLED'];
