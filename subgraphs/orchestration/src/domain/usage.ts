import type { automationV1 } from '@orchestra/proto';
import type { NewGpuUsage, NewModelCall } from '../store/usage';

/**
 * What an attempt spent, from what its worker reported (issue 14 accounting). The worker's counts
 * are bounded before they are stored; the cost is computed here, from the prices the attempt was
 * dispatched with (the provider's, or its model alias's own), not taken from the worker.
 */

/**
 * Model calls recorded per attempt: an llm step's fallback chain and re-ask make a handful, a
 * browser.agent step one per turn (at most 50) and its fallbacks; more is a worker gone wrong.
 */
export const MAX_MODEL_CALLS_PER_ATTEMPT = 300;
const MAX_TOKENS = 1_000_000_000;
const MAX_MS = 2_000_000_000;

const count = (value: number | string, max: number): number => {
  const n = Math.floor(Number(value));
  return Number.isFinite(n) ? Math.min(max, Math.max(0, n)) : 0;
};
const text = (value: string, max: number): string => (value.length <= max ? value : value.slice(0, max));

/** Prices in US dollars per million tokens of a provider's model as dispatched (the alias's own when it has them). */
export function pricesOf(providers: readonly automationV1.LlmProvider[], provider: string, requestedModel: string, model: string): { input: number; output: number } {
  const p = providers.find((x) => x.name === provider);
  if (!p) return { input: 0, output: 0 };
  const alias = p.models.find((m) => m.alias === requestedModel) ?? p.models.find((m) => m.model === model);
  if (alias?.hasPrices) return { input: alias.inputPricePerMillion, output: alias.outputPricePerMillion };
  return { input: p.inputPricePerMillion, output: p.outputPricePerMillion };
}

export const costUsd = (promptTokens: number, completionTokens: number, prices: { input: number; output: number }): number =>
  Math.round(((promptTokens * prices.input + completionTokens * prices.output) / 1_000_000) * 1e10) / 1e10;

/** Completion tokens a second after the first token (0 when none came). */
export function tokensPerSecond(completionTokens: number, durationMs: number, ttftMs: number): number {
  if (completionTokens === 0) return 0;
  const generatingMs = Math.max(1, durationMs - ttftMs);
  return Math.round((completionTokens / (generatingMs / 1000)) * 10) / 10;
}

export interface AttemptKeys {
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string;
  workflowId: string;
  appId: string | null;
}

/** A reported model call as the row to store (counts bounded, cost at the dispatched prices). */
export function modelCallRow(call: automationV1.ModelCall, keys: AttemptKeys, providers: readonly automationV1.LlmProvider[], id: string): NewModelCall {
  const promptTokens = count(call.promptTokens, MAX_TOKENS);
  const completionTokens = count(call.completionTokens, MAX_TOKENS);
  const ttftMs = count(call.ttftMs, MAX_MS);
  const durationMs = count(call.durationMs, MAX_MS);
  const provider = text(call.provider, 100);
  const model = text(call.model, 200);
  const requestedModel = text(call.requestedModel || call.model, 200);
  return {
    id,
    ...keys,
    provider,
    model,
    requestedModel,
    promptTokens,
    completionTokens,
    ttftMs,
    durationMs,
    tokensPerSecond: tokensPerSecond(completionTokens, durationMs, ttftMs),
    costUsd: costUsd(promptTokens, completionTokens, pricesOf(providers, call.provider, requestedModel, model)),
    errorCode: call.errorCode === '' ? null : text(call.errorCode, 100),
    errorMessage: call.errorCode === '' ? null : text(call.errorMessage, 1000),
  };
}

/**
 * The GPU time of an attempt on a worker with GPUs: wall time times the GPUs it was placed on, or
 * every GPU the worker reported when it was placed on none (it had the box). Undefined on a CPU worker.
 */
export function gpuUsageOf(
  keys: AttemptKeys,
  worker: { id: string; resources: { gpus: ReadonlyArray<{ index: number; model: string }> } | null },
  placed: readonly number[],
  durationMs: number,
): NewGpuUsage | undefined {
  const gpus = worker.resources?.gpus ?? [];
  if (gpus.length === 0) return undefined;
  const used = placed.length > 0 ? gpus.filter((g) => placed.includes(g.index)) : gpus;
  const gpuCount = Math.max(1, placed.length > 0 ? placed.length : gpus.length);
  const seconds = Math.max(0, durationMs) / 1000;
  return {
    ...keys,
    workerId: worker.id,
    gpuCount,
    gpuModels: [...new Set(used.map((g) => g.model))],
    seconds: Math.round(seconds * 1000) / 1000,
    gpuSeconds: Math.round(seconds * gpuCount * 1000) / 1000,
  };
}
