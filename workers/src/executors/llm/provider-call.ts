import type * as OpenAIModule from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions/completions';
import { AppError, type GuardedFetch, type ProviderErrorCode } from '@orchestra/lib/worker';
import type { LlmProviderConfig } from '../types';

type OpenAISdk = typeof OpenAIModule;
let sdk: OpenAISdk | undefined;
/** The openai package is loaded with the first model call, not with the worker (issue 11: ~11 MiB a worker without llm steps never needs). */
const loadSdk = async (): Promise<OpenAISdk> => (sdk ??= await import('openai'));

/**
 * One chat completion request to one OpenAI-compatible provider, through the official `openai`
 * package: streamed (tokens handed to `onToken` as they arrive) or not, bounded by a first-token
 * and between-chunks timeout, aborted at once by the signal. Failures become a ProviderCallError
 * that says whether it counts against the provider's circuit and how long the provider asked us
 * to stay away (Retry-After).
 */

export type ChatRequestBody = Omit<ChatCompletionCreateParamsBase, 'model' | 'stream' | 'stream_options'>;

export interface ProviderToolCall {
  id: string;
  name: string;
  /** As the model wrote it (JSON text, not always valid). */
  arguments: string;
}

export interface ProviderAnswer {
  text: string;
  toolCalls: ProviderToolCall[];
  finishReason: string;
  /** The model that answered, as the provider names it. */
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** true when the provider sent no usage and the counts are estimates (4 characters a token). */
  usageEstimated: boolean;
  /** Request to first token (to the whole answer when not streamed). */
  ttftMs: number;
  durationMs: number;
}

export class ProviderCallError extends Error {
  override readonly name = 'ProviderCallError';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly options: {
      /** Another attempt (later, or at another provider) may succeed. */
      retryable: boolean;
      /** Counts as the provider being unwell (timeouts, 5xx, unreachable), for its circuit breaker. */
      countsAgainstCircuit: boolean;
      retryAfterMs?: number;
      status?: number;
      /** Tokens were already streamed when it failed. */
      partial?: boolean;
      /** Tokens spent before it failed (a broken stream), estimated, or as the provider reported them. */
      completionTokens?: number;
      /** The prompt's tokens, when the provider reported them with an answer it then got wrong. */
      promptTokens?: number;
      ttftMs?: number;
    },
  ) {
    super(message);
  }
}

export interface ProviderCallOptions {
  provider: LlmProviderConfig;
  /** The provider's name for the model. */
  model: string;
  body: ChatRequestBody;
  stream: boolean;
  /** First token and between chunks. */
  timeoutMs: number;
  signal: AbortSignal;
  onToken?: (text: string) => void;
  /** The fetch to reach the provider with (guarded for hosted ones, the local one for worker-local ones). */
  fetch: GuardedFetch;
}

/** Seconds or an HTTP date in Retry-After (or milliseconds in retry-after-ms), capped at an hour. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return Math.min(ms, 3_600_000);
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.min(Math.max(0, seconds * 1000), 3_600_000);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.min(Math.max(0, date - now), 3_600_000) : undefined;
}

/** Estimated tokens of a text when the provider reports none. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/** openai's fetch signature over the guarded fetch (which takes plain headers and a string body). */
const adaptFetch =
  (fetch: GuardedFetch) =>
  async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Array<[string, string]> = [];
    new Headers(init.headers).forEach((value, key) => headers.push([key, value]));
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      throw new Error('the provider client sent a body that is neither text nor bytes');
    }
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      ...(body === undefined || body === null ? {} : { body }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return response;
  };

/** A watchdog that aborts when nothing happened for `ms`; `touch()` restarts it. */
function idleWatchdog(ms: number, onIdle: () => void) {
  let timer = setTimeout(onIdle, ms);
  return {
    touch() {
      clearTimeout(timer);
      timer = setTimeout(onIdle, ms);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

const describeStatus = (status: number, message: string): string => `HTTP ${status}: ${message.replace(/^\d{3}\s*/, '').slice(0, 300)}`;

/** Maps what the openai client threw to a ProviderCallError (or rethrows an abort of the attempt). */
function classify(error: unknown, { timedOut, attemptAborted, streamed, ttftMs, text }: { timedOut: boolean; attemptAborted: boolean; streamed: boolean; ttftMs: number; text: string }, timeoutMs: number, { APIConnectionTimeoutError, APIError }: OpenAISdk): Error {
  if (attemptAborted) return error instanceof Error ? error : new Error(String(error));
  const spent = { partial: streamed, completionTokens: estimateTokens(text), ttftMs };
  if (timedOut || error instanceof APIConnectionTimeoutError) {
    return new ProviderCallError('PROVIDER_TIMEOUT', streamed ? `no new token for ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`, { retryable: true, countsAgainstCircuit: true, ...spent });
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status: number = error.status;
    const headers = error.headers as Headers | undefined;
    const message = describeStatus(status, error.message);
    if (status === 429) return new ProviderCallError('PROVIDER_RATE_LIMITED', message, { retryable: true, countsAgainstCircuit: false, status, ...optional('retryAfterMs', retryAfterMs(headers)) });
    if (status >= 500) return new ProviderCallError('PROVIDER_HTTP_5XX', message, { retryable: true, countsAgainstCircuit: true, status, ...optional('retryAfterMs', retryAfterMs(headers)) });
    if (status === 408) return new ProviderCallError('PROVIDER_TIMEOUT', message, { retryable: true, countsAgainstCircuit: true, status });
    return new ProviderCallError('PROVIDER_REJECTED', message, { retryable: false, countsAgainstCircuit: false, status });
  }
  const guardRefusal = findAppError(error);
  if (guardRefusal) return new ProviderCallError('PROVIDER_REJECTED', guardRefusal.message, { retryable: false, countsAgainstCircuit: false });
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
  return new ProviderCallError('PROVIDER_UNREACHABLE', streamed ? `the stream broke off: ${message}` : message, { retryable: true, countsAgainstCircuit: true, ...spent });
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));

const findAppError = (error: unknown): AppError | undefined => {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth += 1) {
    if (current instanceof AppError) return current;
  }
  return undefined;
};

interface ToolCallParts {
  id: string;
  name: string;
  arguments: string;
}

/** Folds streamed tool call pieces (by index) into whole calls. */
function addToolCallDeltas(calls: Map<number, ToolCallParts>, deltas: ChatCompletionChunk.Choice.Delta.ToolCall[] | undefined) {
  for (const delta of deltas ?? []) {
    const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.name += delta.function.name;
    if (delta.function?.arguments) call.arguments += delta.function.arguments;
    calls.set(delta.index, call);
  }
}

export async function callProvider({ provider, model, body, stream, timeoutMs, signal, onToken, fetch }: ProviderCallOptions): Promise<ProviderAnswer> {
  const openai = await loadSdk();
  const controller = new AbortController();
  const onAttemptAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAttemptAbort, { once: true });
  let timedOut = false;
  const watchdog = idleWatchdog(timeoutMs, () => {
    timedOut = true;
    controller.abort(new Error('provider timeout'));
  });
  const client = new openai.OpenAI({
    apiKey: provider.apiKey === '' ? 'none' : provider.apiKey,
    baseURL: provider.baseUrl,
    fetch: adaptFetch(fetch),
    // Fallback, retries and timeouts are ours: the client must not retry behind our back.
    maxRetries: 0,
    timeout: 24 * 60 * 60 * 1000,
  });
  const started = Date.now();
  let ttftMs = 0;
  let text = '';
  let streamed = false;
  const toolCalls = new Map<number, ToolCallParts>();
  // What the model generated so far, text and tool call pieces: a call that fails after it spent tokens on them.
  const generated = () => text + [...toolCalls.values()].map((c) => c.name + c.arguments).join('');
  try {
    if (!stream) {
      const completion = await client.chat.completions.create({ ...body, model, stream: false }, { signal: controller.signal });
      watchdog.stop();
      const choice = completion.choices[0];
      if (!choice) {
        // The provider may have spent (and billed) tokens on an answer it then sent without choices.
        const spent = completion.usage ? { partial: true, promptTokens: completion.usage.prompt_tokens, completionTokens: completion.usage.completion_tokens } : {};
        throw new ProviderCallError('PROVIDER_BAD_ANSWER', 'the answer has no choices', { retryable: true, countsAgainstCircuit: true, ...spent });
      }
      ttftMs = Date.now() - started;
      text = choice.message.content ?? '';
      if (text !== '') onToken?.(text);
      const toolCalls = (choice.message.tool_calls ?? []).flatMap((c) => (c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : []));
      return {
        text,
        toolCalls,
        finishReason: choice.finish_reason,
        model: completion.model || model,
        promptTokens: completion.usage?.prompt_tokens ?? estimateTokens(JSON.stringify(body.messages)),
        completionTokens: completion.usage?.completion_tokens ?? estimateTokens(text + (toolCalls.length > 0 ? JSON.stringify(toolCalls) : '')),
        usageEstimated: completion.usage === undefined,
        ttftMs,
        durationMs: Date.now() - started,
      };
    }

    const chunks = await client.chat.completions.create({ ...body, model, stream: true, stream_options: { include_usage: true } }, { signal: controller.signal });
    let finishReason = '';
    let answeredModel = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of chunks) {
      watchdog.touch();
      if (chunk.model) answeredModel = chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      const piece = choice.delta.content ?? '';
      if (piece !== '' || (choice.delta.tool_calls?.length ?? 0) > 0) {
        if (!streamed) ttftMs = Date.now() - started;
        streamed = true;
      }
      if (piece !== '') {
        text += piece;
        onToken?.(piece);
      }
      addToolCallDeltas(toolCalls, choice.delta.tool_calls);
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    watchdog.stop();
    // An abort can end the chunk iteration quietly instead of throwing.
    if (controller.signal.aborted) throw new Error('the stream was aborted');
    if (finishReason === '') {
      const spent = usage ? { partial: true, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : { partial: streamed, completionTokens: estimateTokens(generated()) };
      throw new ProviderCallError('PROVIDER_UNREACHABLE', 'the stream ended without a finish reason', { retryable: true, countsAgainstCircuit: true, ttftMs, ...spent });
    }
    const calls = [...toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
    return {
      text,
      toolCalls: calls,
      finishReason,
      model: answeredModel || model,
      promptTokens: usage?.prompt_tokens ?? estimateTokens(JSON.stringify(body.messages)),
      completionTokens: usage?.completion_tokens ?? estimateTokens(text + (calls.length > 0 ? JSON.stringify(calls) : '')),
      usageEstimated: usage === undefined,
      ttftMs: ttftMs || Date.now() - started,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    if (error instanceof ProviderCallError) throw error;
    throw classify(error, { timedOut, attemptAborted: signal.aborted, streamed, ttftMs, text: generated() }, timeoutMs, openai);
  } finally {
    watchdog.stop();
    signal.removeEventListener('abort', onAttemptAbort);
    // Ends the HTTP stream if we left the loop early (a timeout, a thrown consumer).
    controller.abort();
  }
}
