import type { RunEventOutputDelta } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { lockRuns } from '../../store/dispatch';
import type { AttemptRow, RunRow, TaskRow } from '../../store/rows';
import { updateTaskProgress } from '../../store/tasks';
import { createBatcher } from '../coalescer';
import type { TransitionContext } from '../transitions';
import { BATCH_MAX, BATCHES_AT_ONCE } from './batching';

/**
 * The events an Execute call streams (progress, log lines) are buffered per attempt and written in
 * batches (createEventBuffer); the batches of every attempt that arrive while such a write runs go
 * together into the next transaction (createAttemptEventWriter), so many concurrent streams cost a
 * few transactions a second, not one per batch each. What is still buffered when the call ends goes
 * into the transaction of its result. recordAttemptEvents turns a batch into run events and the
 * task's last progress. A kind of streamed event is a BufferedEvent case, its converter, and a
 * branch in recordAttemptEvents (token deltas: output-deltas.ts).
 */

export type BufferedEvent =
  | { kind: 'TASK_PROGRESS'; progress: number; message: string }
  | { kind: 'TASK_LOG'; level: string; message: string }
  /** Coalesced by output-deltas.ts. */
  | { kind: 'TASK_OUTPUT_DELTA'; delta: RunEventOutputDelta };

const LOG_LEVELS: Record<number, string> = { 1: 'DEBUG', 2: 'INFO', 3: 'WARN', 4: 'ERROR' };

/** A progress report, its fraction clamped to [0, 1]. */
export const progressEvent = (p: automationV1.Progress): BufferedEvent => ({ kind: 'TASK_PROGRESS', progress: Math.max(0, Math.min(1, p.fraction)), message: p.message });
/** A log line, its level named (INFO when unknown). */
export const logEvent = (l: automationV1.LogLine): BufferedEvent => ({ kind: 'TASK_LOG', level: LOG_LEVELS[l.level] ?? 'INFO', message: l.message });

/** The attempt whose events a buffer holds. */
export interface AttemptRef {
  run: RunRow;
  task: TaskRow;
  attempt: AttemptRow;
}

/**
 * Records a batch of an attempt's events in a transaction that holds its run's lock: one run event
 * each, and the task's progress set to the last progress report of the batch.
 */
export async function recordAttemptEvents(ctx: TransitionContext, { run, task, attempt }: AttemptRef, batch: readonly BufferedEvent[]): Promise<void> {
  let last: { progress: number; message: string } | undefined;
  const common = { taskId: task.id, stepId: task.stepId, attemptId: attempt.id, attempt: attempt.attempt };
  for (const e of batch) {
    if (e.kind === 'TASK_PROGRESS') {
      ctx.effects.event(run, { kind: 'TASK_PROGRESS', ...common, progress: e.progress, message: e.message || null });
      last = e;
    } else if (e.kind === 'TASK_OUTPUT_DELTA') {
      ctx.effects.event(run, { kind: 'TASK_OUTPUT_DELTA', ...common, outputDelta: e.delta });
    } else {
      ctx.effects.event(run, { kind: 'TASK_LOG', ...common, level: e.level, message: e.message });
    }
  }
  if (last) await updateTaskProgress(ctx.tx, task.id, last.progress, last.message || null);
}

/** Writes one attempt's batch; resolves when its transaction committed (its events are then published). */
export type AttemptEventWriter = (ref: AttemptRef, batch: BufferedEvent[]) => Promise<void>;

/**
 * One dispatcher's writer of streamed event batches: alone, a batch is written at once in a
 * transaction of its own; the batches that arrive while one is being written (other attempts',
 * e.g. many models streaming at once) are written together by the next, their runs locked in id
 * order like every other change of a run. A failing group is written again one batch per
 * transaction, so one bad batch loses only itself. An attempt's own batches stay in order: its
 * buffer hands the next one over only after the last was written.
 */
export function createAttemptEventWriter({ change, onGroupFailure }: { change: <T>(fn: (ctx: TransitionContext) => Promise<T>) => Promise<T>; onGroupFailure?: (error: unknown, size: number) => void }): AttemptEventWriter {
  const write = createBatcher<{ ref: AttemptRef; batch: BufferedEvent[] }, void>({
    apply: (writes) =>
      change(async (ctx) => {
        await lockRuns(
          ctx.tx,
          writes.map((w) => w.ref.run.id),
        );
        for (const w of writes) await recordAttemptEvents(ctx, w.ref, w.batch);
        return writes.map(() => undefined);
      }),
    maxBatch: BATCH_MAX,
    parallel: BATCHES_AT_ONCE,
    ...(onGroupFailure ? { onBatchFailure: onGroupFailure } : {}),
  });
  return (ref, batch) => write({ ref, batch });
}

export interface EventBuffer {
  push(event: BufferedEvent): void;
  /** Writes what is buffered now; resolves when every batch taken so far is written (or given up). */
  flush(): Promise<void>;
  /** Once the call has ended: waits for the batches being written and takes the rest (for the result's transaction). */
  rest(): Promise<BufferedEvent[]>;
}

export interface EventBufferOptions {
  /** Writes one batch (in a transaction of its own). Batches are written one after the other, in order. */
  write: (batch: BufferedEvent[]) => Promise<void>;
  /** A batch is written this long after its first event ... */
  flushIntervalMs: number;
  /** ... or as soon as this many are buffered. */
  maxBuffered?: number;
  /** A batch that could not be written is dropped (the attempt goes on); told here. */
  onWriteFailure: (error: unknown, dropped: number) => void;
}

export function createEventBuffer({ write, flushIntervalMs, maxBuffered = 200, onWriteFailure }: EventBufferOptions): EventBuffer {
  let pending: BufferedEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const take = (): BufferedEvent[] => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    return batch;
  };
  const flush = (): Promise<void> => {
    const batch = take();
    if (batch.length > 0) chain = chain.then(() => write(batch)).catch((error: unknown) => onWriteFailure(error, batch.length));
    return chain;
  };
  return {
    push(event) {
      pending.push(event);
      if (pending.length >= maxBuffered) void flush();
      else timer ??= setTimeout(() => void flush(), flushIntervalMs);
    },
    flush,
    async rest() {
      await chain;
      return take();
    },
  };
}
