import { applyRunEvents, applyWaitReasons, emptyLogMessage, endsRun, formatAttempts, hasWaitingTasks, mergeLogLines, shownTaskDetail, waitKindLabel, type RunDetail, type RunEvent, type ShownTask, type TaskDetail } from './run-events';

const task = (stepId: string, overrides: Partial<ShownTask> = {}): ShownTask => ({
  id: `task-${stepId}`,
  stepId,
  capability: 'sleep',
  status: 'PENDING',
  dependsOn: [],
  error: null,
  attempts: 0,
  maxAttempts: 3,
  progress: null,
  progressMessage: null,
  pool: 'default',
  workerId: null,
  gpus: [],
  waitReason: null,
  queuedAt: null,
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  attemptHistory: [],
  itemCounts: null,
  ...overrides,
});

const run = (overrides: Partial<RunDetail> = {}): RunDetail => ({
  id: 'run-1',
  status: 'QUEUED',
  workflowVersion: 1,
  workflow: { id: 'wf-1', name: 'wf' },
  startedByName: 'ada@example.com',
  createdAt: '2026-11-22T10:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  durationMs: null,
  error: null,
  input: {},
  output: null,
  idempotencyKey: null,
  cancelReason: null,
  lastSeq: 2,
  app: null,
  tasks: [task('a', { status: 'QUEUED' }), task('b', { dependsOn: ['a'] })],
  ...overrides,
});

const base = { runStatus: null, taskId: null, stepId: null, taskStatus: null, attempt: null, progress: null, message: null, level: null, error: null, attemptId: null, outputDelta: null };
const event = (seq: number, at: string, fields: Partial<RunEvent>): RunEvent => ({ ...base, seq, at, kind: 'TASK_STATUS', ...fields });

describe('run events', () => {
  const events: RunEvent[] = [
    event(3, '2026-11-22T10:00:01.000Z', { kind: 'RUN_STATUS', runStatus: 'RUNNING' }),
    event(4, '2026-11-22T10:00:01.000Z', { taskId: 'task-a', stepId: 'a', taskStatus: 'RUNNING', attempt: 1 }),
    event(5, '2026-11-22T10:00:01.500Z', { kind: 'TASK_PROGRESS', taskId: 'task-a', stepId: 'a', progress: 0.5, message: 'halfway' }),
    event(6, '2026-11-22T10:00:02.000Z', { kind: 'TASK_LOG', taskId: 'task-a', stepId: 'a', message: 'done sleeping', level: 'INFO', attempt: 1 }),
    event(7, '2026-11-22T10:00:03.000Z', { taskId: 'task-a', stepId: 'a', taskStatus: 'SUCCEEDED', attempt: 1 }),
  ];

  it('applies status, attempt, progress and timing changes in seq order', () => {
    const shown = applyRunEvents(run(), [...events].reverse());
    expect(shown.status).toBe('RUNNING');
    expect(shown.startedAt).toBe('2026-11-22T10:00:01.000Z');
    const a = shown.tasks[0]!;
    expect(a).toMatchObject({ status: 'SUCCEEDED', attempts: 1, progress: 1, startedAt: '2026-11-22T10:00:01.000Z', finishedAt: '2026-11-22T10:00:03.000Z', durationMs: 2000 });
    expect(shown.tasks[1]!.status).toBe('PENDING');
    expect(shown.lastSeq).toBe(7);
  });

  it('shows progress while running', () => {
    const shown = applyRunEvents(run(), events.slice(0, 3));
    expect(shown.tasks[0]).toMatchObject({ status: 'RUNNING', progress: 0.5, progressMessage: 'halfway' });
  });

  it('ignores events the fetched run already reflects, so a refetch never goes back in time', () => {
    // A refetch that saw events up to 5 but raced event 7.
    const refetched = run({ lastSeq: 5, status: 'RUNNING', tasks: [task('a', { status: 'RUNNING', attempts: 1, progress: 0.5 }), task('b', { dependsOn: ['a'] })] });
    const shown = applyRunEvents(refetched, events);
    expect(shown.tasks[0]!.status).toBe('SUCCEEDED');
    // And a refetch newer than every event is shown as it is.
    const newest = run({ lastSeq: 9, status: 'SUCCEEDED' });
    expect(applyRunEvents(newest, events)).toBe(newest);
  });

  it('records a failure with its error and a final run status with its duration', () => {
    const shown = applyRunEvents(run({ lastSeq: 0, startedAt: '2026-11-22T10:00:00.000Z' }), [
      event(1, '2026-11-22T10:00:00.000Z', { taskId: 'task-a', taskStatus: 'RUNNING', attempt: 3 }),
      event(2, '2026-11-22T10:00:04.000Z', { taskId: 'task-a', taskStatus: 'FAILED', attempt: 3, error: { code: 'TIMEOUT', message: 'step timed out after 1000 ms', retryable: true, stepId: 'a' } }),
      event(3, '2026-11-22T10:00:04.000Z', { kind: 'RUN_STATUS', runStatus: 'FAILED', error: { code: 'TIMEOUT', message: 'step timed out', retryable: null, stepId: 'a' } }),
    ]);
    expect(shown.tasks[0]).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: 'TIMEOUT' } });
    expect(shown).toMatchObject({ status: 'FAILED', durationMs: 4000, error: { code: 'TIMEOUT', stepId: 'a' } });
  });

  describe('attempts after a retry (retryRun resets the budget; attempt numbers are absolute)', () => {
    const at = (second: number) => `2026-11-22T10:00:${String(second).padStart(2, '0')}.000Z`;
    const attempt = (number: number, queuedSecond: number, status: 'FAILED' | 'RUNNING' | 'QUEUED' = 'FAILED') => ({ id: `att-${number}`, number, status, workerId: null, queuedAt: at(queuedSecond), startedAt: null, finishedAt: null, durationMs: null, error: null });
    // Attempt 1 failed, the run was retried (the task queued again at 0:10), attempt 2 is running: 1 of the new budget, 2 in all.
    const retried = () => run({ lastSeq: 10, status: 'RUNNING', tasks: [task('a', { status: 'RUNNING', attempts: 1, maxAttempts: 3, queuedAt: at(10), attemptHistory: [attempt(1, 0), attempt(2, 10, 'RUNNING')] })] });

    it('counts the budget from the last restart, and the total across restarts', () => {
      expect(formatAttempts(retried().tasks[0]!)).toBe('1/3 · 2 in all');
    });

    it('converts a live event’s absolute attempt into the budget’s count, never going back', () => {
      const shown = applyRunEvents(retried(), [
        event(11, at(11), { taskId: 'task-a', taskStatus: 'QUEUED', attempt: 3 }),
        event(12, at(12), { taskId: 'task-a', taskStatus: 'RUNNING', attempt: 3 }),
      ]);
      expect(shown.tasks[0]).toMatchObject({ status: 'RUNNING', attempts: 2 });
      expect(formatAttempts(shown.tasks[0]!)).toBe('2/3 · 3 in all');
    });

    it('keeps the fetched count when a live event repeats the current attempt', () => {
      const shown = applyRunEvents(retried(), [event(11, at(11), { taskId: 'task-a', taskStatus: 'RUNNING', attempt: 2 })]);
      expect(formatAttempts(shown.tasks[0]!)).toBe('1/3 · 2 in all');
    });

    it('is not misled by a history read after the task row (an attempt queued in between)', () => {
      // Without any restart: the task row says 1 attempt, the history already holds a queued attempt 2.
      const raced = run({ lastSeq: 10, status: 'RUNNING', tasks: [task('a', { status: 'RUNNING', attempts: 1, maxAttempts: 2, queuedAt: at(0), attemptHistory: [attempt(1, 0), attempt(2, 1, 'QUEUED')] })] });
      expect(formatAttempts(raced.tasks[0]!)).toBe('1/2');
      const shown = applyRunEvents(raced, [
        event(11, at(1), { taskId: 'task-a', taskStatus: 'QUEUED', attempt: 2 }),
        event(12, at(2), { taskId: 'task-a', taskStatus: 'RUNNING', attempt: 2 }),
        event(13, at(3), { taskId: 'task-a', taskStatus: 'FAILED', attempt: 2 }),
      ]);
      expect(formatAttempts(shown.tasks[0]!)).toBe('2/2');
    });

    it('starts the budget over when a failed task is queued again live', () => {
      const failed = run({ lastSeq: 10, status: 'FAILED', tasks: [task('a', { status: 'FAILED', attempts: 3, maxAttempts: 3, queuedAt: at(0), attemptHistory: [attempt(1, 0), attempt(2, 1), attempt(3, 2)] })] });
      expect(formatAttempts(failed.tasks[0]!)).toBe('3/3');
      const shown = applyRunEvents(failed, [
        event(11, at(20), { taskId: 'task-a', taskStatus: 'PENDING', attempt: null }),
        event(12, at(21), { taskId: 'task-a', taskStatus: 'QUEUED', attempt: 4 }),
        event(13, at(22), { taskId: 'task-a', taskStatus: 'RUNNING', attempt: 4 }),
      ]);
      expect(shown.tasks[0]).toMatchObject({ status: 'RUNNING', attempts: 1 });
      expect(formatAttempts(shown.tasks[0]!)).toBe('1/3 · 4 in all');
    });

    it('counts every earlier attempt for a task reset but not yet queued', () => {
      expect(formatAttempts(task('a', { status: 'PENDING', attempts: 0, queuedAt: null, attemptHistory: [attempt(1, 0), attempt(2, 1)] }))).toBe('0/3 · 2 in all');
      expect(formatAttempts(task('a'))).toBe('0/3');
    });
  });

  it('forgets why a task waited once it starts, and knows when a run has waiting tasks', () => {
    const waiting = run({ tasks: [task('a', { status: 'QUEUED', waitReason: { kind: 'RATE_LIMIT', message: 'rate limit "openai": 5 per second used', since: '2026-11-22T10:00:00.500Z' } }), task('b')] });
    expect(hasWaitingTasks(waiting)).toBe(true);
    const started = applyRunEvents(waiting, events.slice(0, 2));
    expect(started.tasks[0]).toMatchObject({ status: 'RUNNING', waitReason: null });
    expect(hasWaitingTasks(started)).toBe(false);
    expect(waitKindLabel('RATE_LIMIT')).toBe('Rate limit');
  });

  it('knows which events end the run (then it is fetched once more), and no other', () => {
    expect(events.map(endsRun)).toEqual([false, false, false, false, false]);
    expect(endsRun(event(9, '2026-11-22T10:00:05.000Z', { kind: 'RUN_STATUS', runStatus: 'CANCELLED' }))).toBe(true);
    expect(endsRun(event(9, '2026-11-22T10:00:05.000Z', { kind: 'RUN_STATUS', runStatus: 'RUNNING' }))).toBe(false);
  });

  it('applies a batch keeping the objects of tasks no event touched, and the run itself when nothing changed', () => {
    const fetched = run({ tasks: [task('a', { status: 'QUEUED' }), task('b', { dependsOn: ['a'] }), task('c')] });
    const shown = applyRunEvents(fetched, events);
    expect(shown.tasks[0]).not.toBe(fetched.tasks[0]);
    expect(shown.tasks[1]).toBe(fetched.tasks[1]);
    expect(shown.tasks[2]).toBe(fetched.tasks[2]);
    expect(shown.lastSeq).toBe(7);
    // Only a log line: the tasks are the same objects, the seq moves on.
    const logged = applyRunEvents(shown, [event(8, '2026-11-22T10:00:04.000Z', { kind: 'TASK_LOG', taskId: 'task-a', message: 'hi', level: 'INFO' })]);
    expect(logged.tasks).toBe(shown.tasks);
    expect(logged.lastSeq).toBe(8);
    expect(applyRunEvents(logged, events)).toBe(logged);
  });

  it('applies wait reasons looked at again only to tasks still in the status they were seen in', () => {
    const reason = { kind: 'NO_FREE_SLOT' as const, message: 'all 4 slots of pool default are busy', since: '2026-11-22T10:00:00.500Z' };
    const fetched = run({ tasks: [task('a', { status: 'QUEUED' }), task('b', { status: 'RUNNING' }), task('c', { status: 'QUEUED', waitReason: reason })] });
    const shown = applyWaitReasons(fetched, [
      { id: 'task-a', status: 'QUEUED', waitReason: reason },
      // Seen while still queued, but it runs now: the old reason is not put back.
      { id: 'task-b', status: 'QUEUED', waitReason: reason },
      { id: 'task-c', status: 'QUEUED', waitReason: { ...reason } },
    ]);
    expect(shown.tasks[0]!.waitReason).toEqual(reason);
    expect(shown.tasks[1]!.waitReason).toBeNull();
    expect(shown.tasks[2]).toBe(fetched.tasks[2]);
    expect(applyWaitReasons(shown, [{ id: 'task-a', status: 'QUEUED', waitReason: reason }])).toBe(shown);
  });

  it('shows the open task as fetched in full with the live changes on top', () => {
    const detail: TaskDetail = { ...task('a', { status: 'RUNNING', workerId: 'w-1', attempts: 1 }), input: { x: 1 }, output: null, usage: { calls: 0, failedCalls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, gpuSeconds: 0 }, attemptHistory: [], itemIndex: null };
    const live = applyRunEvents(run({ tasks: [task('a', { status: 'RUNNING', attempts: 1 })] }), [event(3, '2026-11-22T10:00:03.000Z', { taskId: 'task-a', taskStatus: 'SUCCEEDED', attempt: 1 })]).tasks[0]!;
    const shown = shownTaskDetail(live, detail);
    expect(shown).toMatchObject({ status: 'SUCCEEDED', input: { x: 1 }, progress: 1 });
    // The worker of the attempt that was running when the detail was fetched is not carried to a new status.
    expect(shown.workerId).toBeNull();
    expect(shownTaskDetail(live, undefined)).toBe(live);
    expect(shownTaskDetail(task('a', { status: 'RUNNING' }), detail).workerId).toBe('w-1');
  });

  it('says an empty log is final only once the task finished', () => {
    expect(emptyLogMessage('RUNNING')).toBe('No log lines yet.');
    expect(emptyLogMessage('QUEUED')).toBe('No log lines yet.');
    expect(emptyLogMessage('SUCCEEDED')).toBe('No log lines.');
    expect(emptyLogMessage('CANCELLED')).toBe('No log lines.');
  });

  it('merges stored and live log lines without doubles, in time order', () => {
    const stored = [
      { seq: 1, at: '2026-11-22T10:00:01.000Z', level: 'INFO', message: 'start', attempt: 1 },
      { seq: 2, at: '2026-11-22T10:00:02.000Z', level: 'INFO', message: 'done sleeping', attempt: 1 },
    ];
    const live = [
      events[3]!, // the same line as stored seq 2
      event(8, '2026-11-22T10:00:03.000Z', { kind: 'TASK_LOG', taskId: 'task-a', message: 'uploading', level: 'WARN', attempt: 1 }),
      events[4]!, // not a log line
    ];
    const lines = mergeLogLines(stored, live);
    expect(lines.map((l) => l.message)).toEqual(['start', 'done sleeping', 'uploading']);
    expect(lines[2]).toMatchObject({ level: 'WARN', key: 'e8' });
  });

  it("counts a forEach step's items from their events, leaving the step's own status and the other tasks alone", () => {
    const fetched = run({ lastSeq: 2, tasks: [task('list', { status: 'SUCCEEDED' }), task('each', { status: 'RUNNING', itemCounts: { total: 3, pending: 1, queued: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0 } })] });
    const shown = applyRunEvents(fetched, [
      event(3, '2026-11-22T10:00:03.000Z', { taskId: 'item-0', stepId: 'each', taskStatus: 'RUNNING', attempt: 1 }),
      event(4, '2026-11-22T10:00:04.000Z', { taskId: 'item-0', stepId: 'each', taskStatus: 'SUCCEEDED', attempt: 1 }),
      event(5, '2026-11-22T10:00:05.000Z', { taskId: 'item-2', stepId: 'each', taskStatus: 'QUEUED', attempt: 1 }),
      event(6, '2026-11-22T10:00:05.500Z', { kind: 'TASK_PROGRESS', taskId: 'item-1', stepId: 'each', progress: 0.5 }),
    ]);
    expect(shown.tasks[0]).toBe(fetched.tasks[0]);
    expect(shown.tasks[1]!.status).toBe('RUNNING');
    expect(shown.tasks[1]!.itemCounts).toEqual({ total: 3, pending: 0, queued: 2, running: 0, succeeded: 1, failed: 0, cancelled: 0 });
    expect(shown.tasks[1]!.itemCountsPartial).toBeUndefined();
    // An item's later event moves it from the status its last event gave.
    const later = applyRunEvents(shown, [event(7, '2026-11-22T10:00:06.000Z', { taskId: 'item-2', stepId: 'each', taskStatus: 'FAILED', attempt: 1 })]);
    expect(later.tasks[1]!.itemCounts).toMatchObject({ queued: 1, running: 0, failed: 1 });
  });

  it('marks the counts of a forEach step that expanded after the fetch as partial (fetched then)', () => {
    const shown = applyRunEvents(run({ lastSeq: 0, tasks: [task('each', { status: 'QUEUED' })] }), [
      event(1, '2026-11-22T10:00:01.000Z', { taskId: 'task-each', stepId: 'each', taskStatus: 'RUNNING', attempt: 1 }),
      event(2, '2026-11-22T10:00:02.000Z', { taskId: 'item-0', stepId: 'each', taskStatus: 'QUEUED', attempt: 1 }),
    ]);
    expect(shown.tasks[0]).toMatchObject({ status: 'RUNNING', itemCountsPartial: true, itemCounts: { queued: 1 } });
  });
});
