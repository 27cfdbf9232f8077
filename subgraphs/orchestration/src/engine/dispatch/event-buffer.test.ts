import type { PoolClient } from 'pg';
import type { AttemptRow, RunRow, TaskRow } from '../../store/rows';
import type { TransactionEffects } from '../effects';
import type { TransitionContext } from '../transitions';
import { createAttemptEventWriter, createEventBuffer, logEvent, progressEvent, type AttemptRef, type BufferedEvent } from './event-buffer';

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

/**
 * The writer's grouping, against a recording transaction: what each transaction locked and which
 * attempts' events it recorded. (That the rows and events are right in PostgreSQL is tested through
 * the dispatcher: llm/llm-streaming.test.ts, concurrent streams.)
 */
describe('createAttemptEventWriter', () => {
  const ref = (n: number): AttemptRef => ({
    run: { id: `run-${n}`, orgId: 'org', workflowId: 'wf' } as RunRow,
    task: { id: `task-${n}`, stepId: `step-${n}` } as TaskRow,
    attempt: { id: `attempt-${n}`, attempt: 1 } as AttemptRow,
  });
  interface Tx {
    locked: string[];
    recorded: string[];
  }

  function writer({ failGroups = false, failAttempt }: { failGroups?: boolean; failAttempt?: string } = {}) {
    const txs: Tx[] = [];
    let hold: Promise<void> | undefined;
    const groupFailures: number[] = [];
    const write = createAttemptEventWriter({
      async change<T>(fn: (ctx: TransitionContext) => Promise<T>): Promise<T> {
        const tx: Tx = { locked: [], recorded: [] };
        const client = {
          query: async (q: { name?: string; values?: unknown[] } | string, values?: unknown[]) => {
            if (typeof q === 'object' && q.name === 'orchestration.lockRuns') tx.locked.push(...((q.values?.[0] as string[]) ?? []));
            void values;
            return { rows: [] };
          },
        } as unknown as PoolClient;
        const effects = {
          event: (_run: unknown, fields: { attemptId?: string; kind: string }) => {
            if (fields.attemptId === failAttempt) throw new Error(`cannot record ${failAttempt}`);
            tx.recorded.push(`${fields.attemptId}:${fields.kind}`);
          },
        } as unknown as TransactionEffects;
        const result = await fn({ tx: client, effects, maxLostAttempts: 3 });
        if (hold) await hold;
        if (failGroups && tx.recorded.length > 1) throw new Error('the group failed');
        txs.push(tx);
        return result;
      },
      onGroupFailure: (_error, size) => groupFailures.push(size),
    });
    const holdWith = (p: Promise<void> | undefined): void => {
      hold = p;
    };
    return { write, txs, groupFailures, holdWith };
  }

  it('writes a batch that comes alone at once, in a transaction of its own, its run locked', async () => {
    const { write, txs } = writer();
    await write(ref(1), [progress(0.5)]);
    expect(txs).toEqual([{ locked: ['run-1'], recorded: ['attempt-1:TASK_PROGRESS'] }]);
  });

  it('writes the batches that arrive while transactions run together in the next one, runs locked in one statement', async () => {
    const { write, txs, holdWith } = writer();
    let release!: () => void;
    holdWith(new Promise<void>((resolve) => (release = resolve)));
    // Two transactions at once (BATCHES_AT_ONCE) are taken by the first two; the other 30 wait and go together.
    const first = [write(ref(1), [progress(0.1)]), write(ref(2), [progress(0.1)])];
    await Promise.resolve();
    const rest = Array.from({ length: 30 }, (_, i) => write(ref(i + 3), [progress(0.2), { kind: 'TASK_LOG', level: 'INFO', message: 'x' }]));
    holdWith(undefined);
    release();
    await Promise.all([...first, ...rest]);
    expect(txs).toHaveLength(3);
    const group = txs.find((tx) => tx.locked.length === 30)!;
    expect(group.locked).toEqual(Array.from({ length: 30 }, (_, i) => `run-${i + 3}`));
    expect(group.recorded).toEqual(Array.from({ length: 30 }, (_, i) => [`attempt-${i + 3}:TASK_PROGRESS`, `attempt-${i + 3}:TASK_LOG`]).flat());
  });

  it('writes a failing group again one batch per transaction, so a bad batch fails only its own write', async () => {
    const { write, txs, groupFailures, holdWith } = writer({ failGroups: true, failAttempt: 'attempt-4' });
    let release!: () => void;
    holdWith(new Promise<void>((resolve) => (release = resolve)));
    const first = [write(ref(1), [progress(0.1)]), write(ref(2), [progress(0.1)])];
    await Promise.resolve();
    const rest = [3, 4, 5].map((n) => write(ref(n), [progress(0.3)]));
    holdWith(undefined);
    release();
    const settled = await Promise.allSettled([...first, ...rest]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(groupFailures).toEqual([3]);
    expect(txs.map((tx) => tx.recorded).sort()).toEqual([['attempt-1:TASK_PROGRESS'], ['attempt-2:TASK_PROGRESS'], ['attempt-3:TASK_PROGRESS'], ['attempt-5:TASK_PROGRESS']]);
  });
});
