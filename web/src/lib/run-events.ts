import { countItemEvent, EMPTY_ITEM_COUNTS } from './item-counts';
import type { RunEventBatchesSubscription, RunQuery, RunStatus, RunWaitsQuery, TaskDetailQuery, TaskStatus } from './api/__generated__/graphql';

/**
 * A run as the page shows it = the run as last fetched + the live events that came after it.
 *
 * The fetched run carries `lastSeq`, the seq of the newest event it reflects; events with a higher
 * seq are applied on top. Re-applying after every refetch (rather than patching a cache once) means a
 * refetch that raced an event can never move a task back to an older status.
 */

type FetchedRun = NonNullable<RunQuery['run']>;
/** A task as the run's table and graph show it (fetched with the run). */
export type TaskRow = FetchedRun['tasks'][number];
/** The run as fetched, its tasks as live events left them. */
export type RunDetail = Omit<FetchedRun, 'tasks'> & { tasks: ShownTask[] };
/** A task in full (input, output, attempt history): fetched when its panel opens. */
export type TaskDetail = NonNullable<TaskDetailQuery['task']>;
export type RunEvent = RunEventBatchesSubscription['runEventBatches']['events'][number];

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
export type ShownTask = TaskRow & {
  attemptOffset?: number;
  /**
   * A forEach step's items' last statuses seen in live events (what an item's next event moves the
   * counts from). Owned by the run it was made for: a new fetch starts a new one.
   */
  itemStatuses?: Map<string, TaskStatus>;
  /** The step expanded its list after the run was fetched: its counts hold only what events said since (RunItemCounts fills them in). */
  itemCountsPartial?: boolean;
};

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

function applyToTask<T extends ShownTask>(task: T, event: RunEvent): T {
  switch (event.kind) {
    case 'TASK_STATUS': {
      const status = event.taskStatus ?? task.status;
      const next: T = { ...task, status, ...attemptsAfter(task, status, event.attempt) };
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
    // TASK_WAITING (why a task waits changed kind): the task's waitReason is read with the run; the event log shows the event.
    case 'RUN_STATUS':
    case 'TASK_LOG':
    case 'TASK_OUTPUT_DELTA':
    case 'TASK_WAITING':
      return task;
  }
}

function applyRunStatus(run: RunDetail, event: RunEvent): RunDetail {
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

/** A forEach step's task after a status event of one of its items: its counts move, nothing else. */
function applyItemEvent<T extends ShownTask>(parent: T, event: RunEvent): T {
  if (event.kind !== 'TASK_STATUS') return parent;
  const partial = parent.itemCounts === null || parent.itemCounts === undefined;
  // The map is made once per fetched run and then added to (old snapshots are not read again).
  const statuses = parent.itemStatuses ?? new Map<string, TaskStatus>();
  const counts = countItemEvent(parent.itemCounts ?? EMPTY_ITEM_COUNTS, statuses, event);
  return { ...parent, itemCounts: counts, itemStatuses: statuses, ...(partial || parent.itemCountsPartial ? { itemCountsPartial: true } : {}) };
}

/**
 * The fetched run with every event newer than it applied, in seq order. Made for batches: the task
 * list is copied once per batch (not per event), tasks no event touched keep their identity (so
 * rows and graph nodes that did not change are not drawn again), and a run no event changed is
 * returned as it was. `index` (`taskIndex` of a run with the same tasks in the same order) spares
 * building it again for every batch.
 */
export function applyRunEvents(run: RunDetail, events: readonly RunEvent[], index?: TaskIndex): RunDetail {
  const newer = events.filter((e) => e.seq > run.lastSeq && e.kind !== 'TASK_LOG' && e.kind !== 'TASK_OUTPUT_DELTA').sort((a, b) => a.seq - b.seq);
  const lastSeq = events.reduce((max, e) => Math.max(max, e.seq), run.lastSeq);
  if (newer.length === 0) return lastSeq === run.lastSeq ? run : { ...run, lastSeq };
  let next = run;
  let tasks: RunDetail['tasks'] | undefined;
  for (const event of newer) {
    if (event.kind === 'RUN_STATUS') {
      next = applyRunStatus(next, event);
      continue;
    }
    index ??= taskIndex(run.tasks);
    const at = event.taskId !== null ? index.byId.get(event.taskId) : index.byStep.get(event.stepId ?? '');
    if (at === undefined) {
      // Not a step's own task: an item of a forEach step, which counts it.
      const parent = event.taskId !== null && event.stepId !== null ? index.byStep.get(event.stepId) : undefined;
      if (parent === undefined) continue;
      tasks ??= [...run.tasks];
      tasks[parent] = applyItemEvent(tasks[parent]!, event);
      continue;
    }
    tasks ??= [...run.tasks];
    tasks[at] = applyToTask(tasks[at]!, event);
  }
  return { ...next, ...(tasks ? { tasks } : {}), lastSeq };
}

/** Where each task is in a run's task list, by task id and by step id. */
export interface TaskIndex {
  byId: ReadonlyMap<string, number>;
  byStep: ReadonlyMap<string, number>;
}

export function taskIndex(tasks: ReadonlyArray<Pick<ShownTask, 'id' | 'stepId'>>): TaskIndex {
  const byId = new Map<string, number>();
  const byStep = new Map<string, number>();
  tasks.forEach((t, i) => {
    byId.set(t.id, i);
    byStep.set(t.stepId, i);
  });
  return { byId, byStep };
}

/** The run's wait reasons as last looked at, for tasks whose status is still what it was then. */
export function applyWaitReasons(run: RunDetail, waits: NonNullable<RunWaitsQuery['run']>['tasks']): RunDetail {
  const byId = new Map(waits.map((w) => [w.id, w]));
  let tasks: RunDetail['tasks'] | undefined;
  run.tasks.forEach((task, i) => {
    const seen = byId.get(task.id);
    if (!seen || seen.status !== task.status) return;
    const same = seen.waitReason === null ? task.waitReason === null : task.waitReason !== null && task.waitReason.kind === seen.waitReason.kind && task.waitReason.message === seen.waitReason.message && task.waitReason.since === seen.waitReason.since;
    if (same) return;
    tasks ??= [...run.tasks];
    tasks[i] = { ...task, waitReason: seen.waitReason };
  });
  return tasks ? { ...run, tasks } : run;
}

/** Whether an event ends the run (then it is fetched once more, for its outputs in full). */
export const endsRun = (event: RunEvent): boolean => event.kind === 'RUN_STATUS' && event.runStatus !== null && isFinalRun(event.runStatus);

/** The open task's panel: its detail as fetched, with what live events changed since on top. */
export type PanelTask = ShownTask & Partial<Pick<TaskDetail, 'input' | 'output' | 'itemIndex' | 'usage'>> & { fullHistory?: TaskDetail['attemptHistory'] };

export function shownTaskDetail(row: ShownTask, detail: TaskDetail | undefined): PanelTask {
  if (!detail || detail.id !== row.id) return row;
  // Events change status, attempts, progress and times; the worker, input, output and history come with the detail.
  const sameStatus = detail.status === row.status;
  // The attempts made before a restart are read from the detail's history (the row has none).
  const { attemptOffset: _offset, ...live } = row;
  return {
    ...detail,
    ...live,
    workerId: row.workerId ?? (sameStatus ? detail.workerId : null),
    error: row.error ?? (sameStatus ? detail.error : null),
    attemptHistory: detail.attemptHistory,
    fullHistory: detail.attemptHistory,
  };
}

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

/** Whether a task waits to start: its wait reason may change without an event (the page looks again now and then). */
export const isWaiting = (task: Pick<ShownTask, 'status' | 'waitReason'>): boolean => task.status === 'QUEUED' || task.waitReason !== null;

/** Whether some task of the run waits to start. */
export const hasWaitingTasks = (run: Pick<RunDetail, 'tasks'>): boolean => run.tasks.some(isWaiting);

const WAIT_KIND_LABELS: Record<NonNullable<TaskRow['waitReason']>['kind'], string> = {
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
  LOCAL_PROVIDER: 'Local model',
};

/** A short label for what a task waits for ("Rate limit"). */
export const waitKindLabel = (kind: NonNullable<TaskRow['waitReason']>['kind']): string => WAIT_KIND_LABELS[kind];
