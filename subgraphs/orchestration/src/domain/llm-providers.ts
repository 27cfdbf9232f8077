import { badInput, llmBaseUrlKey, PROVIDER_NAME } from '@orchestra/lib';
import { SECRET_NAME } from './templates';

/**
 * An organization's model providers (issue 14): what an admin may configure, checked field by field
 * (BAD_USER_INPUT naming the field). The API key is never given here, only the name of the
 * organization secret that holds it.
 */

export const LLM_PROVIDER_LIMITS = {
  perOrg: 50,
  baseUrlChars: 2048,
  models: 100,
  modelChars: 256,
  /** US dollars per million tokens. */
  maxPricePerMillion: 10_000,
  maxRequestsPerMinute: 1_000_000,
  maxTokensPerMinute: 1_000_000_000,
  minTimeoutMs: 1_000,
  maxTimeoutMs: 600_000,
} as const;

export interface LlmModelAlias {
  /** The name steps use. */
  alias: string;
  /** The provider's name for it. */
  model: string;
  inputPricePerMillion?: number | undefined;
  outputPricePerMillion?: number | undefined;
}

/** A provider's settings, as stored (without its id and bookkeeping). */
export interface LlmProviderSettings {
  name: string;
  baseUrl: string;
  apiKeySecret: string | null;
  models: LlmModelAlias[];
  inputPricePerMillion: number;
  outputPricePerMillion: number;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  timeoutMs: number | null;
  workerLocal: boolean;
}

/** The GraphQL input of createLlmProvider (updateLlmProvider: the same without name, every field optional). */
export interface LlmProviderInput {
  name?: string | null;
  baseUrl?: string | null;
  apiKeySecret?: string | null;
  models?: Array<{ alias: string; model: string; pricePer1MInput?: number | null; pricePer1MOutput?: number | null }> | null;
  pricePer1MInput?: number | null;
  pricePer1MOutput?: number | null;
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  timeoutMs?: number | null;
  workerLocal?: boolean | null;
}

export function checkProviderName(raw: string, field: string): string {
  const name = raw.trim();
  if (!PROVIDER_NAME.test(name)) throw badInput(field, `a provider name has 1-63 lowercase letters, digits, _ . - and starts with a letter or digit (got ${JSON.stringify(raw.slice(0, 80))})`, 'INVALID_PROVIDER_NAME');
  return name;
}

/** An http(s) base URL such as https://api.openai.com/v1: no credentials, query or fragment. */
export function checkBaseUrl(raw: string, field: string): string {
  const url = llmBaseUrlKey(raw);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed !== undefined &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.username === '' &&
    parsed.password === '' &&
    parsed.search === '' &&
    parsed.hash === '' &&
    url.length <= LLM_PROVIDER_LIMITS.baseUrlChars;
  if (!ok) throw badInput(field, `expects an http(s) base URL such as https://api.openai.com/v1, without credentials, query or fragment, of at most ${LLM_PROVIDER_LIMITS.baseUrlChars} characters`, 'INVALID_BASE_URL');
  return url;
}

const checkPrice = (value: number, field: string): number => {
  if (!Number.isFinite(value) || value < 0 || value > LLM_PROVIDER_LIMITS.maxPricePerMillion) {
    throw badInput(field, `expects a price in US dollars per million tokens from 0 to ${LLM_PROVIDER_LIMITS.maxPricePerMillion}`, 'INVALID_PRICE');
  }
  return value;
};

const checkPositiveInt = (value: number | null | undefined, max: number, field: string, what: string): number | null => {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(field, `expects ${what}: an integer from 1 to ${max} (or null for none)`, 'OUT_OF_RANGE');
  return value;
};

function checkModels(models: NonNullable<LlmProviderInput['models']>, field: string): LlmModelAlias[] {
  if (models.length > LLM_PROVIDER_LIMITS.models) throw badInput(field, `expects at most ${LLM_PROVIDER_LIMITS.models} models`, 'TOO_MANY_MODELS');
  const seen = new Set<string>();
  return models.map((m, i) => {
    const at = `${field}[${i}]`;
    const alias = m.alias.trim();
    const model = m.model.trim();
    if (alias === '' || alias.length > LLM_PROVIDER_LIMITS.modelChars) throw badInput(`${at}.alias`, `expects a model alias of 1-${LLM_PROVIDER_LIMITS.modelChars} characters`, 'INVALID_MODEL');
    if (model === '' || model.length > LLM_PROVIDER_LIMITS.modelChars) throw badInput(`${at}.model`, `expects a model name of 1-${LLM_PROVIDER_LIMITS.modelChars} characters`, 'INVALID_MODEL');
    if (seen.has(alias)) throw badInput(`${at}.alias`, `names the alias "${alias}" twice`, 'DUPLICATE_MODEL');
    seen.add(alias);
    if ((m.pricePer1MInput == null) !== (m.pricePer1MOutput == null)) {
      throw badInput(`${at}.pricePer1MOutput`, 'give both prices of a model, or neither (then the provider\'s apply)', 'INVALID_PRICE');
    }
    return {
      alias,
      model,
      ...(m.pricePer1MInput == null ? {} : { inputPricePerMillion: checkPrice(m.pricePer1MInput, `${at}.pricePer1MInput`) }),
      ...(m.pricePer1MOutput == null ? {} : { outputPricePerMillion: checkPrice(m.pricePer1MOutput, `${at}.pricePer1MOutput`) }),
    };
  });
}

function checkSecretRef(raw: string | null | undefined, field: string): string | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  const name = raw.trim();
  if (!SECRET_NAME.test(name)) throw badInput(field, 'expects the name of an organization secret (a letter or _, then letters, digits and _)', 'INVALID_SECRET_NAME');
  return name;
}

/**
 * Settings from an input, over `base` (an update) or from scratch (a create: name and baseUrl
 * required). Fields are named under `fieldBase` (`input.baseUrl`).
 */
export function checkProviderSettings(input: LlmProviderInput, base: LlmProviderSettings | undefined, fieldBase = 'input'): LlmProviderSettings {
  const at = (f: string) => `${fieldBase}.${f}`;
  const name = base?.name ?? checkProviderName(input.name ?? '', at('name'));
  if (!base && (input.baseUrl === null || input.baseUrl === undefined)) throw badInput(at('baseUrl'), 'expects the provider\'s base URL', 'INVALID_BASE_URL');
  return {
    name,
    baseUrl: input.baseUrl == null ? (base as LlmProviderSettings).baseUrl : checkBaseUrl(input.baseUrl, at('baseUrl')),
    apiKeySecret: input.apiKeySecret === undefined ? (base?.apiKeySecret ?? null) : checkSecretRef(input.apiKeySecret, at('apiKeySecret')),
    models: input.models == null ? (base?.models ?? []) : checkModels(input.models, at('models')),
    inputPricePerMillion: input.pricePer1MInput == null ? (base?.inputPricePerMillion ?? 0) : checkPrice(input.pricePer1MInput, at('pricePer1MInput')),
    outputPricePerMillion: input.pricePer1MOutput == null ? (base?.outputPricePerMillion ?? 0) : checkPrice(input.pricePer1MOutput, at('pricePer1MOutput')),
    requestsPerMinute: input.requestsPerMinute === undefined ? (base?.requestsPerMinute ?? null) : checkPositiveInt(input.requestsPerMinute, LLM_PROVIDER_LIMITS.maxRequestsPerMinute, at('requestsPerMinute'), 'requests per minute'),
    tokensPerMinute: input.tokensPerMinute === undefined ? (base?.tokensPerMinute ?? null) : checkPositiveInt(input.tokensPerMinute, LLM_PROVIDER_LIMITS.maxTokensPerMinute, at('tokensPerMinute'), 'tokens per minute'),
    timeoutMs: input.timeoutMs === undefined ? (base?.timeoutMs ?? null) : checkTimeout(input.timeoutMs, at('timeoutMs')),
    workerLocal: input.workerLocal == null ? (base?.workerLocal ?? false) : input.workerLocal,
  };
}

function checkTimeout(value: number | null, field: string): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < LLM_PROVIDER_LIMITS.minTimeoutMs || value > LLM_PROVIDER_LIMITS.maxTimeoutMs) {
    throw badInput(field, `expects milliseconds from ${LLM_PROVIDER_LIMITS.minTimeoutMs} to ${LLM_PROVIDER_LIMITS.maxTimeoutMs} (or null: the worker's default)`, 'OUT_OF_RANGE');
  }
  return value;
}
