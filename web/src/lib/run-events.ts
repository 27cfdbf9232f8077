import type { RunEventsSubscription, RunQuery, RunStatus, TaskStatus } from './api/__generated__/graphql';

/**
 * A run as the page shows it = the run as last fetched + the live events that came after it.
 *
 * The fetched run carries `lastSeq`, the seq of the newest event it reflects; events with a higher
 * seq are applied on top. Re-applying after every refetch (rather than patching a cache once) means a
 * refetch that raced an event can never move a task back to an older status.
 */

export type RunDetail = NonNullable<RunQuery['run']>;
export type TaskDetail = RunDetail['tasks'][number];
export type RunEvent = RunEventsSubscription['runEvents'];

export const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>(['SUCCEEDED', 'FAILED', 'CANCELLED']);
export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export const isFinalRun = (status: RunStatus): boolean => FINAL_RUN_STATUSES.has(status);
export const isFinalTask = (status: TaskStatus): boolean => FINAL_TASK_STATUSES.has(status);

const durationBetween = (from: string | null, to: string): number | null => (from === null ? null : Math.max(0, Date.parse(to) - Date.parse(from)));

/**
 * A task as shown. `attempts` counts attempts since the task last started over (retryRun and replay
 * reset the budget), while attempt numbers (in the history and in live events) count every attempt
 * ever made. `attemptOffset` is the attempts made before the last restart, as applying live events
 * found it; without it, it is read from the fetched history.
 */
export type ShownTask = TaskDetail & { attemptOffset?: number };

/**
 * Attempts made before the task last started over: those queued before the task's first queueing
 * since then (`queuedAt`, cleared by a restart). Attempt numbers are consecutive, so that is the
 * highest of their numbers. Read from times rather than as "highest number minus attempts" because
 * the history may already hold an attempt queued after the task row was read.
 */
export function attemptOffset(task: ShownTask): number {
  if (task.attemptOffset !== undefined) return task.attemptOffset;
  const since = task.queuedAt === null ? Number.POSITIVE_INFINITY : Date.parse(task.queuedAt);
  return Math.max(0, ...task.attemptHistory.filter((a) => Date.parse(a.queuedAt) < since).map((a) => a.number));
}

/** Every attempt the task made, across restarts. */
export const totalAttempts = (task: ShownTask): number => attemptOffset(task) + task.attempts;

/** "2/3" (attempts of the budget), and the count in all when restarts make it differ: "1/3 · 2 in all". */
export function formatAttempts(task: ShownTask): string {
  const total = totalAttempts(task);
  return `${task.attempts}/${task.maxAttempts}${total !== task.attempts ? ` · ${total} in all` : ''}`;
}

/** The budget's attempts after a status event whose `attempt` is an absolute attempt number. */
function attemptsAfter(task: ShownTask, status: TaskStatus, attempt: number | null): { attempts: number; attemptOffset: number } {
  // A failed or cancelled task queued again was retried (retryRun, replay): its budget starts over.
  const restarted = (task.status === 'FAILED' || task.status === 'CANCELLED') && (status === 'QUEUED' || status === 'PENDING');
  const offset = restarted ? totalAttempts(task) : attemptOffset(task);
  const attempts = restarted ? 0 : task.attempts;
  return { attempts: attempt === null ? attempts : Math.max(attempts, attempt - offset), attemptOffset: offset };
}

function applyToTask(task: ShownTask, event: RunEvent): ShownTask {
  switch (event.kind) {
    case 'TASK_STATUS': {
      const status = event.taskStatus ?? task.status;
      const next: ShownTask = { ...task, status, ...attemptsAfter(task, status, event.attempt) };
      if (status === 'QUEUED') {
        next.queuedAt = event.at;
        next.startedAt = task.status === 'QUEUED' ? task.startedAt : null;
        next.finishedAt = null;
        next.durationMs = null;
      } else if (status === 'RUNNING') {
        next.waitReason = null;
        next.startedAt = event.at;
        next.finishedAt = null;
        next.durationMs = null;
        next.progress = null;
        next.progressMessage = null;
        next.error = null;
      } else if (status === 'PENDING') {
        next.startedAt = null;
        next.finishedAt = null;
        next.durationMs = null;
        next.error = null;
      } else {
        next.waitReason = null;
        next.finishedAt = event.at;
        next.durationMs = durationBetween(next.startedAt, event.at);
        if (status === 'SUCCEEDED') {
          next.error = null;
          next.progress = 1;
        } else if (event.error) {
          next.error = { code: event.error.code, message: event.error.message, retryable: event.error.retryable, stepId: event.error.stepId };
        }
      }
      return next;
    }
    case 'TASK_PROGRESS':
      return { ...task, progress: event.progress ?? task.progress, progressMessage: event.message ?? task.progressMessage };
    case 'RUN_STATUS':
    case 'TASK_LOG':
    case 'TASK_OUTPUT_DELTA':
      return task;
  }
}

function applyOne(run: RunDetail, event: RunEvent): RunDetail {
  switch (event.kind) {
    case 'RUN_STATUS': {
      const status = event.runStatus ?? run.status;
      const next: RunDetail = { ...run, status };
      if (status === 'RUNNING') {
        next.startedAt ??= event.at;
        next.finishedAt = null;
        next.durationMs = null;
        next.error = null;
      } else if (isFinalRun(status)) {
        next.finishedAt = event.at;
        next.durationMs = durationBetween(run.startedAt ?? run.createdAt, event.at);
        if (event.error) next.error = { code: event.error.code, message: event.error.message, stepId: event.error.stepId };
      }
      return next;
    }
    case 'TASK_STATUS':
    case 'TASK_PROGRESS': {
      const index = run.tasks.findIndex((t) => (event.taskId !== null ? t.id === event.taskId : t.stepId === event.stepId));
      if (index === -1) return run;
      const tasks = [...run.tasks];
      tasks[index] = applyToTask(tasks[index]!, event);
      return { ...run, tasks };
    }
    case 'TASK_LOG':
    case 'TASK_OUTPUT_DELTA':
      return run;
  }
}

/** The fetched run with every event newer than it applied, in seq order. */
export function applyRunEvents(run: RunDetail, events: readonly RunEvent[]): RunDetail {
  const newer = events.filter((e) => e.seq > run.lastSeq).sort((a, b) => a.seq - b.seq);
  if (newer.length === 0) return run;
  const applied = newer.reduce(applyOne, run);
  return { ...applied, lastSeq: newer[newer.length - 1]!.seq };
}

/**
 * Whether an event changes something only a refetch shows: a task that starts has a worker and a new
 * attempt; a task or run that ends has outputs, durations and errors in full.
 */
export const needsRefetch = (event: RunEvent): boolean =>
  (event.kind === 'RUN_STATUS' && event.runStatus !== null && isFinalRun(event.runStatus)) ||
  (event.kind === 'TASK_STATUS' && event.taskStatus !== null && (event.taskStatus === 'RUNNING' || isFinalTask(event.taskStatus)));

/** What an empty log says: a finished task will not log any more, an unfinished one may yet. */
export const emptyLogMessage = (status: TaskStatus): string => (isFinalTask(status) ? 'No log lines.' : 'No log lines yet.');

export interface LogLine {
  /** A stable key for lists (the log seq when fetched, the event seq when live). */
  key: string;
  at: string;
  level: string;
  message: string;
  attempt: number | null;
}

/**
 * The logs of a task: lines fetched from the API plus lines that arrived live, without the lines
 * that are in both (a fetch made after the subscription started contains some live lines too).
 */
export function mergeLogLines(fetched: ReadonlyArray<{ seq: number; at: string; level: string; message: string; attempt: number | null }>, live: readonly RunEvent[]): LogLine[] {
  const identity = (at: string, message: string, attempt: number | null) => `${Date.parse(at)}|${attempt ?? ''}|${message}`;
  const seen = new Set(fetched.map((l) => identity(l.at, l.message, l.attempt)));
  const lines: LogLine[] = fetched.map((l) => ({ key: `f${l.seq}`, at: l.at, level: l.level, message: l.message, attempt: l.attempt }));
  for (const e of live) {
    if (e.kind !== 'TASK_LOG' || e.message === null) continue;
    const id = identity(e.at, e.message, e.attempt);
    if (seen.has(id)) continue;
    seen.add(id);
    lines.push({ key: `e${e.seq}`, at: e.at, level: e.level ?? 'INFO', message: e.message, attempt: e.attempt });
  }
  return lines.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** Whether some task of the run waits to start: its wait reason may change without an event (the page looks again now and then). */
export const hasWaitingTasks = (run: Pick<RunDetail, 'tasks'>): boolean => run.tasks.some((t) => t.status === 'QUEUED' || t.waitReason !== null);

const WAIT_KIND_LABELS: Record<NonNullable<TaskDetail['waitReason']>['kind'], string> = {
  RETRY_BACKOFF: 'Retry delay',
  NO_WORKER: 'No worker',
  NO_FREE_SLOT: 'Workers busy',
  PRIORITY: 'Priority',
  FAIR_SHARE: 'Fair share',
  CONCURRENCY_KEY: 'Concurrency key',
  RATE_LIMIT: 'Rate limit',
  QUOTA: 'Quota',
  MAX_PARALLEL: 'Max parallel',
  APPROVAL: 'Approval',
  EVENT: 'Event',
  SCHEDULE: 'Scheduled',
  GPU: 'GPU',
};

/** A short label for what a task waits for ("Rate limit"). */
export const waitKindLabel = (kind: NonNullable<TaskDetail['waitReason']>['kind']): string => WAIT_KIND_LABELS[kind];
