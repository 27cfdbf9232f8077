import type { BufferedEvent } from './event-buffer';
import { createEventGate } from './event-gate';

const progress = (n: number): BufferedEvent => ({ kind: 'TASK_PROGRESS', progress: n, message: `${n}` });
const line = (n: number): BufferedEvent => ({ kind: 'TASK_LOG', level: 'INFO', message: `line ${n}` });

afterEach(() => jest.useRealTimers());

describe('createEventGate (issue 9 item 13)', () => {
  it('coalesces progress to one report per interval, keeping the latest, and never loses the last', async () => {
    jest.useFakeTimers();
    const seen: BufferedEvent[] = [];
    const gate = createEventGate({ sink: (e) => seen.push(e), progressIntervalMs: 1_000, logPerSecond: 10, logBurst: 10, maxLogLines: 100 });
    // A sleep with progressEveryMs: 10 for 3 seconds: 300 reports.
    for (let i = 1; i <= 300; i += 1) {
      gate.offer(progress(i / 300));
      await jest.advanceTimersByTimeAsync(10);
    }
    gate.offer(progress(1));
    gate.close();
    expect(seen.length).toBeLessThanOrEqual(5);
    expect(seen[0]).toEqual(progress(1 / 300));
    expect(seen.at(-1)).toEqual(progress(1));
    // Progress only goes forward in what was written.
    const values = seen.map((e) => (e.kind === 'TASK_PROGRESS' ? e.progress : -1));
    expect([...values].sort((a, b) => a - b)).toEqual(values);
  });

  it('lets log lines through at a bounded rate and count, and says how many it dropped', async () => {
    jest.useFakeTimers();
    const seen: BufferedEvent[] = [];
    const gate = createEventGate({ sink: (e) => seen.push(e), progressIntervalMs: 1_000, logPerSecond: 10, logBurst: 20, maxLogLines: 50 });
    for (let i = 0; i < 1_000; i += 1) gate.offer(line(i));
    expect(seen).toHaveLength(20);
    // Ten seconds later the bucket is full again, but at most 50 lines in all.
    await jest.advanceTimersByTimeAsync(10_000);
    for (let i = 0; i < 1_000; i += 1) gate.offer(line(i));
    expect(seen).toHaveLength(40);
    await jest.advanceTimersByTimeAsync(10_000);
    for (let i = 0; i < 1_000; i += 1) gate.offer(line(i));
    expect(seen).toHaveLength(50);
    gate.close();
    expect(seen.at(-1)).toEqual({ kind: 'TASK_LOG', level: 'WARN', message: expect.stringContaining('2950 log lines of this attempt were dropped') });
  });
});
