import { badInput } from '@orchestra/lib';
import { referencedSecrets, SECRET_NAME } from './templates';
import type { StepDefinition } from './workflow-definition';

export const SECRET_LIMITS = {
  /** Secrets per organization. */
  perOrg: 500,
  /** Bytes of one value (UTF-8). */
  valueBytes: 64 * 1024,
  /** Characters a value has at least: every occurrence of a value is masked in logs and outputs, so a one-letter value would mask every such letter. */
  valueMinChars: 4,
} as const;

export function checkSecretName(name: string, field = 'name'): string {
  if (!SECRET_NAME.test(name)) {
    throw badInput(field, `a secret name starts with a letter or _ and has at most 100 letters, digits and _ (got ${JSON.stringify(name.slice(0, 120))})`, 'INVALID_SECRET_NAME');
  }
  return name;
}

/** Checks a value without ever putting it in the message. */
export function checkSecretValue(value: string, field = 'value'): string {
  if (value.length < SECRET_LIMITS.valueMinChars) {
    throw badInput(field, `a secret value has at least ${SECRET_LIMITS.valueMinChars} characters (every occurrence of it is masked in logs and outputs)`, 'SECRET_VALUE_TOO_SHORT');
  }
  if (Buffer.byteLength(value, 'utf8') > SECRET_LIMITS.valueBytes) {
    throw badInput(field, `a secret value has at most ${SECRET_LIMITS.valueBytes} bytes`, 'SECRET_VALUE_TOO_LARGE');
  }
  return value;
}

/** Every secret the steps read, with the index of the first step that reads it. */
export function secretsReadBySteps(steps: readonly Pick<StepDefinition, 'input'>[]): Map<string, number> {
  const firstReader = new Map<string, number>();
  steps.forEach((step, index) => {
    for (const name of referencedSecrets(step.input)) if (!firstReader.has(name)) firstReader.set(name, index);
  });
  return firstReader;
}

/**
 * Refuses steps that read a secret the organization does not have: BAD_USER_INPUT with reason
 * UNKNOWN_SECRET whose field points at the step's input and whose message names the step and the secret.
 */
export function assertSecretsExist(steps: readonly Pick<StepDefinition, 'id' | 'input'>[], existing: ReadonlySet<string>, fieldBase = 'input.steps'): void {
  for (const [name, index] of secretsReadBySteps(steps)) {
    if (existing.has(name)) continue;
    const step = steps[index] as Pick<StepDefinition, 'id'>;
    throw badInput(`${fieldBase}[${index}].input`, `step "${step.id}": "{{ secrets.${name} }}" reads secret "${name}", which this organization does not have (create it with createSecret first)`, 'UNKNOWN_SECRET');
  }
}
