import { createEventBuffer, logEvent, progressEvent, type BufferedEvent } from './event-buffer';

const progress = (n: number): BufferedEvent => ({ kind: 'TASK_PROGRESS', progress: n, message: '' });

function buffer(options: { maxBuffered?: number; fail?: boolean } = {}) {
  const written: BufferedEvent[][] = [];
  const failures: number[] = [];
  const b = createEventBuffer({
    flushIntervalMs: 50,
    ...(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered }),
    write: async (batch) => {
      await Promise.resolve();
      if (options.fail) throw new Error('database away');
      written.push(batch);
    },
    onWriteFailure: (_error, dropped) => failures.push(dropped),
  });
  return { b, written, failures };
}

afterEach(() => jest.useRealTimers());

describe('createEventBuffer', () => {
  it('writes what arrived within the flush interval as one batch', async () => {
    jest.useFakeTimers();
    const { b, written } = buffer();
    b.push(progress(0.1));
    b.push(progress(0.2));
    expect(written).toEqual([]);
    await jest.advanceTimersByTimeAsync(50);
    expect(written).toEqual([[progress(0.1), progress(0.2)]]);
  });

  it('writes at once when the buffer is full, in order', async () => {
    const { b, written } = buffer({ maxBuffered: 2 });
    b.push(progress(0.1));
    b.push(progress(0.2));
    b.push(progress(0.3));
    await b.flush();
    expect(written).toEqual([[progress(0.1), progress(0.2)], [progress(0.3)]]);
  });

  it('hands what is still buffered at the end to the result, after the batches under way are written', async () => {
    const { b, written } = buffer({ maxBuffered: 2 });
    b.push(progress(0.1));
    b.push(progress(0.2));
    b.push(progress(0.3));
    expect(await b.rest()).toEqual([progress(0.3)]);
    expect(written).toEqual([[progress(0.1), progress(0.2)]]);
    expect(await b.rest()).toEqual([]);
  });

  it('drops a batch it cannot write, says how many, and goes on', async () => {
    const { b, failures } = buffer({ fail: true });
    b.push(progress(0.1));
    b.push(progress(0.2));
    await b.flush();
    expect(failures).toEqual([2]);
    b.push(progress(0.3));
    await b.flush();
    expect(failures).toEqual([2, 1]);
  });
});

describe('streamed events', () => {
  it('clamp progress to [0, 1] and name log levels (INFO when unknown)', () => {
    expect(progressEvent({ fraction: 1.7, message: 'm' })).toEqual({ kind: 'TASK_PROGRESS', progress: 1, message: 'm' });
    expect(progressEvent({ fraction: -1, message: '' })).toMatchObject({ progress: 0 });
    expect([1, 2, 3, 4, 9].map((level) => logEvent({ level, message: 'x' }))).toEqual(
      ['DEBUG', 'INFO', 'WARN', 'ERROR', 'INFO'].map((name) => ({ kind: 'TASK_LOG', level: name, message: 'x' })),
    );
  });
});
