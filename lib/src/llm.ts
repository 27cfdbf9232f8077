import { z } from 'zod';

/**
 * The contract of model steps (`llm`, `browser.agent`), shared by the workers (which validate and
 * run them) and the orchestration service (which checks a workflow's literal inputs when it is
 * created, resolves the named providers at dispatch and accounts for what they cost).
 */

/** Capabilities whose steps name LLM providers in their input (`provider` / `providers`). */
export const LLM_CAPABILITIES = ['llm', 'browser.agent'] as const;
export type LlmCapability = (typeof LLM_CAPABILITIES)[number];
export const isLlmCapability = (capability: string): capability is LlmCapability => (LLM_CAPABILITIES as readonly string[]).includes(capability);

/** Task failure codes of model steps (beside the workers' BAD_INPUT, TIMEOUT, EXECUTOR_ERROR...). */
export const LLM_FAILURE_CODES = {
  /** Every provider of the step failed (each one's error is listed); retryable. */
  ALL_PROVIDERS_FAILED: 'ALL_PROVIDERS_FAILED',
  /** A provider refused the request itself (400, 401, 403, 404, 422): another attempt would too. */
  PROVIDER_REJECTED: 'PROVIDER_REJECTED',
  /** The answer did not match the step's jsonSchema, also after the re-ask (the message names the path). */
  INVALID_MODEL_OUTPUT: 'INVALID_MODEL_OUTPUT',
  /** The step names a provider the organization does not have (at dispatch). */
  UNKNOWN_PROVIDER: 'UNKNOWN_PROVIDER',
  /** A provider's API key secret is missing (at dispatch). */
  PROVIDER_SECRET_MISSING: 'PROVIDER_SECRET_MISSING',
  /** A worker-local provider reached from a worker that does not declare it. */
  PROVIDER_NOT_LOCAL: 'PROVIDER_NOT_LOCAL',
} as const;
export type LlmFailureCode = (typeof LLM_FAILURE_CODES)[keyof typeof LLM_FAILURE_CODES];

/** Why a provider call failed, as recorded in the usage log and the fallback's log lines. */
export const PROVIDER_ERROR_CODES = ['PROVIDER_TIMEOUT', 'PROVIDER_HTTP_5XX', 'PROVIDER_RATE_LIMITED', 'PROVIDER_UNREACHABLE', 'PROVIDER_CIRCUIT_OPEN', 'PROVIDER_COOLING_DOWN', 'PROVIDER_REJECTED', 'PROVIDER_BAD_ANSWER', 'PROVIDER_NOT_LOCAL'] as const;
export type ProviderErrorCode = (typeof PROVIDER_ERROR_CODES)[number];

export const LLM_LIMITS = {
  maxProviders: 5,
  maxMessages: 500,
  /** Characters of one message's text. */
  maxMessageChars: 1_000_000,
  maxTokens: 131_072,
  maxTools: 64,
  maxStop: 4,
  /** Serialized size of a jsonSchema or a tool's parameters. */
  maxSchemaBytes: 64 * 1024,
  minTimeoutMs: 1_000,
  maxTimeoutMs: 600_000,
} as const;

export const PROVIDER_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const providerName = z.string({ error: 'expects a provider name' }).regex(PROVIDER_NAME, { error: 'expects a provider name: 1-63 lowercase letters, digits, _ . - (starting with a letter or digit)' });

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const jsonObject = z.record(z.string(), z.unknown(), { error: 'expects a JSON object' });
const boundedSchema = (what: string) =>
  jsonObject.refine((value) => JSON.stringify(value).length <= LLM_LIMITS.maxSchemaBytes, { error: `expects ${what} of at most ${LLM_LIMITS.maxSchemaBytes} bytes` });

const textPart = z.object({ type: z.literal('text'), text: z.string().max(LLM_LIMITS.maxMessageChars) });
const imagePart = z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().max(8 * 1024 * 1024), detail: z.enum(['auto', 'low', 'high']).optional() }) });
const content = z.union([z.string().max(LLM_LIMITS.maxMessageChars, { error: `expects at most ${LLM_LIMITS.maxMessageChars} characters` }), z.array(z.union([textPart, imagePart])).min(1).max(64)], {
  error: 'expects a string or an array of content parts ({ type: "text", text } / { type: "image_url", image_url: { url } })',
});

const toolCallInput = z.object({
  id: z.string().min(1).max(256),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().regex(TOOL_NAME), arguments: z.string().max(LLM_LIMITS.maxMessageChars) }),
});

export const llmMessageSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.literal('system'), content, name: z.string().max(64).optional() }),
    z.object({ role: z.literal('user'), content, name: z.string().max(64).optional() }),
    z.object({
      role: z.literal('assistant'),
      content: content.nullable().optional(),
      name: z.string().max(64).optional(),
      tool_calls: z.array(toolCallInput).max(LLM_LIMITS.maxTools).optional(),
    }),
    z.object({ role: z.literal('tool'), content, tool_call_id: z.string().min(1).max(256) }),
  ],
  { error: 'expects a message { role: system | user | assistant | tool, content }' },
);
export type LlmMessage = z.infer<typeof llmMessageSchema>;

export const llmToolSchema = z.object({
  type: z.literal('function').default('function'),
  function: z.object({
    name: z.string().regex(TOOL_NAME, { error: 'expects a tool name of 1-64 letters, digits, _ or -' }),
    description: z.string().max(4_096).optional(),
    parameters: boundedSchema('parameters').optional(),
  }),
});
export type LlmTool = z.infer<typeof llmToolSchema>;

export const llmResponseFormatSchema = z.union(
  [
    z.enum(['text', 'json']).transform((type) => ({ type })),
    z.object({ type: z.enum(['text', 'json']) }),
    z.object({
      type: z.literal('jsonSchema'),
      schema: boundedSchema('a JSON schema'),
      /** The schema's name as the provider sees it. */
      name: z.string().regex(TOOL_NAME).default('answer'),
    }),
  ],
  { error: 'expects "text", "json" or { type: "jsonSchema", schema }' },
);
export type LlmResponseFormat = z.infer<typeof llmResponseFormatSchema>;

/** The fields of an `llm` step's input; each one is checked on its own where a workflow is created. */
export const llmInputFields = {
  /** One provider, or */
  provider: providerName.optional(),
  /** an ordered list of them: the next one is tried when one fails, rate-limits or has its circuit open. */
  providers: z
    .array(providerName, { error: 'expects an array of provider names' })
    .min(1, { error: 'expects at least one provider' })
    .max(LLM_LIMITS.maxProviders, { error: `expects at most ${LLM_LIMITS.maxProviders} providers` })
    .refine((names) => new Set(names).size === names.length, { error: 'names a provider twice' })
    .optional(),
  /** A model name or one of the providers' aliases for one. */
  model: z.string({ error: 'expects a model name' }).min(1, { error: 'expects a model name' }).max(256),
  messages: z
    .array(llmMessageSchema, { error: 'expects an array of messages' })
    .min(1, { error: 'expects at least one message' })
    .max(LLM_LIMITS.maxMessages, { error: `expects at most ${LLM_LIMITS.maxMessages} messages` }),
  temperature: z.number({ error: 'expects a number from 0 to 2' }).min(0, { error: 'expects a number from 0 to 2' }).max(2, { error: 'expects a number from 0 to 2' }).optional(),
  maxTokens: z
    .number({ error: `expects an integer from 1 to ${LLM_LIMITS.maxTokens}` })
    .int({ error: `expects an integer from 1 to ${LLM_LIMITS.maxTokens}` })
    .min(1, { error: `expects an integer from 1 to ${LLM_LIMITS.maxTokens}` })
    .max(LLM_LIMITS.maxTokens, { error: `expects an integer from 1 to ${LLM_LIMITS.maxTokens}` })
    .optional(),
  responseFormat: llmResponseFormatSchema.default({ type: 'text' }),
  tools: z.array(llmToolSchema, { error: 'expects an array of tools' }).max(LLM_LIMITS.maxTools, { error: `expects at most ${LLM_LIMITS.maxTools} tools` }).optional(),
  toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.object({ name: z.string().regex(TOOL_NAME) })]).optional(),
  stop: z.array(z.string().min(1).max(256)).max(LLM_LIMITS.maxStop).optional(),
  /** Streams tokens as they come (default); false waits for the whole answer. */
  stream: z.boolean().default(true),
  /** Longest wait for the first token and between two chunks, per provider call (default: the provider's). */
  timeoutMs: z.number().int().min(LLM_LIMITS.minTimeoutMs).max(LLM_LIMITS.maxTimeoutMs).optional(),
} as const;

/** Exactly one of `provider` and `providers`; both are checked as the names of the org's providers elsewhere. */
const oneProviderField = (input: { provider?: string | undefined; providers?: string[] | undefined }, ctx: z.RefinementCtx) => {
  if (input.provider === undefined && input.providers === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'expects a provider (or providers: [...])' });
  if (input.provider !== undefined && input.providers !== undefined) ctx.addIssue({ code: 'custom', path: ['providers'], message: 'give either provider or providers, not both' });
};

export const llmInputSchema = z.object(llmInputFields).superRefine(oneProviderField);
export type LlmInput = z.infer<typeof llmInputSchema>;

/** The providers a model step names, in order (an unparsed input: whatever is there and looks like names). */
export function providerNamesOf(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  const { provider, providers } = input as { provider?: unknown; providers?: unknown };
  if (typeof provider === 'string') return [provider];
  if (Array.isArray(providers)) return providers.filter((p): p is string => typeof p === 'string');
  return [];
}

/** Where a provider name sits in a step's input, for error messages (`provider` or `providers[1]`). */
export function providerFieldOf(input: unknown, name: string): string {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const providers = (input as { providers?: unknown }).providers;
    if (Array.isArray(providers)) {
      const index = providers.indexOf(name);
      if (index >= 0) return `providers[${index}]`;
    }
  }
  return 'provider';
}

/**
 * A provider's base URL as worker-local providers are matched by: trimmed, without trailing slashes.
 * The worker (which refuses a worker-local provider it does not serve) and the dispatcher (which places
 * such a step only on a worker that declares its URL) compare URLs by this one rule, so they agree.
 */
export const llmBaseUrlKey = (url: string): string => url.trim().replace(/\/+$/, '');

/** Cost in US dollars of a call, from prices per million tokens. */
export const costOf = (promptTokens: number, completionTokens: number, prices: { inputPerMillion: number; outputPerMillion: number }): number =>
  Math.round(((promptTokens * prices.inputPerMillion + completionTokens * prices.outputPerMillion) / 1_000_000) * 1e8) / 1e8;
