import { AttemptTimeline, attemptSegments, mergeAttempt, tickLabel, timelineRows, timelineSpan, timeTicks, type AttemptEvent, type TimelineAttempt, type TimelineStep } from './timeline';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const attempt = (a: Partial<TimelineAttempt> & Pick<TimelineAttempt, 'id' | 'taskId'>): TimelineAttempt => ({
  number: 1,
  stepId: 'call',
  itemIndex: null,
  status: 'QUEUED',
  workerId: null,
  queuedAt: at(0),
  startedAt: null,
  finishedAt: null,
  error: null,
  ...a,
});

let seq = 0;
const event = (e: Partial<AttemptEvent> & Pick<AttemptEvent, 'taskStatus'>): AttemptEvent => ({
  seq: ++seq,
  kind: 'TASK_STATUS',
  at: at(0),
  taskId: 't-call',
  stepId: 'call',
  attemptId: null,
  attempt: null,
  error: null,
  ...e,
});

const steps: TimelineStep[] = [
  { id: 't-call', stepId: 'call', status: 'SUCCEEDED' },
  { id: 't-each', stepId: 'each', status: 'RUNNING', itemCounts: { total: 3, failed: 0 } },
];
const isStepTask = (id: string) => steps.some((s) => s.id === id);

describe('the timeline from live events', () => {
  it('draws a retry as a second bar and ends the first with the error, from events alone', () => {
    const timeline = new AttemptTimeline(isStepTask);
    const failure = { code: 'HTTP_STATUS', message: 'answered 503' };
    expect(timeline.apply([event({ taskStatus: 'QUEUED', attemptId: 'a1', attempt: 1, at: at(0) })])).toBe(true);
    timeline.apply([event({ taskStatus: 'RUNNING', attemptId: 'a1', attempt: 1, at: at(100) })]);
    timeline.apply([event({ taskStatus: 'QUEUED', attemptId: 'a2', attempt: 2, at: at(600), error: failure })]);
    timeline.apply([event({ taskStatus: 'RUNNING', attemptId: 'a2', attempt: 2, at: at(2_100) })]);
    timeline.apply([event({ taskStatus: 'SUCCEEDED', attemptId: 'a2', attempt: 2, at: at(2_300) })]);
    expect(timeline.get('a1')).toMatchObject({ status: 'FAILED', startedAt: at(100), finishedAt: at(600), error: failure });
    expect(timeline.get('a2')).toMatchObject({ number: 2, status: 'SUCCEEDED', queuedAt: at(600), startedAt: at(2_100), finishedAt: at(2_300), error: null });
    // A step's own task needs nothing fetched; a version counts the changes.
    expect(timeline.needsFetch).toBe(false);
    expect(timeline.version).toBe(5);
  });

  it('never moves an attempt back, whichever comes first: a fetch or the events', () => {
    const timeline = new AttemptTimeline(isStepTask);
    timeline.merge([attempt({ id: 'a1', taskId: 't-call', status: 'SUCCEEDED', workerId: 'w1', startedAt: at(100), finishedAt: at(300) })]);
    // An older event (RUNNING) after the fetch changes nothing.
    expect(timeline.apply([event({ taskStatus: 'RUNNING', attemptId: 'a1', at: at(100) })])).toBe(false);
    expect(timeline.get('a1')?.status).toBe('SUCCEEDED');
    // A fetch older than the events keeps what the events said, and adds its worker.
    const live = new AttemptTimeline(isStepTask);
    live.apply([event({ taskStatus: 'QUEUED', attemptId: 'b1', attempt: 1 }), event({ taskStatus: 'RUNNING', attemptId: 'b1', at: at(50) })]);
    live.merge([attempt({ id: 'b1', taskId: 't-call', status: 'QUEUED', workerId: null })]);
    expect(live.get('b1')).toMatchObject({ status: 'RUNNING', startedAt: at(50) });
    live.merge([attempt({ id: 'b1', taskId: 't-call', status: 'RUNNING', workerId: 'w9', startedAt: at(49) })]);
    expect(live.get('b1')).toMatchObject({ status: 'RUNNING', workerId: 'w9', startedAt: at(49) });
    // The same fetch again changes nothing.
    const version = live.version;
    expect(live.merge([attempt({ id: 'b1', taskId: 't-call', status: 'RUNNING', workerId: 'w9', startedAt: at(49) })])).toBe(false);
    expect(live.version).toBe(version);
  });

  it('asks for a fetch while an item seen live has no index, and stops once it came', () => {
    const timeline = new AttemptTimeline(isStepTask);
    timeline.apply([event({ taskId: 'i7', stepId: 'each', taskStatus: 'QUEUED', attemptId: 'x1', attempt: 1 })]);
    expect(timeline.needsFetch).toBe(true);
    timeline.merge([attempt({ id: 'x1', taskId: 'i7', stepId: 'each', itemIndex: 7 })]);
    expect(timeline.needsFetch).toBe(false);
    // Its retry takes the index from the attempt before.
    timeline.apply([event({ taskId: 'i7', stepId: 'each', taskStatus: 'QUEUED', attemptId: 'x2', attempt: 2, error: { code: 'WORKER_LOST', message: 'gone' } })]);
    expect(timeline.get('x2')?.itemIndex).toBe(7);
    expect(timeline.get('x1')?.status).toBe('LOST');
    expect(timeline.needsFetch).toBe(false);
  });

  it('ends the latest live attempt of a task when an end event names none (a cancelled run)', () => {
    const timeline = new AttemptTimeline(isStepTask);
    timeline.merge([attempt({ id: 'a1', taskId: 't-call', status: 'QUEUED' })]);
    timeline.apply([event({ taskStatus: 'CANCELLED', at: at(500), error: { code: 'CANCELLED', message: 'stop' } })]);
    expect(timeline.get('a1')).toMatchObject({ status: 'CANCELLED', startedAt: null, finishedAt: at(500) });
    // Events of other kinds, or without a task, are not the timeline's.
    expect(timeline.apply([{ ...event({ taskStatus: null }), kind: 'RUN_STATUS', taskId: null }])).toBe(false);
  });

  it('merges two views of an attempt: the one further along wins, gaps filled', () => {
    const queued = attempt({ id: 'a', taskId: 't', workerId: null, itemIndex: 3 });
    const done = attempt({ id: 'a', taskId: 't', status: 'FAILED', itemIndex: null, startedAt: at(5), finishedAt: at(9), error: { code: 'X', message: 'y' } });
    expect(mergeAttempt(queued, done)).toMatchObject({ status: 'FAILED', itemIndex: 3, finishedAt: at(9), error: { code: 'X' } });
    expect(mergeAttempt(done, queued)).toMatchObject({ status: 'FAILED', itemIndex: 3, finishedAt: at(9) });
  });
});

describe('timeline rows', () => {
  const attempts = [
    attempt({ id: 'a2', taskId: 't-call', number: 2, status: 'SUCCEEDED', queuedAt: at(600), startedAt: at(2_000), finishedAt: at(2_200) }),
    attempt({ id: 'a1', taskId: 't-call', number: 1, status: 'FAILED', startedAt: at(10), finishedAt: at(600) }),
    attempt({ id: 'i2', taskId: 'it2', stepId: 'each', itemIndex: 2, status: 'RUNNING', queuedAt: at(2_300), startedAt: at(2_400) }),
    attempt({ id: 'i0', taskId: 'it0', stepId: 'each', itemIndex: 0, status: 'FAILED', queuedAt: at(2_300), startedAt: at(2_300), finishedAt: at(2_500) }),
    attempt({ id: 'iq', taskId: 'itq', stepId: 'each', itemIndex: null, queuedAt: at(2_350) }),
  ];

  it('is one row per step with its attempts in order, the items of a forEach step under it only when expanded', () => {
    const collapsed = timelineRows(steps, attempts, new Set(), T0 + 3_000);
    expect(collapsed.map((r) => r.key)).toEqual(['step:t-call', 'step:t-each']);
    expect(collapsed[0]!.attempts.map((a) => a.id)).toEqual(['a1', 'a2']);
    const group = collapsed[1]!.kind === 'step' ? collapsed[1]!.group : null;
    expect(group).toEqual({ items: 3, failed: 1, expanded: false, start: T0 + 2_300, end: T0 + 3_000 });
    const open = timelineRows(steps, attempts, new Set(['each']), T0 + 3_000);
    // In item order; one seen live before its index was fetched goes last.
    expect(open.map((r) => (r.kind === 'item' ? `#${r.itemIndex ?? '?'}` : r.stepId))).toEqual(['call', 'each', '#0', '#2', '#?']);
  });
});

describe('timeline geometry', () => {
  it('splits a bar into its queue wait and its run time, a running one growing to now', () => {
    const span = { start: T0, end: T0 + 10_000 };
    const done = attempt({ id: 'a', taskId: 't', status: 'SUCCEEDED', queuedAt: at(1_000), startedAt: at(3_000), finishedAt: at(4_000) });
    expect(attemptSegments(done, span, T0 + 9_000)).toEqual({ queue: { left: 10, width: 20, ms: 2_000 }, run: { left: 30, width: 10, ms: 1_000 } });
    const running = attempt({ id: 'b', taskId: 't', status: 'RUNNING', queuedAt: at(1_000), startedAt: at(2_000) });
    expect(attemptSegments(running, span, T0 + 5_000).run).toEqual({ left: 20, width: 30, ms: 3_000 });
    expect(attemptSegments(running, span, T0 + 6_000).run?.width).toBe(40);
    const waiting = attempt({ id: 'c', taskId: 't', queuedAt: at(1_000) });
    expect(attemptSegments(waiting, span, T0 + 2_500)).toEqual({ queue: { left: 10, width: 15, ms: 1_500 }, run: null });
  });

  it('spans the run from its creation to its end (or now), with round gridlines', () => {
    const run = { createdAt: at(0), finishedAt: null };
    expect(timelineSpan(run, [attempt({ id: 'a', taskId: 't', status: 'RUNNING', startedAt: at(100) })], T0 + 42_000)).toEqual({ start: T0, end: T0 + 42_000 });
    expect(timelineSpan({ createdAt: at(0), finishedAt: at(0) }, [], T0)).toEqual({ start: T0, end: T0 + 1_000 });
    expect(timeTicks({ start: 0, end: 42_000 })).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
    expect(timeTicks({ start: 0, end: 1_000 })).toEqual([0, 250, 500, 750, 1_000]);
    expect([0, 500, 10_000, 1_500, 90_000, 3_600_000].map(tickLabel)).toEqual(['0', '+500 ms', '+10 s', '+1.5 s', '+1 min 30 s', '+1 h']);
  });
});
