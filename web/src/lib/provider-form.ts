import type { CreateLlmProviderInput, UpdateLlmProviderInput } from './api/__generated__/graphql';

/**
 * The providers page's form (issue 14): what the admin typed, as text, turned into the API's input.
 * Numbers are checked here so that "abc" in a price says so under the field before anything is sent;
 * the API checks everything again (URL, names, bounds) and its messages show under the same fields.
 */

export interface ModelRow {
  alias: string;
  model: string;
  pricePer1MInput: string;
  pricePer1MOutput: string;
}

export interface ProviderForm {
  name: string;
  baseUrl: string;
  /** '' for no key. */
  apiKeySecret: string;
  models: ModelRow[];
  pricePer1MInput: string;
  pricePer1MOutput: string;
  requestsPerMinute: string;
  tokensPerMinute: string;
  timeoutMs: string;
  workerLocal: boolean;
}

export interface ProviderLike {
  name: string;
  baseUrl: string;
  apiKeySecret?: string | null | undefined;
  models: ReadonlyArray<{ alias: string; model: string; pricePer1MInput?: number | null | undefined; pricePer1MOutput?: number | null | undefined }>;
  pricePer1MInput: number;
  pricePer1MOutput: number;
  requestsPerMinute?: number | null | undefined;
  tokensPerMinute?: number | null | undefined;
  timeoutMs?: number | null | undefined;
  workerLocal: boolean;
}

const text = (n: number | null | undefined): string => (n === null || n === undefined ? '' : String(n));

export const emptyProviderForm = (): ProviderForm => ({
  name: '',
  baseUrl: '',
  apiKeySecret: '',
  models: [],
  pricePer1MInput: '',
  pricePer1MOutput: '',
  requestsPerMinute: '',
  tokensPerMinute: '',
  timeoutMs: '',
  workerLocal: false,
});

export const providerFormOf = (p: ProviderLike): ProviderForm => ({
  name: p.name,
  baseUrl: p.baseUrl,
  apiKeySecret: p.apiKeySecret ?? '',
  models: p.models.map((m) => ({ alias: m.alias, model: m.model, pricePer1MInput: text(m.pricePer1MInput), pricePer1MOutput: text(m.pricePer1MOutput) })),
  pricePer1MInput: text(p.pricePer1MInput),
  pricePer1MOutput: text(p.pricePer1MOutput),
  requestsPerMinute: text(p.requestsPerMinute),
  tokensPerMinute: text(p.tokensPerMinute),
  timeoutMs: text(p.timeoutMs),
  workerLocal: p.workerLocal,
});

/** Field name (as the API names it, without `input.`) → what is wrong. */
export type FormErrors = Record<string, string>;

type Parsed<T> = { value: T } | { error: string };

function decimal(raw: string, what: string): Parsed<number | null> {
  const s = raw.trim();
  if (s === '') return { value: null };
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? { value: n } : { error: `${what} must be a number of US dollars, 0 or more` };
}

function integer(raw: string, what: string): Parsed<number | null> {
  const s = raw.trim();
  if (s === '') return { value: null };
  const n = Number(s);
  return Number.isInteger(n) && n > 0 ? { value: n } : { error: `${what} must be a whole number above 0 (or empty for none)` };
}

interface Shared {
  baseUrl: string;
  apiKeySecret: string | null;
  models: NonNullable<CreateLlmProviderInput['models']>;
  pricePer1MInput: number;
  pricePer1MOutput: number;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  timeoutMs: number | null;
  workerLocal: boolean;
}

function parseShared(form: ProviderForm): { input: Shared } | { errors: FormErrors } {
  const errors: FormErrors = {};
  const take = <T>(field: string, parsed: Parsed<T>): T | undefined => {
    if ('error' in parsed) {
      errors[field] = parsed.error;
      return undefined;
    }
    return parsed.value;
  };
  const pricePer1MInput = take('pricePer1MInput', decimal(form.pricePer1MInput, 'The input price'));
  const pricePer1MOutput = take('pricePer1MOutput', decimal(form.pricePer1MOutput, 'The output price'));
  const requestsPerMinute = take('requestsPerMinute', integer(form.requestsPerMinute, 'Requests per minute'));
  const tokensPerMinute = take('tokensPerMinute', integer(form.tokensPerMinute, 'Tokens per minute'));
  const timeoutMs = take('timeoutMs', integer(form.timeoutMs, 'The timeout'));
  if (form.baseUrl.trim() === '') errors['baseUrl'] = 'The base URL is required (e.g. https://api.openai.com/v1)';
  const models = form.models
    .filter((m) => m.alias.trim() !== '' || m.model.trim() !== '' || m.pricePer1MInput.trim() !== '' || m.pricePer1MOutput.trim() !== '')
    .map((m, i) => {
      const input = take(`models[${i}].pricePer1MInput`, decimal(m.pricePer1MInput, 'The input price'));
      const output = take(`models[${i}].pricePer1MOutput`, decimal(m.pricePer1MOutput, 'The output price'));
      if (m.alias.trim() === '') errors[`models[${i}].alias`] = 'Name the alias steps use';
      if (m.model.trim() === '') errors[`models[${i}].model`] = "Give the provider's name for the model";
      if ((input === null) !== (output === null) && input !== undefined && output !== undefined) errors[`models[${i}].pricePer1MOutput`] = 'Give both prices of a model, or neither';
      return { alias: m.alias.trim(), model: m.model.trim(), ...(input != null && output != null ? { pricePer1MInput: input, pricePer1MOutput: output } : {}) };
    });
  if (Object.keys(errors).length > 0) return { errors };
  return {
    input: {
      baseUrl: form.baseUrl.trim(),
      apiKeySecret: form.apiKeySecret === '' ? null : form.apiKeySecret,
      models,
      pricePer1MInput: pricePer1MInput ?? 0,
      pricePer1MOutput: pricePer1MOutput ?? 0,
      requestsPerMinute: requestsPerMinute ?? null,
      tokensPerMinute: tokensPerMinute ?? null,
      timeoutMs: timeoutMs ?? null,
      workerLocal: form.workerLocal,
    },
  };
}

export function createInputOf(form: ProviderForm): { input: CreateLlmProviderInput } | { errors: FormErrors } {
  const parsed = parseShared(form);
  const nameErrors: FormErrors = form.name.trim() === '' ? { name: 'Name the provider (steps name it)' } : {};
  if ('errors' in parsed || nameErrors['name']) return { errors: { ...nameErrors, ...('errors' in parsed ? parsed.errors : {}) } };
  const { apiKeySecret, requestsPerMinute, tokensPerMinute, timeoutMs, ...rest } = parsed.input;
  return {
    input: {
      name: form.name.trim(),
      ...rest,
      ...(apiKeySecret !== null ? { apiKeySecret } : {}),
      ...(requestsPerMinute !== null ? { requestsPerMinute } : {}),
      ...(tokensPerMinute !== null ? { tokensPerMinute } : {}),
      ...(timeoutMs !== null ? { timeoutMs } : {}),
    },
  };
}

/** Every field is sent: null clears the key secret and the limits (the API's update semantics). */
export function updateInputOf(form: ProviderForm): { input: UpdateLlmProviderInput } | { errors: FormErrors } {
  const parsed = parseShared(form);
  return 'errors' in parsed ? parsed : { input: parsed.input };
}
