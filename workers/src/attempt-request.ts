import { createSecretMasker, type SecretMasker } from '@orchestra/lib/worker';
import type { automationV1 } from '@orchestra/proto';
import type { LlmProviderConfig } from './executors/types';

// What an attempt takes from its Execute request besides the ids: the masker of its secrets and its
// LLM providers as executors see them.

/** Most attempts carry no secrets and no providers: one masker and one empty map serve them all. */
const NO_SECRETS = createSecretMasker([]);
const NO_PROVIDERS: ReadonlyMap<string, LlmProviderConfig> = new Map();

/**
 * The organization secrets resolved into the input: masked in everything that leaves the attempt.
 * Provider API keys are secrets too: a provider that echoes one in an error must not leak it.
 */
export const maskerOf = (request: automationV1.ExecuteRequest): SecretMasker =>
  request.secretValues.length === 0 && request.llmProviders.length === 0
    ? NO_SECRETS
    : createSecretMasker([...request.secretValues, ...request.llmProviders.map((p) => p.apiKey).filter((key) => key !== '')]);

/** The providers of the request as executors see them (by name). */
export const providersOf = (request: automationV1.ExecuteRequest): ReadonlyMap<string, LlmProviderConfig> => {
  if (request.llmProviders.length === 0) return NO_PROVIDERS;
  return new Map(
    request.llmProviders.map((p) => [
      p.name,
      {
        name: p.name,
        baseUrl: p.baseUrl,
        apiKey: p.apiKey,
        models: p.models.map((m) => ({
          alias: m.alias,
          model: m.model,
          ...(m.hasPrices ? { prices: { inputPerMillion: m.inputPricePerMillion, outputPerMillion: m.outputPricePerMillion } } : {}),
        })),
        prices: { inputPerMillion: p.inputPricePerMillion, outputPerMillion: p.outputPricePerMillion },
        timeoutMs: p.timeoutMs,
        workerLocal: p.workerLocal,
        ...(p.rateLimited === '' ? {} : { rateLimited: p.rateLimited }),
      },
    ]),
  );
};

/** The result with the attempt's secrets masked in its output and failure message. */
export const maskResult = (result: automationV1.TaskResult, masker: SecretMasker): automationV1.TaskResult => {
  if (!masker.active) return result;
  const outcome = result.outcome;
  if (outcome?.$case === 'success') return { ...result, outcome: { $case: 'success', value: { output: masker.value<unknown>(outcome.value.output) } } };
  if (outcome?.$case === 'failure') return { ...result, outcome: { $case: 'failure', value: { ...outcome.value, message: masker.text(outcome.value.message) } } };
  return result;
};
