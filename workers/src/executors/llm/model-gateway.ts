import { LLM_FAILURE_CODES, NonRetryableError, costOf, llmBaseUrlKey, type GuardedFetch, type Metrics } from '@orchestra/lib/worker';
import { RetryableError, type ExecutorContext, type LlmProviderConfig } from '../types';
import { ProviderCallError, callProvider, type ChatRequestBody, type ProviderAnswer } from './provider-call';
import { createProviderHealth, type ProviderHealth, type ProviderKey } from './provider-health';

/**
 * The worker's one door to model providers, used by every model executor (llm, browser.agent):
 * ordered fallback within an attempt (a provider that times out, answers 5xx or 429, breaks off,
 * is cooling down after a Retry-After or has its circuit open is skipped for the next one, each
 * skip a log line of the task), aliases and prices per provider, worker-local providers only where
 * declared, and one ModelCall record per request for the organization's accounting.
 */

export interface ModelGatewayOptions {
  /** Guarded: refuses private networks unless the worker allows them. */
  fetch: GuardedFetch;
  /** Reaches the declared local endpoints only. */
  localFetch: GuardedFetch;
  /** Base URLs of LLM servers on this machine (worker-local providers must use one of them). */
  localEndpoints: readonly string[];
  circuitFailureThreshold: number;
  circuitResetMs: number;
  /** First token and between chunks, when neither the step nor the provider says. */
  defaultTimeoutMs: number;
  metrics?: Metrics | undefined;
}

/** Where streamed tokens go; `restart()` makes the next token start the output afresh. */
export interface TokenSink {
  write(text: string): void;
  restart(): void;
}

export interface ModelRequest {
  /** Provider names in order of preference. */
  providers: readonly string[];
  /** A model name or an alias the providers define. */
  model: string;
  body: ChatRequestBody;
  stream: boolean;
  timeoutMs?: number | undefined;
  sink?: TokenSink | undefined;
}

export interface ProviderSkip {
  provider: string;
  code: string;
  message: string;
}

export interface ModelResult {
  answer: ProviderAnswer;
  provider: string;
  /** The provider's name for the model the step asked for. */
  model: string;
  costUsd: number;
  /** Providers tried or passed over before the one that answered. */
  skipped: ProviderSkip[];
}

export interface ModelGateway {
  complete(ctx: ExecutorContext, request: ModelRequest): Promise<ModelResult>;
  readonly health: ProviderHealth;
  stop(): void;
}

/** The provider's name for `model` and the prices that apply to it. */
export function resolveModel(provider: LlmProviderConfig, model: string): { model: string; prices: { inputPerMillion: number; outputPerMillion: number } } {
  const alias = provider.models.find((m) => m.alias === model) ?? provider.models.find((m) => m.model === model);
  return { model: alias?.model ?? model, prices: alias?.prices ?? provider.prices };
}

export function createModelGateway(options: ModelGatewayOptions): ModelGateway {
  const health = createProviderHealth({ failureThreshold: options.circuitFailureThreshold, resetMs: options.circuitResetMs, metrics: options.metrics });
  const localEndpoints = new Set(options.localEndpoints.map(llmBaseUrlKey));
  const calls = options.metrics?.counter('worker_llm_calls_total', 'Model provider calls from this worker, by outcome', ['outcome']);

  const complete = async (ctx: ExecutorContext, request: ModelRequest): Promise<ModelResult> => {
    const skipped: ProviderSkip[] = [];
    let retryable = false;
    let retryAfterMs: number | undefined;
    const skip = (provider: string, code: string, message: string, canRetry: boolean, after?: number) => {
      skipped.push({ provider, code, message });
      retryable ||= canRetry;
      if (after !== undefined) retryAfterMs = retryAfterMs === undefined ? after : Math.min(retryAfterMs, after);
      ctx.log('warn', `provider ${provider} skipped (${code}): ${message}`);
      calls?.inc({ outcome: code });
    };

    for (const [index, name] of request.providers.entries()) {
      const provider = ctx.llmProviders.get(name);
      if (!provider) {
        throw new NonRetryableError(LLM_FAILURE_CODES.UNKNOWN_PROVIDER, `input.${request.providers.length > 1 ? `providers[${index}]` : 'provider'}: no provider named ${JSON.stringify(name)} came with the task`);
      }
      const key: ProviderKey = { orgId: ctx.orgId, name, baseUrl: provider.baseUrl };
      if (provider.workerLocal && !localEndpoints.has(llmBaseUrlKey(provider.baseUrl))) {
        skip(name, 'PROVIDER_NOT_LOCAL', `it is worker-local (${provider.baseUrl}) and this worker does not serve it`, true);
        continue;
      }
      if (provider.rateLimited !== undefined) {
        skip(name, 'PROVIDER_RATE_LIMITED', provider.rateLimited, true);
        continue;
      }
      const state = health.state(key);
      if (!state.usable) {
        skip(name, state.code, state.message, true, state.retryAfterMs);
        continue;
      }
      const { model, prices } = resolveModel(provider, request.model);
      const timeoutMs = request.timeoutMs ?? (provider.timeoutMs > 0 ? provider.timeoutMs : options.defaultTimeoutMs);
      if (index > 0 || skipped.length > 0) request.sink?.restart();
      const started = Date.now();
      try {
        const answer = await health.call(key, () =>
          callProvider({
            provider,
            model,
            body: request.body,
            stream: request.stream,
            timeoutMs,
            signal: ctx.signal,
            fetch: provider.workerLocal ? options.localFetch : options.fetch,
            ...(request.sink ? { onToken: (text: string) => request.sink?.write(text) } : {}),
          }),
        );
        const costUsd = costOf(answer.promptTokens, answer.completionTokens, prices);
        ctx.modelCall({
          provider: name,
          model: answer.model,
          requestedModel: request.model,
          promptTokens: answer.promptTokens,
          completionTokens: answer.completionTokens,
          ttftMs: answer.ttftMs,
          durationMs: answer.durationMs,
          costUsd,
        });
        calls?.inc({ outcome: 'ok' });
        if (skipped.length > 0) ctx.log('info', `provider ${name} answered after ${skipped.length} skipped`);
        return { answer, provider: name, model, costUsd, skipped };
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        if (!(error instanceof ProviderCallError)) throw error;
        if (error.code !== 'PROVIDER_CIRCUIT_OPEN') {
          // A request that reached the provider: account for it (a broken stream may have spent tokens).
          // The prompt was read when anything came back (a broken stream, an answer it then got wrong).
          const completionTokens = error.options.completionTokens ?? 0;
          const promptTokens = error.options.promptTokens ?? (error.options.partial ? estimatePromptTokens(request.body) : 0);
          ctx.modelCall({
            provider: name,
            model,
            requestedModel: request.model,
            promptTokens,
            completionTokens,
            ttftMs: error.options.ttftMs ?? 0,
            durationMs: Date.now() - started,
            costUsd: costOf(promptTokens, completionTokens, prices),
            error: { code: error.code, message: error.message },
          });
        }
        skip(name, error.code, error.message, error.options.retryable, error.options.retryAfterMs);
      }
    }

    const listed = skipped.map((s) => `${s.provider}: ${s.code} ${s.message}`).join('; ');
    if (retryable) {
      throw new RetryableError(LLM_FAILURE_CODES.ALL_PROVIDERS_FAILED, `every provider failed: ${listed}`, retryAfterMs === undefined ? undefined : { retryAfterMs });
    }
    throw new NonRetryableError(skipped.length === 1 ? LLM_FAILURE_CODES.PROVIDER_REJECTED : LLM_FAILURE_CODES.ALL_PROVIDERS_FAILED, `every provider refused the request: ${listed}`);
  };

  return { complete, health, stop: () => health.stop() };
}

const estimatePromptTokens = (body: ChatRequestBody): number => Math.ceil(JSON.stringify(body.messages).length / 4);
