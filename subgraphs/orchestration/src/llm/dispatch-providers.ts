import { isLlmCapability, LLM_FAILURE_CODES, providerFieldOf, providerNamesOf, type Queryable } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { SecretUnavailableError, type SecretReader } from '../secrets/dispatch-secrets';
import { llmProvidersOfOrg, type LlmProviderRow } from '../store/llm-providers';
import type { ProviderLimit } from './provider-limits';

/**
 * The providers of a model step at dispatch (issue 14): the names its resolved input gives
 * (`provider` / `providers`), read from the organization's providers with their API keys from
 * the organization's secrets, as the Execute request's `llm_providers`. The keys are secrets like
 * any other: they go to the worker only, and the attempt's masker masks them in whatever comes back.
 */

/** A model step's providers could not be given: the attempt fails without a retry (the same input fails the same way). */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
  constructor(
    readonly code: typeof LLM_FAILURE_CODES.UNKNOWN_PROVIDER | typeof LLM_FAILURE_CODES.PROVIDER_SECRET_MISSING,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DispatchProviders {
  providers: automationV1.LlmProvider[];
  /** The API keys, to mask. */
  keys: string[];
  /** Each provider's rate limits, in the same order (llm/provider-limits.ts). */
  limits: ProviderLimit[];
}

const NONE: DispatchProviders = { providers: [], keys: [], limits: [] };

/** The proto message a worker gets for one provider. */
export function providerMessage(row: LlmProviderRow, apiKey: string): automationV1.LlmProvider {
  return {
    name: row.name,
    baseUrl: row.baseUrl,
    apiKey,
    models: row.models.map((m) => ({
      alias: m.alias,
      model: m.model,
      hasPrices: m.inputPricePerMillion !== undefined,
      inputPricePerMillion: m.inputPricePerMillion ?? 0,
      outputPricePerMillion: m.outputPricePerMillion ?? 0,
    })),
    inputPricePerMillion: row.inputPricePerMillion,
    outputPricePerMillion: row.outputPricePerMillion,
    timeoutMs: row.timeoutMs ?? 0,
    workerLocal: row.workerLocal,
    rateLimited: '',
  };
}

/**
 * The providers a task of `capability` with this (resolved) input needs; none for a step that is
 * not a model step. Throws ProviderUnavailableError naming the input's field.
 */
export async function resolveDispatchProviders(tx: Queryable, orgId: string, capability: string, input: unknown, readSecrets: SecretReader): Promise<DispatchProviders> {
  if (!isLlmCapability(capability)) return NONE;
  const names = providerNamesOf(input);
  if (names.length === 0) return NONE;
  const rows = await llmProvidersOfOrg(tx, orgId, names);
  const missing = names.find((n) => !rows.has(n));
  if (missing !== undefined) {
    throw new ProviderUnavailableError(LLM_FAILURE_CODES.UNKNOWN_PROVIDER, `input.${providerFieldOf(input, missing)}: the organization has no model provider "${missing}" (deleted after the workflow was saved?)`);
  }
  const ordered = names.map((n) => rows.get(n) as LlmProviderRow);
  const secretNames = [...new Set(ordered.flatMap((p) => (p.apiKeySecret === null ? [] : [p.apiKeySecret])))];
  let values: Map<string, string>;
  try {
    values = await readSecrets(orgId, secretNames);
  } catch (error) {
    if (!(error instanceof SecretUnavailableError)) throw error;
    throw new ProviderUnavailableError(LLM_FAILURE_CODES.PROVIDER_SECRET_MISSING, `the API key of a model provider cannot be given: ${error.message}`, { cause: error });
  }
  const providers = ordered.map((p) => providerMessage(p, p.apiKeySecret === null ? '' : (values.get(p.apiKeySecret) ?? '')));
  const limits = ordered.map((p) => ({ name: p.name, requestsPerMinute: p.requestsPerMinute, tokensPerMinute: p.tokensPerMinute }));
  return { providers, keys: [...values.values()], limits };
}
