import type { RunDetail, RunEvent } from './run-events';
import { LiveRunStore } from './live-run-store';

const task = (stepId: string, status: RunDetail['tasks'][number]['status'] = 'PENDING'): RunDetail['tasks'][number] => ({
  id: `task-${stepId}`,
  stepId,
  capability: 'sleep',
  status,
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
});

const run = (lastSeq: number, tasks = [task('a', 'QUEUED'), task('b')]): RunDetail => ({
  id: 'run-1',
  status: 'RUNNING',
  workflowVersion: 1,
  workflow: { id: 'wf-1', name: 'wf' },
  startedByName: null,
  createdAt: '2026-11-22T10:00:00.000Z',
  startedAt: '2026-11-22T10:00:00.000Z',
  finishedAt: null,
  durationMs: null,
  error: null,
  input: {},
  output: null,
  idempotencyKey: null,
  cancelReason: null,
  lastSeq,
  app: null,
  tasks,
});

const base = { runStatus: null, taskId: null, stepId: null, taskStatus: null, attemptId: null, outputDelta: null, attempt: null, progress: null, message: null, level: null, error: null };
const status = (seq: number, stepId: string, taskStatus: RunEvent['taskStatus']): RunEvent => ({ ...base, seq, at: `2026-11-22T10:00:${String(seq).padStart(2, '0')}.000Z`, kind: 'TASK_STATUS', taskId: `task-${stepId}`, stepId, taskStatus, attempt: 1 });
const log = (seq: number, stepId: string, message: string): RunEvent => ({ ...base, seq, at: `2026-11-22T10:00:${String(seq).padStart(2, '0')}.000Z`, kind: 'TASK_LOG', taskId: `task-${stepId}`, stepId, message, level: 'INFO', attempt: 1 });

/** A scheduler the test runs by hand, standing in for animation frames. */
function frames() {
  const pending: Array<() => void> = [];
  return { schedule: (flush: () => void) => void pending.push(flush), next: () => pending.splice(0).forEach((f) => f()), count: () => pending.length };
}

describe('the live run store', () => {
  it('applies the events of one frame together, with one notification', () => {
    const frame = frames();
    const store = new LiveRunStore(frame.schedule);
    store.setBase(run(2));
    let notified = 0;
    store.subscribe(() => (notified += 1));
    store.push(status(3, 'a', 'RUNNING'));
    store.push(log(4, 'a', 'working'));
    store.push(status(5, 'a', 'SUCCEEDED'));
    store.push(status(6, 'b', 'QUEUED'));
    // Nothing is applied before the frame, and one frame is asked for.
    expect(store.getSnapshot().run!.tasks[0]!.status).toBe('QUEUED');
    expect(frame.count()).toBe(1);
    frame.next();
    expect(notified).toBe(1);
    const { run: shown, logs } = store.getSnapshot();
    expect(shown!.tasks.map((t) => t.status)).toEqual(['SUCCEEDED', 'QUEUED']);
    expect(shown!.lastSeq).toBe(6);
    expect(logs.map((e) => e.message)).toEqual(['working']);
  });

  it('applies the events newer than a base fetched again, so the run never goes back in time', () => {
    const frame = frames();
    const store = new LiveRunStore(frame.schedule);
    store.setBase(run(2));
    store.push(status(3, 'a', 'RUNNING'));
    store.push(status(4, 'a', 'SUCCEEDED'));
    frame.next();
    // A fetch that reflects seq 3 only (it raced the event of seq 4).
    store.setBase(run(3, [task('a', 'RUNNING'), task('b')]));
    expect(store.getSnapshot().run!.tasks[0]!.status).toBe('SUCCEEDED');
    expect(store.lastSeq).toBe(4);
  });

  it('keeps the newest log lines only', () => {
    const frame = frames();
    const store = new LiveRunStore(frame.schedule, 3);
    store.setBase(run(0));
    for (let seq = 1; seq <= 5; seq += 1) store.push(log(seq, 'a', `line ${seq}`));
    frame.next();
    expect(store.getSnapshot().logs.map((e) => e.message)).toEqual(['line 3', 'line 4', 'line 5']);
  });

  it('patches wait reasons without notifying when nothing changed', () => {
    const store = new LiveRunStore(frames().schedule);
    store.setBase(run(0));
    let notified = 0;
    store.subscribe(() => (notified += 1));
    const reason = { kind: 'NO_WORKER' as const, message: 'no worker has capability sleep', since: '2026-11-22T10:00:00.000Z' };
    store.applyWaits([{ id: 'task-a', status: 'QUEUED', waitReason: reason }]);
    store.applyWaits([{ id: 'task-a', status: 'QUEUED', waitReason: { ...reason } }]);
    expect(notified).toBe(1);
    expect(store.getSnapshot().run!.tasks[0]!.waitReason).toEqual(reason);
  });

  it("fills in a forEach step's counts fetched after it expanded, with the item events after that fetch on top", () => {
    const frame = frames();
    const store = new LiveRunStore(frame.schedule);
    store.setBase(run(1, [task('each', 'RUNNING')]));
    const item = (seq: number, id: string, taskStatus: RunEvent['taskStatus']): RunEvent => ({ ...status(seq, 'each', taskStatus), taskId: id });
    store.push(item(2, 'i0', 'QUEUED'));
    store.push(item(3, 'i0', 'RUNNING'));
    store.push(item(4, 'i1', 'QUEUED'));
    frame.next();
    expect(store.getSnapshot().run!.tasks[0]!.itemCountsPartial).toBe(true);
    // Counted at seq 3: i0 running, i1 and i2 pending; the event of seq 4 is applied on top.
    store.applyItemCounts({ id: 'run-1', lastSeq: 3, tasks: [{ id: 'task-each', itemCounts: { total: 3, pending: 2, queued: 0, running: 1, succeeded: 0, failed: 0, cancelled: 0 } }] });
    const shown = store.getSnapshot().run!.tasks[0]!;
    expect(shown.itemCountsPartial).toBe(false);
    expect(shown.itemCounts).toEqual({ total: 3, pending: 1, queued: 1, running: 1, succeeded: 0, failed: 0, cancelled: 0 });
    // And later events move on from there.
    store.push(item(5, 'i0', 'SUCCEEDED'));
    frame.next();
    expect(store.getSnapshot().run!.tasks[0]!.itemCounts).toMatchObject({ running: 0, succeeded: 1 });
  });
});
