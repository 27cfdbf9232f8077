import { EventLogBuffer, eventLevel, eventMatcher, eventText, isFiltered, NO_EVENT_FILTER, type EventLogEntry } from './event-log';

const entry = (e: Partial<EventLogEntry> & Pick<EventLogEntry, 'seq' | 'kind'>): EventLogEntry => ({
  at: '2026-12-07T10:00:00.000Z',
  taskId: null,
  stepId: null,
  runStatus: null,
  taskStatus: null,
  attempt: null,
  message: null,
  level: null,
  error: null,
  ...e,
});

const retry = entry({ seq: 4, kind: 'TASK_STATUS', stepId: 'call', taskStatus: 'QUEUED', attempt: 2, message: 'attempt 1 of 3 failed (HTTP_STATUS: answered 503); retrying in 800 ms', error: { code: 'HTTP_STATUS', message: 'answered 503' } });
const events = [
  entry({ seq: 1, kind: 'RUN_STATUS', runStatus: 'RUNNING' }),
  entry({ seq: 2, kind: 'TASK_STATUS', stepId: 'call', taskStatus: 'QUEUED', attempt: 1 }),
  entry({ seq: 3, kind: 'TASK_LOG', stepId: 'call', level: 'DEBUG', message: 'GET /flaky' }),
  retry,
  entry({ seq: 5, kind: 'TASK_STATUS', stepId: 'report', taskStatus: 'FAILED', attempt: 1, error: { code: 'TIMEOUT', message: 'too slow' } }),
  entry({ seq: 6, kind: 'TASK_WAITING', stepId: 'report', message: 'waiting: rate limit "api" has no units left' }),
];

describe('the event log', () => {
  it('says what each event is about in one line', () => {
    expect(events.map(eventText)).toEqual([
      'run running',
      'queued (attempt 1)',
      'GET /flaky',
      'attempt 1 of 3 failed (HTTP_STATUS: answered 503); retrying in 800 ms',
      'failed (attempt 1): TIMEOUT: too slow',
      'waiting: rate limit "api" has no units left',
    ]);
    expect(eventText(entry({ seq: 9, kind: 'TASK_OUTPUT_DELTA', outputDelta: { text: 'Hello' } }))).toBe('Hello');
    expect(eventText(entry({ seq: 10, kind: 'TASK_WAITING', waitReason: { kind: 'RATE_LIMIT', message: 'rate limit "api" has no units left' } }))).toBe('waiting (rate limit): rate limit "api" has no units left');
    expect(eventText(entry({ seq: 11, kind: 'TASK_WAITING', waitReason: null }))).toBe('no longer waiting for anything in particular');
  });

  it('grades events: log levels as they are, failures errors, a status change with an error a warning', () => {
    expect(events.map(eventLevel)).toEqual(['INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR', 'INFO']);
  });

  it('narrows by kind, level, step and words (any case, all words)', () => {
    const shown = (filter: Partial<typeof NO_EVENT_FILTER>) => events.filter(eventMatcher({ ...NO_EVENT_FILTER, ...filter })).map((e) => e.seq);
    expect(shown({})).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shown({ kind: 'TASK_STATUS' })).toEqual([2, 4, 5]);
    expect(shown({ level: 'WARN' })).toEqual([4, 5]);
    expect(shown({ level: 'ERROR' })).toEqual([5]);
    expect(shown({ stepId: 'call' })).toEqual([2, 3, 4]);
    expect(shown({ text: 'RETRYING' })).toEqual([4]);
    expect(shown({ text: 'http_status 503' })).toEqual([4]);
    expect(shown({ text: 'timeout' })).toEqual([5]);
    expect(shown({ text: '  ' })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(shown({ kind: 'TASK_STATUS', stepId: 'call', text: 'retrying' })).toEqual([4]);
    expect(isFiltered(NO_EVENT_FILTER)).toBe(false);
    expect(isFiltered({ ...NO_EVENT_FILTER, text: 'x' })).toBe(true);
  });

  it('keeps each seq once in order, from pages and live events that overlap, up to its bound', () => {
    const buffer = new EventLogBuffer(5);
    expect(buffer.add(events.slice(0, 3))).toBe(true);
    expect(buffer.add(events.slice(1, 2))).toBe(false);
    // A live event delivered before the page that holds the one before it.
    buffer.add([events[4]!]);
    buffer.add([events[3]!]);
    expect(buffer.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(buffer.lastSeq).toBe(5);
    expect(buffer.full).toBe(true);
    expect(buffer.add([events[5]!])).toBe(false);
    expect(buffer.version).toBe(3);
    // Kinds: those known (the waiting kind only once seen), then any new ones.
    expect(buffer.kinds()).toEqual(['RUN_STATUS', 'TASK_STATUS', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA']);
    const more = new EventLogBuffer();
    more.add([...events, entry({ seq: 7, kind: 'TASK_SOMETHING_NEW' })]);
    expect(more.kinds()).toEqual(['RUN_STATUS', 'TASK_STATUS', 'TASK_WAITING', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA', 'TASK_SOMETHING_NEW']);
  });
});
