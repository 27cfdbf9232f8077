import { z } from 'zod';
import { llmInputFields, LLM_LIMITS } from './llm';

/**
 * The contract of `browser.agent` steps (issue 14): a model drives the browser toward a goal, one
 * tool call per step. Shared by the workers (which validate and run it) and the orchestration
 * service (which checks a workflow's literal inputs when it is created). Every dimension is bounded:
 * steps, time, tokens per call and in all, the size of what the model is shown of a page.
 */

export const BROWSER_AGENT_LIMITS = {
  maxSteps: 50,
  defaultMaxSteps: 20,
  /** Tokens of one model answer. */
  maxTokensPerCall: 16_384,
  defaultMaxTokensPerCall: 1_024,
  /** Tokens of every model call of the attempt together (prompt and completion). */
  maxTokenBudget: 2_000_000,
  defaultTokenBudget: 200_000,
  /** Characters of one page observation sent to the model. */
  minObservationChars: 1_000,
  maxObservationChars: 50_000,
  defaultObservationChars: 8_000,
  /** The whole loop. */
  maxDurationMs: 30 * 60_000,
  defaultDurationMs: 5 * 60_000,
  maxGoalChars: 10_000,
  maxAllowedDomains: 50,
  maxSecrets: 20,
  /** Characters of a `done` result (as JSON). */
  maxResultChars: 200_000,
} as const;

/** Task failure codes of browser.agent (beside the llm codes and the browser's). */
export const BROWSER_AGENT_FAILURE_CODES = {
  /** maxSteps model turns passed without `done`. */
  MAX_STEPS_REACHED: 'MAX_STEPS_REACHED',
  /** The attempt's model calls used more tokens than `tokenBudget`. */
  TOKEN_BUDGET_EXCEEDED: 'TOKEN_BUDGET_EXCEEDED',
  /** The loop ran longer than `maxDurationMs`. */
  AGENT_TIMEOUT: 'AGENT_TIMEOUT',
  /** The model called `fail(reason)`: it judged the goal out of reach. */
  AGENT_GAVE_UP: 'AGENT_GAVE_UP',
} as const;

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const DOMAIN = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

const int = (min: number, max: number) =>
  z
    .number({ error: `expects an integer from ${min} to ${max}` })
    .int({ error: `expects an integer from ${min} to ${max}` })
    .min(min, { error: `expects an integer from ${min} to ${max}` })
    .max(max, { error: `expects an integer from ${min} to ${max}` });

const httpUrl = z
  .string({ error: 'expects an http or https URL' })
  .max(8_192, { error: 'expects at most 8192 characters' })
  .refine(
    (value) => {
      try {
        const { protocol } = new URL(value);
        return protocol === 'http:' || protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: 'expects an http or https URL' },
  );

/** The fields of a browser.agent step's input; each one is checked on its own where a workflow is created. */
export const browserAgentInputFields = {
  goal: z.string({ error: 'expects the goal as text' }).min(1, { error: 'expects the goal as text' }).max(BROWSER_AGENT_LIMITS.maxGoalChars, { error: `expects at most ${BROWSER_AGENT_LIMITS.maxGoalChars} characters` }),
  startUrl: httpUrl,
  provider: llmInputFields.provider,
  providers: llmInputFields.providers,
  model: llmInputFields.model,
  temperature: llmInputFields.temperature,
  /** Model turns at most (each one tool call). */
  maxSteps: int(1, BROWSER_AGENT_LIMITS.maxSteps).default(BROWSER_AGENT_LIMITS.defaultMaxSteps),
  /** Tokens of one model answer. */
  maxTokens: int(1, BROWSER_AGENT_LIMITS.maxTokensPerCall).default(BROWSER_AGENT_LIMITS.defaultMaxTokensPerCall),
  /** Tokens of all the attempt's model calls together. */
  tokenBudget: int(1, BROWSER_AGENT_LIMITS.maxTokenBudget).default(BROWSER_AGENT_LIMITS.defaultTokenBudget),
  /** Characters of a page observation sent to the model. */
  maxObservationChars: int(BROWSER_AGENT_LIMITS.minObservationChars, BROWSER_AGENT_LIMITS.maxObservationChars).default(BROWSER_AGENT_LIMITS.defaultObservationChars),
  maxDurationMs: int(1_000, BROWSER_AGENT_LIMITS.maxDurationMs).default(BROWSER_AGENT_LIMITS.defaultDurationMs),
  /** Hosts pages may navigate to (`example.com` also allows its subdomains; `*.example.com` only them). Absent: any public host. */
  allowedDomains: z
    .array(z.string().max(253).regex(DOMAIN, { error: 'expects a host name such as example.com or *.example.com' }), { error: 'expects an array of host names' })
    .min(1, { error: 'expects at least one host name (leave the field out to allow any)' })
    .max(BROWSER_AGENT_LIMITS.maxAllowedDomains, { error: `expects at most ${BROWSER_AGENT_LIMITS.maxAllowedDomains} host names` })
    .optional(),
  /**
   * Values the model may have typed by name (`{ "SHOP_PASSWORD": "{{ secrets.SHOP_PASSWORD }}" }`):
   * the model sees the names only, the worker types the value.
   */
  secrets: z
    .record(z.string().regex(SECRET_NAME, { error: 'expects secret names of letters, digits and _' }), z.string().min(1).max(10_000), { error: 'expects an object of name: value' })
    .refine((s) => Object.keys(s).length <= BROWSER_AGENT_LIMITS.maxSecrets, { error: `expects at most ${BROWSER_AGENT_LIMITS.maxSecrets} secrets` })
    .default({}),
  /** A screenshot artifact after every step (default); false keeps only those the model asks for. */
  screenshotEveryStep: z.boolean().default(true),
  viewport: z.strictObject({ width: int(100, 4_096), height: int(100, 4_096) }).default({ width: 1280, height: 800 }),
  /** Longest wait of one browser action (a navigation, an element to be clickable). */
  actionTimeoutMs: int(100, 120_000).default(15_000),
  /** Longest wait for the model's first token and between two chunks, per call. */
  timeoutMs: int(LLM_LIMITS.minTimeoutMs, LLM_LIMITS.maxTimeoutMs).optional(),
} as const;

const oneProviderField = (input: { provider?: string | undefined; providers?: string[] | undefined }, ctx: z.RefinementCtx) => {
  if (input.provider === undefined && input.providers === undefined) ctx.addIssue({ code: 'custom', path: ['provider'], message: 'expects a provider (or providers: [...])' });
  if (input.provider !== undefined && input.providers !== undefined) ctx.addIssue({ code: 'custom', path: ['providers'], message: 'give either provider or providers, not both' });
};

export const browserAgentInputSchema = z.strictObject(browserAgentInputFields).superRefine(oneProviderField);
export type BrowserAgentInput = z.infer<typeof browserAgentInputSchema>;

/** The fields a browser.agent step must have (the rest have defaults). */
export const BROWSER_AGENT_REQUIRED_FIELDS = ['goal', 'startUrl', 'model'] as const;

/** Whether `host` is one of `allowed` (`example.com` covers `shop.example.com`; `*.example.com` only subdomains). */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    if (e.startsWith('*.')) return h.endsWith(e.slice(1));
    return h === e || h.endsWith(`.${e}`);
  });
}
