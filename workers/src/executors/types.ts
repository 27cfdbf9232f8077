import type { GuardedFetch } from '@orchestra/lib';
import type { z } from 'zod';

/** What an executor may return: plain JSON (it travels as a google.protobuf.Value). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ExecutorLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Everything an executor gets besides its parsed input. */
export interface ExecutorContext {
  /** Aborts on Cancel, a client that went away, the deadline, a heartbeat cancel or shutdown. */
  signal: AbortSignal;
  attemptId: string;
  taskId: string;
  runId: string;
  orgId: string;
  stepId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Reports how far along the task is (0..1); streamed to the orchestrator. */
  progress(fraction: number, message?: string): void;
  /** A log line of the task, streamed to the orchestrator and written to the worker's log with the task's ids. */
  log(level: ExecutorLogLevel, message: string): void;
}

/**
 * One kind of task a worker can run, named by its capability. The worker validates the request's
 * input with `input` first (a failure becomes a non-retryable BAD_INPUT naming the field), then
 * calls `run`. To fail, throw:
 * - `NonRetryableError(code, message)` (from @orchestra/lib) when a retry cannot help;
 * - `RetryableError(code, message)` when it may (a network blip, a 503);
 * - anything else counts as a retryable EXECUTOR_ERROR.
 * When `ctx.signal` aborts, stop soon and throw (anything): the worker reports the abort itself.
 */
export interface Executor<I = unknown> {
  capability: string;
  /** One line for Describe and the docs. */
  description: string;
  input: z.ZodType<I>;
  run(input: I, ctx: ExecutorContext): Promise<JsonValue>;
}

/** What the worker hands every executor factory. */
export interface ExecutorEnvironment {
  /** A fetch that refuses private networks unless the worker allows them. */
  fetch: GuardedFetch;
}

export type ExecutorFactory = (environment: ExecutorEnvironment) => Executor<never>;

/** Ties an executor's input type to its schema so `run` is checked against it. */
export const defineExecutor = <I>(executor: Executor<I>): Executor<never> => executor as unknown as Executor<never>;

/** A failure that another attempt may not repeat (the remote side was down, rate limited us...). */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
