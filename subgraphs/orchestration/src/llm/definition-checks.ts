import { badInput, isLlmCapability, llmInputFields, providerFieldOf, providerNamesOf, type Queryable } from '@orchestra/lib';
import type { z } from 'zod';
import type { StepDefinition } from '../domain/workflow-definition';
import { llmProvidersByName } from '../store/llm-providers';
import { existingSecretNames } from '../store/secrets';

/**
 * Model steps (capability `llm`) checked where a workflow version is created (issue 14), in its
 * transaction under the organization's row-level security: each literal field of the input against
 * the llm contract (messages an array of messages, maxTokens in range...), the required fields
 * present, and every provider named literally one the organization has, with its API key's secret.
 * A field that holds a template (`{{ input.messages }}`) is checked by the worker when it is resolved.
 * Each refusal is BAD_USER_INPUT naming the field (`input.steps[1].input.maxTokens`).
 */

const hasTemplate = (value: unknown): boolean => JSON.stringify(value)?.includes('{{') ?? false;

const pathOf = (path: ReadonlyArray<PropertyKey>): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');

function checkLiteralFields(input: Record<string, unknown>, at: string, stepName: string): void {
  for (const [field, schema] of Object.entries(llmInputFields) as Array<[string, z.ZodType]>) {
    if (!Object.hasOwn(input, field)) continue;
    const value = input[field];
    const parsed = schema.safeParse(value);
    if (parsed.success || hasTemplate(value)) continue;
    const issue = parsed.error.issues[0];
    throw badInput(`${at}.${field}${pathOf(issue?.path ?? [])}`, `${stepName}: ${field}${pathOf(issue?.path ?? [])} ${issue?.message ?? 'is not valid'}`, 'INVALID_LLM_INPUT');
  }
  for (const field of ['model', 'messages'] as const) {
    if (input[field] === undefined) throw badInput(`${at}.${field}`, `${stepName}: an llm step needs ${field}`, 'INVALID_LLM_INPUT');
  }
  if (input['provider'] === undefined && input['providers'] === undefined) throw badInput(`${at}.provider`, `${stepName}: an llm step needs a provider (or providers: [...])`, 'INVALID_LLM_INPUT');
  if (input['provider'] !== undefined && input['providers'] !== undefined) throw badInput(`${at}.providers`, `${stepName}: give either provider or providers, not both`, 'INVALID_LLM_INPUT');
}

export async function checkModelSteps(tx: Queryable, steps: readonly StepDefinition[], fieldBase = 'input.steps'): Promise<void> {
  const named: Array<{ at: string; stepName: string; input: unknown; names: string[] }> = [];
  steps.forEach((step, i) => {
    if (!isLlmCapability(step.capability)) return;
    const at = `${fieldBase}[${i}].input`;
    const stepName = `step "${step.id}"`;
    if (step.input === null || typeof step.input !== 'object' || Array.isArray(step.input)) throw badInput(at, `${stepName}: the input of a model step is an object`, 'INVALID_LLM_INPUT');
    // browser.agent has its own input contract (its executor checks it); only the provider names are common.
    if (step.capability === 'llm') checkLiteralFields(step.input as Record<string, unknown>, at, stepName);
    named.push({ at, stepName, input: step.input, names: providerNamesOf(step.input).filter((n) => !n.includes('{{')) });
  });
  const names = [...new Set(named.flatMap((s) => s.names))];
  if (names.length === 0) return;
  const providers = await llmProvidersByName(tx, names);
  const secrets = await existingSecretNames(tx, [...new Set([...providers.values()].flatMap((p) => (p.apiKeySecret === null ? [] : [p.apiKeySecret])))]);
  for (const step of named) {
    for (const name of step.names) {
      const field = `${step.at}.${providerFieldOf(step.input, name)}`;
      const provider = providers.get(name);
      if (!provider) throw badInput(field, `${step.stepName}: the organization has no model provider "${name}" (create it first)`, 'UNKNOWN_PROVIDER');
      if (provider.apiKeySecret !== null && !secrets.has(provider.apiKeySecret)) {
        throw badInput(field, `${step.stepName}: the API key secret "${provider.apiKeySecret}" of provider "${name}" is missing (create the secret again or change the provider)`, 'PROVIDER_SECRET_MISSING');
      }
    }
  }
}
