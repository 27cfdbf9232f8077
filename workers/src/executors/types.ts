import type { GuardedFetch, Logger } from '@orchestra/lib/worker';
import type { StoredArtifact } from '../artifact-writer';
import type { ModelGateway } from './llm/model-gateway';
import type { z } from 'zod';

/** What an executor may return: plain JSON (it travels as a google.protobuf.Value). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ExecutorLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A model name of a provider: the step's alias for it, the provider's name, and its own prices if any. */
export interface LlmModelAlias {
  alias: string;
  model: string;
  prices?: { inputPerMillion: number; outputPerMillion: number };
}

/** One of the organization's LLM providers as the request carried it (the API key resolved: never log it). */
export interface LlmProviderConfig {
  name: string;
  baseUrl: string;
  /** Empty when the provider needs none. */
  apiKey: string;
  models: readonly LlmModelAlias[];
  prices: { inputPerMillion: number; outputPerMillion: number };
  /** First token / between chunks; 0 = the executor's default. */
  timeoutMs: number;
  workerLocal: boolean;
  /** Why the orchestrator's per-provider rate limit holds it back now ('' = it does not): the executor passes over it. */
  rateLimited?: string;
}

/** One request to a model provider, for accounting (reported when it ends, whether it failed or not). */
export interface ModelCallRecord {
  provider: string;
  model: string;
  /** The step's name for the model when it was an alias. */
  requestedModel: string;
  promptTokens: number;
  completionTokens: number;
  /** 0 when no token came. */
  ttftMs: number;
  durationMs: number;
  costUsd: number;
  /** Absent on success. */
  error?: { code: string; message: string };
}

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
  /**
   * Streams a piece of the output as it is produced (a model's tokens) to the run's subscribers;
   * `restart` abandons what was streamed before in this attempt (a fallback, a re-ask).
   */
  delta(text: string, options?: { restart?: boolean }): void;
  /** Records one model provider call (tokens, cost, latency) for the organization's accounting. */
  modelCall(call: ModelCallRecord): void;
  /** The LLM providers the step named, by name, as the orchestrator resolved them for this attempt. */
  llmProviders: ReadonlyMap<string, LlmProviderConfig>;
  /** The GPUs (indices) the orchestrator placed this attempt on; empty for a CPU task. */
  gpus: readonly number[];
  /**
   * Keeps a file of this attempt (a screenshot, a PDF, a download) in the worker's artifact store and
   * reports it on the Execute stream at once. Fails non-retryable with ARTIFACT_TOO_LARGE past the
   * limits, and for a bad or repeated name.
   */
  storeArtifact(name: string, body: Buffer, contentType: string): Promise<StoredArtifact>;
  /** What this attempt stored so far, in order. */
  artifactsStored(): StoredArtifact[];
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
  /**
   * A budget its attempts count against besides the worker's slots: at most `limit` attempts of all
   * the executors naming the same `budget` run at once on this worker (browser and browser.agent share
   * the worker's one Chromium: budget `browser`, limit BROWSER_MAX_CONTEXTS). Default: only the slots.
   */
  concurrency?: ExecutorConcurrency;
  /** Releases what the executor holds (a browser process) when the worker stops. */
  stop?(): Promise<void>;
}

/** A concurrency budget shared by the executors that name it (see Executor.concurrency). */
export interface ExecutorConcurrency {
  budget: string;
  limit: number;
}

/** The budget of the executors that drive the worker's Chromium (browser, browser.agent). */
export const BROWSER_BUDGET = 'browser';

/** What the worker hands every executor factory. */
export interface ExecutorEnvironment {
  /** A fetch that refuses private networks unless the worker allows them. */
  fetch: GuardedFetch;
  /** Model provider settings of this worker (llm, browser.agent). */
  llm: LlmEnvironment;
  /** The browser executor's settings; absent: the worker offers no browser. */
  browser?: BrowserEnvironment;
  /** The worker's log (an executor that cannot run here says why once). */
  log?: Logger;
}

/** What the browser executor gets from the worker's config. */
export interface BrowserEnvironment {
  executablePath: string;
  maxContexts: number;
  /** Pages may reach private, loopback and link-local addresses (WORKER_ALLOW_PRIVATE_NETWORK). */
  allowPrivateNetwork: boolean;
  /** Which addresses are refused (default the net guard's isPrivateAddress); tests allow one loopback address. */
  isBlocked?: (address: string) => boolean;
  /** Largest download kept (ARTIFACT_MAX_BYTES). */
  maxDownloadBytes?: number;
}

/** What model executors get from the worker: one gateway to the providers, shared by all its tasks. */
export interface LlmEnvironment {
  models: ModelGateway;
}

export type ExecutorFactory = (environment: ExecutorEnvironment) => Executor<never>;

/** A built-in that may not run on every machine: undefined when it cannot run here (it has logged why). */
export type OptionalExecutorFactory = (environment: ExecutorEnvironment) => Executor<never> | undefined;

/** Ties an executor's input type to its schema so `run` is checked against it. */
export const defineExecutor = <I>(executor: Executor<I>): Executor<never> => executor as unknown as Executor<never>;

/** A failure that another attempt may not repeat (the remote side was down, rate limited us...). */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  /** The next attempt should wait at least this long (a provider's Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
}
