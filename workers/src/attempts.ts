import {
  AppError,
  boundLogger,
  MAX_JSON_DEPTH,
  MAX_TASK_VALUE_BYTES,
  NonRetryableError,
  badInput,
  measureJson,
  wellFormedJson,
  WORKER_ABORTS,
  endSpan,
  SpanKind,
  startSpan,
  traceIdOf,
  type ArtifactLimits,
  type ArtifactStore,
  type Logger,
  type Metrics,
  type WorkerAbortKind,
} from '@orchestra/lib/worker';
import { createAttemptArtifacts, type AttemptArtifacts } from './artifact-writer';
import { maskResult, maskerOf, providersOf } from './attempt-request';
import { automationV1 } from '@orchestra/proto';
import { RetryableError, type Executor, type ExecutorContext, type ExecutorLogLevel, type JsonValue } from './executors/types';

type ExecuteEvent = automationV1.ExecuteResponse;
type TaskResult = automationV1.TaskResult;

/** Why an attempt was stopped from outside; decides the failure code and whether a retry may help (lib WORKER_ABORTS). */
export type AbortKind = WorkerAbortKind;

const LOG_LEVELS: Record<ExecutorLogLevel, automationV1.LogLevel> = {
  debug: automationV1.LogLevel.LOG_LEVEL_DEBUG,
  info: automationV1.LogLevel.LOG_LEVEL_INFO,
  warn: automationV1.LogLevel.LOG_LEVEL_WARN,
  error: automationV1.LogLevel.LOG_LEVEL_ERROR,
};

/** Finished attempts are remembered this long, so a duplicate Execute gets the result instead of a re-run. */
const RECENT_TTL_MS = 15 * 60 * 1000;
const RECENT_MAX = 2_000;
/** ...and within this many bytes of output in total (outputs can be megabytes of HTTP body). */
const RECENT_MAX_BYTES = 32 * 1024 * 1024;
/** A call that ends this close to its deadline ended because of it. */
const DEADLINE_SLACK_MS = 250;
/** How long aborted attempts get to end during shutdown. */
const ABORT_SETTLE_MS = 5_000;

type Subscriber = (event: ExecuteEvent) => void;

/** One task attempt on this worker: its executor run, who is watching it and how it ended. */
export interface Attempt {
  id: string;
  request: automationV1.ExecuteRequest;
  /** Resolves with the one final result (never rejects). */
  done: Promise<TaskResult>;
  /** Adds a watcher of its progress and log events; returns the removal. */
  subscribe(subscriber: Subscriber): () => void;
  abort(kind: AbortKind, message: string): boolean;
  /** How many callers are watching it. */
  watchers(): number;
  readonly finished: boolean;
}

export interface AttemptTableOptions {
  slots: number;
  executors: ReadonlyMap<string, Executor<never>>;
  log: Logger;
  metrics?: Metrics | undefined;
  /** Where attempts keep their files (absent: an executor that stores one fails NO_ARTIFACT_STORE). */
  artifactStore?: ArtifactStore | undefined;
  artifactLimits?: ArtifactLimits;
}

const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = { maxBytes: 25 * 1024 * 1024, maxAttemptBytes: 100 * 1024 * 1024 };

/** The attempts a worker runs: slot accounting, de-duplication by attempt id, cancellation, drain. */
export interface AttemptTable {
  /**
   * Starts the attempt, or joins it when the same attempt id is already running or finished recently
   * (an attempt never runs twice). `subscriber` is attached before the executor starts.
   */
  open(request: automationV1.ExecuteRequest, subscriber: Subscriber): { attempt: Attempt; joined: boolean; unsubscribe: () => void };
  /** A watcher left; the attempt is aborted when nobody is watching it any more. */
  release(attempt: Attempt, unsubscribe: () => void, deadline: Date | undefined): void;
  cancel(attemptId: string, kind: AbortKind, message: string): boolean;
  /** The result of an attempt that finished here recently. */
  recent(attemptId: string): TaskResult | undefined;
  runningIds(): string[];
  freeSlots(): number;
  readonly accepting: boolean;
  /** Refuses new attempts, waits up to `graceMs` for running ones, then aborts the rest and waits for them to end. */
  drain(graceMs: number): Promise<void>;
}

const toJson = (value: JsonValue | undefined): JsonValue => (value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue));

const failure = (code: string, message: string, retryable: boolean, durationMs: number, retryAfterMs = 0): TaskResult => ({
  outcome: { $case: 'failure', value: { code, message, retryable, retryAfterMs } },
  durationMs,
});

const inputError = (issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string =>
  issues
    .slice(0, 3)
    .map((issue) => `${['input', ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');

export function createAttemptTable({ slots, executors, log, metrics, artifactStore, artifactLimits = DEFAULT_ARTIFACT_LIMITS }: AttemptTableOptions): AttemptTable {
  const running = new Map<string, Attempt>();
  const recentResults = new Map<string, { result: TaskResult; at: number; bytes: number }>();
  let recentBytes = 0;
  let accepting = true;
  const busy = metrics?.gauge('worker_slots_busy', 'Task attempts running on this worker');
  const finishedTotal = metrics?.counter('worker_attempts_total', 'Task attempts finished, by capability and outcome', ['capability', 'outcome']);
  const durations = metrics?.histogram('worker_attempt_duration_seconds', 'Task attempt duration', ['capability'], [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800]);

  /** `bytes`: the output's size as measured when it was checked (not encoded once more to weigh it). */
  const remember = (id: string, result: TaskResult, bytes: number) => {
    const now = Date.now();
    // Oldest first: drop what expired or does not fit.
    for (const [key, entry] of recentResults) {
      if (recentResults.size < RECENT_MAX && recentBytes + bytes <= RECENT_MAX_BYTES && now - entry.at < RECENT_TTL_MS) break;
      recentResults.delete(key);
      recentBytes -= entry.bytes;
    }
    recentResults.set(id, { result, at: now, bytes });
    recentBytes += bytes;
  };

  const recent = (attemptId: string): TaskResult | undefined => {
    const entry = recentResults.get(attemptId);
    if (!entry || Date.now() - entry.at > RECENT_TTL_MS) return undefined;
    return entry.result;
  };

  const finishedAttempt = (request: automationV1.ExecuteRequest, result: TaskResult): Attempt => ({
    id: request.attemptId,
    request,
    done: Promise.resolve(result),
    subscribe: () => () => undefined,
    abort: () => false,
    watchers: () => 0,
    finished: true,
  });

  const start = (request: automationV1.ExecuteRequest, executor: Executor<never>): Attempt => {
    // Made when the executor first reads its signal or the attempt is aborted: a noop does neither, and an
    // AbortController with its signal per attempt was ~1.5% of a worker's CPU on noop tasks.
    let controller: AbortController | undefined;
    const controlled = () => (controller ??= new AbortController());
    const subscribers = new Set<Subscriber>();
    // Its secrets and providers' keys: masked in everything that leaves the attempt.
    const masker = maskerOf(request);
    let aborted: { kind: AbortKind; message: string } | undefined;
    let finished = false;
    // The execution's span, under the dispatcher's (the traceparent the Execute call carries).
    const traced = startSpan(`run ${request.capability}`, request.traceparent === '' ? undefined : request.traceparent, SpanKind.SERVER, {
      'orchestra.run_id': request.runId,
      'orchestra.task_id': request.taskId,
      'orchestra.step_id': request.stepId,
      'orchestra.attempt_id': request.attemptId,
      'orchestra.attempt': request.attempt,
    });
    // Bound, not a child: an attempt writes a line or two, and a pino child would serialize its bindings once more.
    const attemptLog = boundLogger(log, {
      attemptId: request.attemptId,
      taskId: request.taskId,
      runId: request.runId,
      stepId: request.stepId,
      orgId: request.orgId,
      capability: request.capability,
      // The trace id joins the line to the dispatcher's (which carries no traceparent either).
      ...(request.traceparent === '' ? {} : { traceId: traceIdOf(request.traceparent) }),
    });
    const emit = (event: ExecuteEvent) => {
      if (finished) return;
      for (const subscriber of subscribers) subscriber(event);
    };
    const abort = (kind: AbortKind, message: string): boolean => {
      if (finished || aborted) return false;
      aborted = { kind, message };
      attemptLog.info('attempt aborting', { abort: kind, reason: message });
      controlled().abort(new AppError(kind === 'TIMEOUT' ? 'UNAVAILABLE' : 'CONFLICT', message, { reason: kind }));
      return true;
    };
    // Made by the first artifact stored: most attempts store none.
    let artifacts: AttemptArtifacts | undefined;
    const artifactWriter = () =>
      (artifacts ??= createAttemptArtifacts({
        store: artifactStore,
        limits: artifactLimits,
        request,
        report(artifact) {
          attemptLog.info('artifact stored', { artifact: artifact.name, contentType: artifact.contentType, sizeBytes: artifact.sizeBytes, sha256: artifact.sha256 });
          emit({ event: { $case: 'artifact', value: artifact } });
        },
      }));
    const ctx: ExecutorContext = {
      get signal() {
        return controlled().signal;
      },
      attemptId: request.attemptId,
      taskId: request.taskId,
      runId: request.runId,
      orgId: request.orgId,
      stepId: request.stepId,
      attempt: request.attempt,
      progress(fraction, text = '') {
        const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
        const message = masker.text(text);
        attemptLog.debug('attempt progress', { fraction: clamped, progress: message });
        emit({ event: { $case: 'progress', value: { fraction: clamped, message } } });
      },
      log(level, text) {
        const message = masker.text(text);
        attemptLog[level](message, { source: 'executor' });
        emit({ event: { $case: 'log', value: { level: LOG_LEVELS[level], message, at: new Date() } } });
      },
      delta(text, options) {
        if (text === '' && options?.restart !== true) return;
        // Masked piece by piece: a secret split across two deltas is caught in the final output only.
        emit({ event: { $case: 'delta', value: { text: masker.text(text), restart: options?.restart === true } } });
      },
      modelCall(call) {
        attemptLog.debug('model call', { provider: call.provider, model: call.model, promptTokens: call.promptTokens, completionTokens: call.completionTokens, ttftMs: call.ttftMs, error: call.error?.code });
        emit({
          event: {
            $case: 'modelCall',
            value: {
              provider: call.provider,
              model: call.model,
              requestedModel: call.requestedModel,
              promptTokens: Math.max(0, Math.round(call.promptTokens)),
              completionTokens: Math.max(0, Math.round(call.completionTokens)),
              ttftMs: Math.max(0, Math.round(call.ttftMs)),
              durationMs: Math.max(0, Math.round(call.durationMs)),
              costUsd: call.costUsd,
              errorCode: call.error?.code ?? '',
              errorMessage: masker.text(call.error?.message ?? ''),
            },
          },
        });
      },
      llmProviders: providersOf(request),
      gpus: request.gpuIndices,
      storeArtifact: (name, body, contentType) => artifactWriter().store(name, body, contentType),
      artifactsStored: () => artifacts?.list() ?? [],
    };

    const timer =
      request.timeoutMs > 0 ? setTimeout(() => abort('TIMEOUT', `the attempt ran past its timeout of ${request.timeoutMs} ms`), request.timeoutMs) : undefined;
    timer?.unref();

    // A failure's weight in the recent results; a success's is its output's measured size.
    let outputBytes = 256;
    const run = async (): Promise<TaskResult> => {
      const started = Date.now();
      const took = () => Date.now() - started;
      const aborting = (): TaskResult => {
        const { kind, message } = aborted ?? { kind: 'ABORTED' as const, message: 'aborted' };
        const { code, retryable } = WORKER_ABORTS[kind];
        return failure(code, message, retryable, took());
      };
      // At debug: 'attempt finished' says at info that it ran (one info line per attempt; two were ~15% of a worker's CPU on noop tasks).
      attemptLog.debug('attempt started', { attempt: request.attempt, timeoutMs: request.timeoutMs });
      // The caller subscribes right after start() returns: nothing is emitted before this tick.
      await Promise.resolve();
      // The task's log says which of this worker's GPUs it was placed on (executors read ctx.gpus).
      if (request.gpuIndices.length > 0) ctx.log('info', `running on GPU ${request.gpuIndices.join(', ')} of this worker`);
      const parsed = executor.input.safeParse(request.input);
      if (!parsed.success) return failure('BAD_INPUT', inputError(parsed.error.issues), false, took());
      try {
        const output = await executor.run(parsed.data, ctx);
        if (aborted) return aborting();
        // Every output fits in one Execute message and decodes on the other side (issue 9 items 7, 8):
        // a larger or deeper one fails here, without a retry (the same input makes the same output).
        const { bytes, violation } = measureJson(output, { maxBytes: MAX_TASK_VALUE_BYTES, text: false }, 'output');
        if (violation?.reason === 'JSON_TOO_LARGE') return failure('RESULT_TOO_LARGE', `the output is larger than the limit of ${MAX_TASK_VALUE_BYTES} bytes (${bytes}+ bytes as encoded)`, false, took());
        if (violation !== undefined) return failure('OUTPUT_TOO_DEEP', `${violation.path} ${violation.message} (the limit of a task's output is ${MAX_JSON_DEPTH})`, false, took());
        outputBytes = bytes;
        // Text from outside (a web page, a model) may hold what PostgreSQL cannot store: U+FFFD instead.
        return { outcome: { $case: 'success', value: { output: wellFormedJson(toJson(output)) } }, durationMs: took() };
      } catch (error) {
        if (aborted) return aborting();
        if (error instanceof NonRetryableError) return failure(error.code, error.message, false, took());
        if (error instanceof RetryableError) return failure(error.code, error.message, true, took(), error.retryAfterMs);
        // With secrets in play the error is logged as masked text (its message or stack may hold a value).
        attemptLog.error('executor failed', masker.active ? { error: masker.text(error instanceof Error ? (error.stack ?? error.message) : String(error)) } : { err: error });
        return failure('EXECUTOR_ERROR', error instanceof Error ? error.message : String(error), true, took());
      }
    };

    const done = run().then((unmasked) => {
      const result = maskResult(unmasked, masker);
      finished = true;
      clearTimeout(timer);
      running.delete(request.attemptId);
      remember(request.attemptId, result, outputBytes);
      busy?.set(running.size);
      const outcome = result.outcome?.$case === 'failure' ? result.outcome.value : undefined;
      finishedTotal?.inc({ capability: request.capability, outcome: outcome ? outcome.code : 'SUCCESS' });
      durations?.observe({ capability: request.capability }, result.durationMs / 1000);
      attemptLog.info('attempt finished', {
        outcome: outcome ? 'failure' : 'success',
        durationMs: result.durationMs,
        ...(outcome ? { code: outcome.code, retryable: outcome.retryable, error: outcome.message } : {}),
      });
      endSpan(traced.span, { attributes: { 'orchestra.outcome': outcome ? outcome.code : 'SUCCESS' }, failure: outcome ? `${outcome.code}: ${outcome.message}` : undefined });
      return result;
    });

    return {
      id: request.attemptId,
      request,
      done,
      subscribe(subscriber) {
        if (!finished) subscribers.add(subscriber);
        return () => subscribers.delete(subscriber);
      },
      abort,
      watchers: () => subscribers.size,
      get finished() {
        return finished;
      },
    };
  };

  return {
    open(request, subscriber) {
      if (request.attemptId.trim() === '') throw badInput('attempt_id', 'attempt_id is required', 'REQUIRED');
      const existing = running.get(request.attemptId);
      if (existing) return { attempt: existing, joined: true, unsubscribe: existing.subscribe(subscriber) };
      const previous = recent(request.attemptId);
      if (previous) return { attempt: finishedAttempt(request, previous), joined: true, unsubscribe: () => undefined };
      if (request.capability.trim() === '') throw badInput('capability', 'capability is required', 'REQUIRED');
      const executor = executors.get(request.capability);
      if (!executor) {
        throw new AppError('BAD_USER_INPUT', `this worker has no executor for capability ${JSON.stringify(request.capability)} (it offers ${[...executors.keys()].join(', ')})`, {
          field: 'capability',
          reason: 'UNKNOWN_CAPABILITY',
        });
      }
      if (!accepting) throw new AppError('UNAVAILABLE', 'this worker is shutting down and takes no new attempts', { reason: 'WORKER_DRAINING' });
      const budget = executor.concurrency;
      if (budget !== undefined) {
        // Every executor naming the budget counts: a browser attempt takes a context browser.agent would use.
        const sharing = [...running.values()].filter((a) => executors.get(a.request.capability)?.concurrency?.budget === budget.budget).length;
        if (sharing >= budget.limit) {
          const capabilities = [...executors.values()].filter((e) => e.concurrency?.budget === budget.budget).map((e) => e.capability);
          throw new AppError('RATE_LIMITED', `this worker runs at most ${budget.limit} ${capabilities.join(' + ')} attempts at once (its ${budget.budget} budget)`, {
            reason: 'NO_FREE_SLOT',
            details: { slots: budget.limit, budget: budget.budget },
          });
        }
      }
      if (running.size >= slots) {
        throw new AppError('RATE_LIMITED', `all ${slots} slots of this worker are busy`, { reason: 'NO_FREE_SLOT', details: { slots } });
      }
      const attempt = start(request, executor);
      const unsubscribe = attempt.subscribe(subscriber);
      running.set(attempt.id, attempt);
      busy?.set(running.size);
      return { attempt, joined: false, unsubscribe };
    },
    release(attempt, unsubscribe, deadline) {
      unsubscribe();
      if (attempt.finished || attempt.watchers() > 0) return;
      // The client's own deadline timer usually cancels the call a little before the server's copy of
      // the deadline (computed when the call arrived) runs out, so "close to the deadline" is a timeout.
      if (deadline !== undefined && deadline.getTime() <= Date.now() + DEADLINE_SLACK_MS) attempt.abort('TIMEOUT', 'the call deadline passed');
      else attempt.abort('ABORTED', 'the caller cancelled the call');
    },
    cancel(attemptId, kind, message) {
      return running.get(attemptId)?.abort(kind, message) ?? false;
    },
    recent,
    runningIds: () => [...running.keys()],
    freeSlots: () => Math.max(0, slots - running.size),
    get accepting() {
      return accepting;
    },
    async drain(graceMs) {
      accepting = false;
      const all = () => Promise.all([...running.values()].map((a) => a.done));
      if (running.size === 0) return;
      log.info('draining', { running: running.size, graceMs });
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), graceMs);
      });
      const outcome = await Promise.race([all(), graceOver]);
      clearTimeout(timer);
      if (outcome !== 'grace over') return;
      log.warn('drain grace period over: aborting running attempts', { running: [...running.keys()] });
      for (const attempt of running.values()) attempt.abort('SHUTDOWN', 'the worker is shutting down');
      // An executor that ignores its signal must not hold the process forever.
      const stuck = await Promise.race([all().then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ABORT_SETTLE_MS).unref())]);
      if (stuck) log.error('attempts did not end after abort', { running: [...running.keys()] });
    },
  };
}
