import { BROWSER_AGENT_REQUIRED_FIELDS, badInput, browserAgentInputFields, isLlmCapability, llmInputFields, providerFieldOf, providerNamesOf, type LlmCapability, type Queryable } from '@orchestra/lib';
import type { z } from 'zod';
import type { StepDefinition } from '../domain/workflow-definition';
import { llmProvidersByName } from '../store/llm-providers';
import { existingSecretNames } from '../store/secrets';

/**
 * Model steps (capabilities `llm` and `browser.agent`) checked where a workflow version is created (issue 14), in its
 * transaction under the organization's row-level security: each literal field of the input against
 * the step's contract (messages an array of messages, maxTokens in range, maxSteps at most 50...), the required fields
 * present, and every provider named literally one the organization has, with its API key's secret.
 * A field that holds a template (`{{ input.messages }}`) is checked by the worker when it is resolved.
 * Each refusal is BAD_USER_INPUT naming the field (`input.steps[1].input.maxTokens`).
 */

const hasTemplate = (value: unknown): boolean => JSON.stringify(value)?.includes('{{') ?? false;

const pathOf = (path: ReadonlyArray<PropertyKey>): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');

/** Each model capability's input fields and those it cannot do without. */
const CONTRACTS: Record<LlmCapability, { fields: Record<string, z.ZodType>; required: readonly string[]; unknownFields: boolean }> = {
  llm: { fields: llmInputFields, required: ['model', 'messages'], unknownFields: true },
  'browser.agent': { fields: browserAgentInputFields, required: BROWSER_AGENT_REQUIRED_FIELDS, unknownFields: false },
};

function checkLiteralFields(capability: LlmCapability, input: Record<string, unknown>, at: string, stepName: string): void {
  const contract = CONTRACTS[capability];
  const code = capability === 'llm' ? 'INVALID_LLM_INPUT' : 'INVALID_BROWSER_AGENT_INPUT';
  for (const [field, schema] of Object.entries(contract.fields)) {
    if (!Object.hasOwn(input, field)) continue;
    const value = input[field];
    const parsed = schema.safeParse(value);
    if (parsed.success || hasTemplate(value)) continue;
    const issue = parsed.error.issues[0];
    throw badInput(`${at}.${field}${pathOf(issue?.path ?? [])}`, `${stepName}: ${field}${pathOf(issue?.path ?? [])} ${issue?.message ?? 'is not valid'}`, code);
  }
  if (!contract.unknownFields) {
    const unknown = Object.keys(input).find((field) => !Object.hasOwn(contract.fields, field));
    if (unknown !== undefined) throw badInput(`${at}.${unknown}`, `${stepName}: a ${capability} step has no field ${unknown} (its fields: ${Object.keys(contract.fields).join(', ')})`, code);
  }
  for (const field of contract.required) {
    if (input[field] === undefined) throw badInput(`${at}.${field}`, `${stepName}: a ${capability} step needs ${field}`, code);
  }
  if (input['provider'] === undefined && input['providers'] === undefined) throw badInput(`${at}.provider`, `${stepName}: a ${capability} step needs a provider (or providers: [...])`, code);
  if (input['provider'] !== undefined && input['providers'] !== undefined) throw badInput(`${at}.providers`, `${stepName}: give either provider or providers, not both`, code);
}

export async function checkModelSteps(tx: Queryable, steps: readonly StepDefinition[], fieldBase = 'input.steps'): Promise<void> {
  const named: Array<{ at: string; stepName: string; input: unknown; names: string[] }> = [];
  steps.forEach((step, i) => {
    if (!isLlmCapability(step.capability)) return;
    const at = `${fieldBase}[${i}].input`;
    const stepName = `step "${step.id}"`;
    if (step.input === null || typeof step.input !== 'object' || Array.isArray(step.input)) throw badInput(at, `${stepName}: the input of a model step is an object`, 'INVALID_LLM_INPUT');
    checkLiteralFields(step.capability, step.input as Record<string, unknown>, at, stepName);
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
