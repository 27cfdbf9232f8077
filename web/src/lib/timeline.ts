import type { AttemptStatus, TaskStatus } from './api/__generated__/graphql';

/**
 * The run page's timeline (issue 12): every attempt of a run as a bar — its queue wait
 * (queuedAt → startedAt) then its run time (startedAt → finishedAt, or now while it runs) — one row
 * per step, a forEach step's items in rows of their own under it (collapsed until opened).
 *
 * Attempts come from Run.attempts a page at a time, then live run events move them on
 * (`AttemptTimeline.apply`): a QUEUED event with a new attempt id is a new bar (and ends the task's
 * attempt before it: a retry), RUNNING starts a bar's run part, an end status ends it. Events and
 * fetches may come in either order: an attempt only moves forward (queued → running → ended), and
 * what one view lacks (a worker, an item's index) is taken from the other.
 */

export interface TimelineAttempt {
  id: string;
  number: number;
  taskId: string;
  stepId: string;
  /** A forEach item's place in its list; null for a step's own task (or an item not fetched yet). */
  itemIndex: number | null;
  status: AttemptStatus;
  workerId: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
}

/** What of a live run event the timeline reads. */
export interface AttemptEvent {
  seq: number;
  kind: string;
  at: string;
  taskId: string | null;
  stepId: string | null;
  taskStatus: TaskStatus | null;
  attemptId: string | null;
  attempt: number | null;
  error: { code: string; message: string } | null;
}

const RANK: Record<AttemptStatus, number> = { QUEUED: 0, RUNNING: 1, SUCCEEDED: 2, FAILED: 2, CANCELLED: 2, LOST: 2 };
const ENDED_BY: Partial<Record<TaskStatus, AttemptStatus>> = { SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED' };

export const isLiveAttempt = (a: Pick<TimelineAttempt, 'status'>): boolean => RANK[a.status] < 2;

/**
 * One attempt seen twice (a fetch and events, in either order): the view further along wins (the
 * newer on a tie, so a fetch corrects what events guessed), with the gaps filled from the other.
 */
export function mergeAttempt(known: TimelineAttempt, seen: TimelineAttempt): TimelineAttempt {
  const [ahead, behind] = RANK[seen.status] >= RANK[known.status] ? [seen, known] : [known, seen];
  return {
    ...ahead,
    itemIndex: ahead.itemIndex ?? behind.itemIndex,
    workerId: ahead.workerId ?? behind.workerId,
    startedAt: ahead.startedAt ?? behind.startedAt,
    finishedAt: RANK[ahead.status] === 2 ? (ahead.finishedAt ?? behind.finishedAt) : null,
    error: ahead.error ?? (RANK[ahead.status] === 2 ? behind.error : null),
  };
}

const sameAttempt = (a: TimelineAttempt, b: TimelineAttempt): boolean =>
  a.status === b.status &&
  a.itemIndex === b.itemIndex &&
  a.workerId === b.workerId &&
  a.queuedAt === b.queuedAt &&
  a.startedAt === b.startedAt &&
  a.finishedAt === b.finishedAt &&
  a.error?.code === b.error?.code &&
  a.error?.message === b.error?.message;

/** A run's attempts by id, with each task's attempts in order; changed in place, `version` counts the changes. */
export class AttemptTimeline {
  private readonly byId = new Map<string, TimelineAttempt>();
  private readonly byTask = new Map<string, string[]>();
  /** Attempts known from events only whose item index is not known yet (a fetch after the last cursor brings them). */
  private unplaced = 0;
  version = 0;

  /** @param isStepTask whether a task is a step's own (not a forEach item): only items need their index fetched. */
  constructor(private readonly isStepTask: (taskId: string) => boolean) {}

  get size(): number {
    return this.byId.size;
  }

  /** Whether some attempt seen live still lacks what only a fetch gives (an item's index). */
  get needsFetch(): boolean {
    return this.unplaced > 0;
  }

  attempts(): IterableIterator<TimelineAttempt> {
    return this.byId.values();
  }

  get(id: string): TimelineAttempt | undefined {
    return this.byId.get(id);
  }

  /** Attempts as fetched (a page of Run.attempts, or a task's history). */
  merge(fetched: readonly TimelineAttempt[]): boolean {
    let changed = false;
    for (const a of fetched) changed = this.put(a) || changed;
    if (changed) this.version += 1;
    return changed;
  }

  /** Live events applied in seq order; whether anything changed. */
  apply(events: readonly AttemptEvent[]): boolean {
    let changed = false;
    for (const e of [...events].sort((x, y) => x.seq - y.seq)) changed = this.applyOne(e) || changed;
    if (changed) this.version += 1;
    return changed;
  }

  private put(a: TimelineAttempt): boolean {
    const known = this.byId.get(a.id);
    const next = known ? mergeAttempt(known, a) : a;
    if (known && sameAttempt(known, next)) return false;
    if (known && this.isUnplaced(known)) this.unplaced -= 1;
    if (this.isUnplaced(next)) this.unplaced += 1;
    this.byId.set(a.id, next);
    if (!known) {
      const list = this.byTask.get(a.taskId) ?? [];
      list.push(a.id);
      list.sort((x, y) => (this.byId.get(x)?.number ?? 0) - (this.byId.get(y)?.number ?? 0));
      this.byTask.set(a.taskId, list);
    }
    return true;
  }

  private isUnplaced(a: TimelineAttempt): boolean {
    return a.itemIndex === null && !this.isStepTask(a.taskId);
  }

  private applyOne(e: AttemptEvent): boolean {
    if (e.kind !== 'TASK_STATUS' || e.taskId === null || e.taskStatus === null) return false;
    const ofTask = (this.byTask.get(e.taskId) ?? []).map((id) => this.byId.get(id)!);
    if (e.taskStatus === 'QUEUED' && e.attemptId !== null) {
      let changed = false;
      // A new attempt ends the one before it (a retry after a failure, or a lost attempt run again).
      for (const before of ofTask) {
        if (before.id === e.attemptId || !isLiveAttempt(before)) continue;
        changed = this.put({ ...before, status: e.error?.code === 'WORKER_LOST' ? 'LOST' : 'FAILED', finishedAt: e.at, error: e.error ?? before.error }) || changed;
      }
      const placed = ofTask.find((a) => a.itemIndex !== null);
      const queued: TimelineAttempt = {
        id: e.attemptId,
        number: e.attempt ?? ofTask.length + 1,
        taskId: e.taskId,
        stepId: e.stepId ?? ofTask[0]?.stepId ?? '',
        itemIndex: placed?.itemIndex ?? null,
        status: 'QUEUED',
        workerId: null,
        queuedAt: e.at,
        startedAt: null,
        finishedAt: null,
        error: null,
      };
      const known = this.byId.get(e.attemptId);
      return this.put(known ? { ...known, status: 'QUEUED' } : queued) || changed;
    }
    // Which attempt: the one named, else the task's latest still going.
    const target = e.attemptId !== null ? this.byId.get(e.attemptId) : [...ofTask].reverse().find(isLiveAttempt);
    if (!target) return false;
    if (e.taskStatus === 'RUNNING') return this.put({ ...target, status: 'RUNNING', startedAt: e.at, finishedAt: null });
    const ended = ENDED_BY[e.taskStatus];
    if (!ended) return false;
    return this.put({ ...target, status: ended, startedAt: target.startedAt, finishedAt: e.at, error: ended === 'SUCCEEDED' ? null : (e.error ?? target.error) });
  }
}

// --- Rows ---------------------------------------------------------------------------------------

/** What the timeline needs of a step's own task (the run's task list). */
export interface TimelineStep {
  id: string;
  stepId: string;
  status: TaskStatus;
  /** Set on a forEach step's task. */
  itemCounts?: { total: number; failed: number } | null | undefined;
}

export interface StepRow {
  kind: 'step';
  key: string;
  stepId: string;
  taskId: string;
  status: TaskStatus;
  attempts: TimelineAttempt[];
  /** A forEach step: its items' rows, shown when expanded. */
  group: { items: number; failed: number; expanded: boolean; start: number | null; end: number | null } | null;
}

export interface ItemRow {
  kind: 'item';
  key: string;
  stepId: string;
  taskId: string;
  itemIndex: number | null;
  attempts: TimelineAttempt[];
}

export type TimelineRow = StepRow | ItemRow;

const byNumber = (a: TimelineAttempt, b: TimelineAttempt) => a.number - b.number;

/**
 * The rows to draw: one per step in the run's order with its own attempts; under a forEach step
 * that is expanded, one per item in item order (items seen live before their index is fetched last).
 */
export function timelineRows(steps: readonly TimelineStep[], attempts: Iterable<TimelineAttempt>, expanded: ReadonlySet<string>, now: number): TimelineRow[] {
  const stepTaskIds = new Set(steps.map((s) => s.id));
  const own = new Map<string, TimelineAttempt[]>();
  const items = new Map<string, Map<string, TimelineAttempt[]>>();
  for (const a of attempts) {
    if (stepTaskIds.has(a.taskId)) {
      const list = own.get(a.taskId) ?? [];
      list.push(a);
      own.set(a.taskId, list);
      continue;
    }
    const ofStep = items.get(a.stepId) ?? new Map<string, TimelineAttempt[]>();
    const list = ofStep.get(a.taskId) ?? [];
    list.push(a);
    ofStep.set(a.taskId, list);
    items.set(a.stepId, ofStep);
  }
  const rows: TimelineRow[] = [];
  for (const step of steps) {
    const ofStep = items.get(step.stepId);
    const isGroup = (step.itemCounts !== null && step.itemCounts !== undefined) || ofStep !== undefined;
    let group: StepRow['group'] = null;
    let itemRows: ItemRow[] = [];
    if (isGroup) {
      itemRows = [...(ofStep ?? new Map<string, TimelineAttempt[]>()).entries()].map(([taskId, list]) => {
        list.sort(byNumber);
        return { kind: 'item' as const, key: `item:${taskId}`, stepId: step.stepId, taskId, itemIndex: list.find((a) => a.itemIndex !== null)?.itemIndex ?? null, attempts: list };
      });
      itemRows.sort((a, b) => (a.itemIndex ?? Number.MAX_SAFE_INTEGER) - (b.itemIndex ?? Number.MAX_SAFE_INTEGER) || Date.parse(a.attempts[0]!.queuedAt) - Date.parse(b.attempts[0]!.queuedAt));
      let start: number | null = null;
      let end: number | null = null;
      let failed = 0;
      for (const row of itemRows) {
        const last = row.attempts[row.attempts.length - 1]!;
        if (last.status === 'FAILED' || last.status === 'LOST') failed += 1;
        for (const a of row.attempts) {
          const s = Date.parse(a.queuedAt);
          const e = attemptEnd(a, now);
          start = start === null ? s : Math.min(start, s);
          end = end === null ? e : Math.max(end, e);
        }
      }
      group = { items: Math.max(step.itemCounts?.total ?? 0, itemRows.length), failed: Math.max(step.itemCounts?.failed ?? 0, failed), expanded: expanded.has(step.stepId), start, end };
    }
    rows.push({ kind: 'step', key: `step:${step.id}`, stepId: step.stepId, taskId: step.id, status: step.status, attempts: (own.get(step.id) ?? []).sort(byNumber), group });
    if (group?.expanded) rows.push(...itemRows);
  }
  return rows;
}

// --- Geometry -----------------------------------------------------------------------------------

/** When an attempt's bar ends: its end, else now (it still waits or runs). */
export const attemptEnd = (a: Pick<TimelineAttempt, 'startedAt' | 'finishedAt' | 'queuedAt'>, now: number): number =>
  a.finishedAt !== null ? Date.parse(a.finishedAt) : Math.max(now, Date.parse(a.startedAt ?? a.queuedAt));

export interface TimeSpan {
  start: number;
  end: number;
}

/** From the run's creation (or its first attempt, if earlier) to its end, or now while it goes on; at least a second. */
export function timelineSpan(run: { createdAt: string; finishedAt: string | null }, attempts: Iterable<TimelineAttempt>, now: number): TimeSpan {
  let start = Date.parse(run.createdAt);
  let end = run.finishedAt !== null ? Date.parse(run.finishedAt) : now;
  for (const a of attempts) {
    start = Math.min(start, Date.parse(a.queuedAt));
    end = Math.max(end, attemptEnd(a, run.finishedAt !== null ? Date.parse(run.finishedAt) : now));
  }
  return { start, end: Math.max(end, start + 1_000) };
}

export interface Segment {
  /** Percent of the span from its start. */
  left: number;
  width: number;
  ms: number;
}

/** An attempt's two parts as percentages of the span: its queue wait and (once started) its run time. */
export function attemptSegments(a: TimelineAttempt, span: TimeSpan, now: number): { queue: Segment; run: Segment | null } {
  const size = span.end - span.start;
  const pct = (t: number) => ((t - span.start) / size) * 100;
  const queued = Date.parse(a.queuedAt);
  const started = a.startedAt !== null ? Date.parse(a.startedAt) : null;
  const end = attemptEnd(a, now);
  const queueEnd = started ?? end;
  const queue = { left: pct(queued), width: Math.max(0, pct(queueEnd) - pct(queued)), ms: Math.max(0, queueEnd - queued) };
  const run = started === null ? null : { left: pct(started), width: Math.max(0, pct(end) - pct(started)), ms: Math.max(0, end - started) };
  return { queue, run };
}

const TICK_STEPS_MS = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

/** Gridlines at a round step from the span's start, at most `max` of them (offsets in ms). */
export function timeTicks(span: TimeSpan, max = 6): number[] {
  const size = span.end - span.start;
  const step = TICK_STEPS_MS.find((s) => size / s <= max) ?? Math.ceil(size / max / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = 0; t <= size; t += step) ticks.push(t);
  return ticks;
}

/** "+1 min 30 s"-style offsets are clearer than clock times on a run's own axis. */
export function tickLabel(offsetMs: number): string {
  if (offsetMs === 0) return '0';
  if (offsetMs < 1_000) return `+${offsetMs} ms`;
  const s = offsetMs / 1_000;
  if (s < 60) return `+${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return rest === 0 ? `+${m} min` : `+${m} min ${rest} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `+${h} h` : `+${h} h ${m % 60} min`;
}
