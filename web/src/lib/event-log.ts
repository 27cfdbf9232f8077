/**
 * The run page's event log (issue 12): every event of a run — status changes with their reasons
 * (a retry's "attempt 1 of 3 failed …; retrying in 800 ms"), progress, log lines, streamed output,
 * wait-reason changes — read from Run.events a page at a time, then followed live. Filters (kind,
 * level, step, text) narrow what is loaded, in the browser.
 */

export interface EventLogEntry {
  seq: number;
  kind: string;
  at: string;
  taskId: string | null;
  stepId: string | null;
  runStatus: string | null;
  taskStatus: string | null;
  attempt: number | null;
  message: string | null;
  level: string | null;
  error: { code: string; message: string } | null;
  outputDelta?: { text: string } | null | undefined;
  /** On TASK_WAITING: why the task waits now (null: no particular reason any more). */
  waitReason?: { kind: string; message: string } | null | undefined;
}

/** The kinds a run's log has today, in the order the filter lists them; kinds added later (TASK_WAITING) are listed when seen. */
export const KNOWN_EVENT_KINDS = ['RUN_STATUS', 'TASK_STATUS', 'TASK_WAITING', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA'] as const;

const KIND_LABELS: Record<string, string> = {
  RUN_STATUS: 'Run status',
  TASK_STATUS: 'Task status',
  TASK_WAITING: 'Waiting',
  TASK_PROGRESS: 'Progress',
  TASK_LOG: 'Log',
  TASK_OUTPUT_DELTA: 'Output',
};

export const eventKindLabel = (kind: string): string => KIND_LABELS[kind] ?? kind.charAt(0) + kind.slice(1).toLowerCase().replace(/_/g, ' ');

export const EVENT_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];

const FAILED = new Set(['FAILED']);

/**
 * How serious an event is: a log line's own level; a failure is an error; a status change that
 * carries an error (a retry after a failed attempt) a warning; the rest information.
 */
export function eventLevel(e: EventLogEntry): EventLevel {
  const own = e.level?.toUpperCase();
  if (own !== undefined && (EVENT_LEVELS as readonly string[]).includes(own)) return own as EventLevel;
  if ((e.taskStatus !== null && FAILED.has(e.taskStatus)) || (e.runStatus !== null && FAILED.has(e.runStatus))) return 'ERROR';
  if (e.error !== null) return 'WARN';
  return 'INFO';
}

/** What an event says, in one line: its message, else what it changed. */
export function eventText(e: EventLogEntry): string {
  const error = e.error ? `${e.error.code}: ${e.error.message}` : null;
  // A wait reason says its kind too ("waiting (rate limit): …"); null means the task waits for nothing in particular any more.
  if (e.kind === 'TASK_WAITING' && e.waitReason !== undefined) return e.waitReason ? `waiting (${e.waitReason.kind.toLowerCase().replace(/_/g, ' ')}): ${e.waitReason.message}` : 'no longer waiting for anything in particular';
  if (e.message !== null && e.message !== '') return e.message;
  switch (e.kind) {
    case 'RUN_STATUS':
      return `run ${(e.runStatus ?? '').toLowerCase()}${error ? ` (${error})` : ''}`;
    case 'TASK_STATUS':
      return `${(e.taskStatus ?? '').toLowerCase()}${e.attempt !== null ? ` (attempt ${e.attempt})` : ''}${error ? `: ${error}` : ''}`;
    case 'TASK_OUTPUT_DELTA':
      return e.outputDelta?.text ?? '';
    default:
      return error ?? '';
  }
}

export interface EventFilter {
  /** One kind, or every kind (''). */
  kind: string;
  /** This level and above, or every level (''). */
  level: EventLevel | '';
  /** One step's events (its task's and its items'), or every step's (''). */
  stepId: string;
  /** Words every shown event contains somewhere (message, error, step, kind, status), in any case. */
  text: string;
}

export const NO_EVENT_FILTER: EventFilter = { kind: '', level: '', stepId: '', text: '' };

/** The longest text the search takes (what is typed is bounded like every other input). */
export const EVENT_SEARCH_MAX = 200;

export const isFiltered = (f: EventFilter): boolean => f.kind !== '' || f.level !== '' || f.stepId !== '' || f.text.trim() !== '';

export function eventMatcher(filter: EventFilter): (e: EventLogEntry) => boolean {
  const words = filter.text.slice(0, EVENT_SEARCH_MAX).toLowerCase().split(/\s+/).filter(Boolean);
  const minLevel = filter.level === '' ? 0 : EVENT_LEVELS.indexOf(filter.level);
  return (e) => {
    if (filter.kind !== '' && e.kind !== filter.kind) return false;
    if (filter.stepId !== '' && e.stepId !== filter.stepId) return false;
    if (minLevel > 0 && EVENT_LEVELS.indexOf(eventLevel(e)) < minLevel) return false;
    if (words.length === 0) return true;
    const haystack = [eventText(e), e.error?.code, e.error?.message, e.stepId, e.kind, e.taskStatus, e.runStatus].filter(Boolean).join(' ').toLowerCase();
    return words.every((w) => haystack.includes(w));
  };
}

/**
 * A run's events in seq order, from history pages and live events (which may overlap: a page read
 * while the subscription already delivered its events), each seq once, at most `max` kept (the
 * first ones: a log past that says so and stops growing).
 */
export class EventLogBuffer {
  private readonly list: EventLogEntry[] = [];
  private readonly seqs = new Set<number>();
  version = 0;

  constructor(readonly max = 50_000) {}

  get events(): readonly EventLogEntry[] {
    return this.list;
  }

  get lastSeq(): number {
    return this.list[this.list.length - 1]?.seq ?? 0;
  }

  get full(): boolean {
    return this.list.length >= this.max;
  }

  /** Adds events not seen yet; whether any was added. */
  add(events: readonly EventLogEntry[]): boolean {
    let added = false;
    let outOfOrder = false;
    for (const e of events) {
      if (this.seqs.has(e.seq) || this.full) continue;
      if (e.seq < this.lastSeq) outOfOrder = true;
      this.seqs.add(e.seq);
      this.list.push(e);
      added = true;
    }
    if (outOfOrder) this.list.sort((a, b) => a.seq - b.seq);
    if (added) this.version += 1;
    return added;
  }

  /** Kinds present, known ones first in their order, then others as first seen. */
  kinds(): string[] {
    const present = new Set(this.list.map((e) => e.kind));
    const known = KNOWN_EVENT_KINDS.filter((k) => present.has(k) || k !== 'TASK_WAITING');
    return [...known, ...[...present].filter((k) => !(KNOWN_EVENT_KINDS as readonly string[]).includes(k))];
  }
}
