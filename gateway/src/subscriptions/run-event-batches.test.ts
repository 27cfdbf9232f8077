import type { RunEvent } from '@orchestra/lib/gateway';
import { batchingSink, type BatchTimers, type RunEventBatch } from './run-event-batches';

const event = (seq: number, fields: Partial<RunEvent> = {}): RunEvent => ({
  runId: 'r',
  orgId: 'o',
  workflowId: 'w',
  seq,
  kind: 'TASK_STATUS',
  at: new Date(0).toISOString(),
  runStatus: null,
  taskId: `t${seq}`,
  stepId: 'each',
  taskStatus: 'RUNNING',
  attemptId: null,
  attempt: 1,
  progress: null,
  message: null,
  level: null,
  error: null,
  ...fields,
});

/** Timers run by hand. */
function manualTimers(): BatchTimers & { fire(): void; pending(): number } {
  const waiting = new Map<number, () => void>();
  let next = 0;
  return {
    set(run) {
      next += 1;
      waiting.set(next, run);
      return next;
    },
    clear: (handle) => void waiting.delete(handle as number),
    fire() {
      const runs = [...waiting.values()];
      waiting.clear();
      for (const run of runs) run();
    },
    pending: () => waiting.size,
  };
}

function collect() {
  const got: { batches: RunEventBatch[]; completed: boolean; failed: unknown } = { batches: [], completed: false, failed: undefined };
  return {
    got,
    sink: { offer: (b: RunEventBatch) => void got.batches.push(b), complete: () => void (got.completed = true), fail: (e: unknown) => void (got.failed = e) },
  };
}

describe('batchingSink', () => {
  it('sends the events of one window as one batch, in order, and starts a new window after', () => {
    const timers = manualTimers();
    const { got, sink } = collect();
    const batches = batchingSink('r', sink, { windowMs: 200, maxEvents: 100, timers });
    batches.offer(event(1));
    batches.offer(event(2));
    batches.offer(event(3));
    expect(got.batches).toEqual([]);
    expect(timers.pending()).toBe(1);
    timers.fire();
    expect(got.batches.map((b) => [b.firstSeq, b.lastSeq, b.events.map((e) => e.seq)])).toEqual([[1, 3, [1, 2, 3]]]);
    batches.offer(event(4));
    timers.fire();
    expect(got.batches.map((b) => b.events.map((e) => e.seq))).toEqual([[1, 2, 3], [4]]);
  });

  it('sends a full batch at once, and the final status at once, then completes after what is left', () => {
    const timers = manualTimers();
    const { got, sink } = collect();
    const batches = batchingSink('r', sink, { windowMs: 200, maxEvents: 3, timers });
    for (const seq of [1, 2, 3, 4]) batches.offer(event(seq));
    expect(got.batches.map((b) => b.events.map((e) => e.seq))).toEqual([[1, 2, 3]]);
    batches.offer(event(5, { kind: 'RUN_STATUS', runStatus: 'SUCCEEDED', taskId: null, stepId: null, taskStatus: null }));
    expect(got.batches.map((b) => b.events.map((e) => e.seq))).toEqual([[1, 2, 3], [4, 5]]);
    expect(timers.pending()).toBe(0);
    batches.complete();
    expect(got.completed).toBe(true);
    // Nothing after the end.
    batches.offer(event(6));
    timers.fire();
    expect(got.batches).toHaveLength(2);
  });

  it('leaves out what the filter does not keep, counting it in the seqs covered, and sends no empty batch', () => {
    const timers = manualTimers();
    const { got, sink } = collect();
    const batches = batchingSink('r', sink, { windowMs: 200, maxEvents: 100, timers, keep: (e) => e.kind !== 'TASK_PROGRESS' });
    batches.offer(event(1, { kind: 'TASK_PROGRESS', progress: 0.5 }));
    timers.fire();
    expect(got.batches).toEqual([]);
    batches.offer(event(2, { kind: 'TASK_PROGRESS', progress: 0.6 }));
    batches.offer(event(3));
    batches.offer(event(4, { kind: 'TASK_PROGRESS', progress: 0.7 }));
    timers.fire();
    expect(got.batches.map((b) => [b.firstSeq, b.lastSeq, b.events.map((e) => e.seq)])).toEqual([[2, 4, [3]]]);
  });

  it('sends what it gathered before a failure, and drops it when the subscriber leaves', () => {
    const timers = manualTimers();
    const first = collect();
    const failing = batchingSink('r', first.sink, { windowMs: 200, maxEvents: 100, timers });
    failing.offer(event(1));
    const error = new Error('stream failed');
    failing.fail(error);
    expect(first.got.batches.map((b) => b.lastSeq)).toEqual([1]);
    expect(first.got.failed).toBe(error);

    const second = collect();
    const leaving = batchingSink('r', second.sink, { windowMs: 200, maxEvents: 100, timers });
    leaving.offer(event(1));
    leaving.cancel();
    expect(timers.pending()).toBe(0);
    timers.fire();
    expect(second.got.batches).toEqual([]);
  });
});
