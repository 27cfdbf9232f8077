import { recountItems } from './item-counts';
import { applyRunEvents, applyWaitReasons, taskIndex, type RunDetail, type RunEvent, type TaskIndex } from './run-events';
import type { RunItemCountsQuery, RunWaitsQuery } from './api/__generated__/graphql';

/**
 * A run kept current by its live events without fetching it again: the run as fetched (the base)
 * plus every event newer than it. Events are queued as they arrive and applied together once per
 * animation frame (`schedule`), so a burst of a thousand events costs one pass over the task list
 * and one render. The events newer than the base are kept, so a base fetched again later (when the
 * run ends) gets them applied on top and never goes back in time. Log lines are kept apart (newest
 * `maxLogLines`), for the open task's log.
 */

export interface LiveRunSnapshot {
  /** The fetched run this snapshot was made from. */
  base: RunDetail | undefined;
  run: RunDetail | undefined;
  /** TASK_LOG and TASK_OUTPUT_DELTA events received live, oldest first (the newest `maxLogLines`). */
  logs: readonly RunEvent[];
}

export type FrameScheduler = (flush: () => void) => void;

/** The next animation frame, or a second later when frames do not come (a tab in the background). */
export const animationFrameScheduler: FrameScheduler = (flush) => {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    flush();
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
  setTimeout(once, 1_000);
};

export class LiveRunStore {
  private base: RunDetail | undefined;
  /** Where the base's tasks are (events never reorder them): made once per base, not per batch. */
  private index: TaskIndex | undefined;
  /** Status and progress events newer than the base (applied again on top of a new base). */
  private newer: RunEvent[] = [];
  private queued: RunEvent[] = [];
  private scheduled = false;
  private snapshot: LiveRunSnapshot = { base: undefined, run: undefined, logs: [] };
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly schedule: FrameScheduler = animationFrameScheduler,
    private readonly maxLogLines = 5_000,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): LiveRunSnapshot => this.snapshot;

  /** The newest seq applied (where a resumed subscription starts). */
  get lastSeq(): number | undefined {
    return this.snapshot.run?.lastSeq;
  }

  /** A run fetched (first load, or again): the events newer than it are applied on top. */
  setBase(run: RunDetail | undefined): void {
    if (run === this.base) return;
    this.base = run;
    this.index = run ? taskIndex(run.tasks) : undefined;
    if (!run) {
      this.update({ ...this.snapshot, base: undefined, run: undefined });
      return;
    }
    this.newer = this.newer.filter((e) => e.seq > run.lastSeq);
    this.update({ ...this.snapshot, base: run, run: applyRunEvents(run, this.newer, this.index) });
  }

  /** An event from the subscription: applied with the others of its frame. */
  push(event: RunEvent): void {
    this.queued.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Applies the queued events now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    // Log lines and a model's streamed output are kept for the open task's panel; the rest changes the run.
    const logs = batch.filter((e) => e.kind === 'TASK_LOG' || e.kind === 'TASK_OUTPUT_DELTA');
    const changes = batch.filter((e) => e.kind !== 'TASK_LOG' && e.kind !== 'TASK_OUTPUT_DELTA');
    this.newer.push(...changes);
    let nextLogs = this.snapshot.logs;
    if (logs.length > 0) {
      nextLogs = [...nextLogs, ...logs];
      if (nextLogs.length > this.maxLogLines) nextLogs = nextLogs.slice(-this.maxLogLines);
    }
    const current = this.snapshot.run;
    this.update({ ...this.snapshot, run: current ? applyRunEvents(current, batch, current.tasks.length === this.base?.tasks.length ? this.index : undefined) : current, logs: nextLogs });
  }

  /** Wait reasons looked at again (they change without events). */
  applyWaits(waits: NonNullable<RunWaitsQuery['run']>['tasks']): void {
    const current = this.snapshot.run;
    if (!current) return;
    const next = applyWaitReasons(current, waits);
    if (next !== current) this.update({ ...this.snapshot, run: next });
  }

  /**
   * The item counts of forEach steps that expanded after the run was fetched (`itemCountsPartial`),
   * as fetched at `lastSeq`: the item events newer than that are counted again on top.
   */
  applyItemCounts(fetched: NonNullable<RunItemCountsQuery['run']>): void {
    const current = this.snapshot.run;
    if (!current) return;
    const byId = new Map(fetched.tasks.map((t) => [t.id, t.itemCounts]));
    let tasks: RunDetail['tasks'] | undefined;
    current.tasks.forEach((task, i) => {
      const counts = byId.get(task.id);
      if (!task.itemCountsPartial || !counts) return;
      const items = this.newer.filter((e) => e.kind === 'TASK_STATUS' && e.stepId === task.stepId && e.taskId !== null && e.taskId !== task.id);
      const { counts: itemCounts, statuses } = recountItems(counts, fetched.lastSeq, items);
      tasks ??= [...current.tasks];
      tasks[i] = { ...task, itemCounts, itemStatuses: statuses, itemCountsPartial: false };
    });
    if (tasks) this.update({ ...this.snapshot, run: { ...current, tasks } });
  }

  private update(next: LiveRunSnapshot): void {
    if (next.base === this.snapshot.base && next.run === this.snapshot.run && next.logs === this.snapshot.logs) return;
    this.snapshot = next;
    for (const listener of this.listeners) listener();
  }
}
