import { createSecretMasker, inspectJson, MAX_JSON_DEPTH, MAX_TASK_VALUE_BYTES, SECRET_MASK, type Queryable, type SecretMasker } from '@orchestra/lib';
import { InputLimitError, referencedSecrets, resolveTemplates, type TemplateContext } from '../domain/templates';
import { sealedSecretsOfOrg, touchSecretsUsed } from '../store/secrets';
import { openSecret, SecretDecryptionError, type SecretKeyring } from './keyring';

/**
 * Secrets at dispatch (issue 8): the only place a secret's value is read. A task's input template is
 * resolved twice from the same context: once with the values, for the worker's Execute request only,
 * and once with SECRET_MASK in their place, which is what is stored and shown as the task's input.
 * The masker built from the values then masks everything that comes back from the attempt (progress,
 * log lines, output, error, span attributes) before it is stored, published or logged.
 */

/** A step's input could not be given its secrets: the attempt fails without a retry (the same input fails the same way). */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
  constructor(
    readonly code: 'SECRET_NOT_FOUND' | 'SECRETS_NOT_CONFIGURED' | 'SECRET_UNREADABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DispatchInput {
  /** For the worker's Execute request only: never stored, logged or published. */
  input: unknown;
  /** The input as stored and shown: each secret replaced by SECRET_MASK. */
  shown: unknown;
  /** Masks the values this input carries (inactive when it carries none). */
  masker: SecretMasker;
  /** The values themselves, for the Execute request's secret_values (the worker masks them too). */
  values: string[];
}

/** Reads an org's secrets of these names, decrypted (values by name), and notes that they were used. */
export type SecretReader = (orgId: string, names: readonly string[]) => Promise<Map<string, string>>;

/** The reader over a transaction: dispatch runs as the system, so the org is part of every query. */
export function secretReader(tx: Queryable, keyring: SecretKeyring | undefined): SecretReader {
  return async (orgId, names) => {
    if (names.length === 0) return new Map();
    if (!keyring) throw new SecretUnavailableError('SECRETS_NOT_CONFIGURED', `the input reads secrets (${names.join(', ')}) but this orchestration service has no SECRETS_KEYS`);
    const rows = await sealedSecretsOfOrg(tx, orgId, names);
    const values = new Map<string, string>();
    for (const row of rows) {
      try {
        values.set(row.name, openSecret(keyring, { orgId, secretId: row.id }, row.sealed));
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        throw new SecretUnavailableError('SECRET_UNREADABLE', `secret "${row.name}" cannot be decrypted: ${error.message}`, { cause: error });
      }
    }
    const missing = names.filter((n) => !values.has(n));
    if (missing.length > 0) {
      throw new SecretUnavailableError('SECRET_NOT_FOUND', `the organization has no secret ${missing.map((n) => `"${n}"`).join(', ')} (deleted after the workflow was saved?)`);
    }
    await touchSecretsUsed(
      tx,
      rows.map((r) => r.id),
    );
    return values;
  };
}

/** The resolved input fits in an Execute request and decodes on the worker (issue 9 items 7, 8), or InputLimitError. */
function checkResolvedInput(input: unknown): unknown {
  const violation = inspectJson(input, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_TASK_VALUE_BYTES, text: false }, 'input');
  if (violation?.reason === 'JSON_TOO_DEEP') throw new InputLimitError('INPUT_TOO_DEEP', `the input once its templates are resolved: ${violation.path} ${violation.message} (what a worker can decode)`);
  if (violation !== undefined) throw new InputLimitError('INPUT_TOO_LARGE', `the input once its templates are resolved ${violation.message}`);
  return input;
}

/**
 * Resolves a task's input template for dispatch. Throws TemplateError for references that do not
 * resolve (as before secrets), SecretUnavailableError for secrets that cannot be given, and
 * InputLimitError for an input that would be larger than MAX_TASK_VALUE_BYTES or nested deeper than
 * MAX_JSON_DEPTH (checked while resolving, before anything large is built).
 */
export async function resolveDispatchInput(template: unknown, context: Omit<TemplateContext, 'secrets'>, orgId: string, readSecrets: SecretReader): Promise<DispatchInput> {
  const budget = () => ({ maxBytes: MAX_TASK_VALUE_BYTES, used: 0 });
  const names = referencedSecrets(template);
  if (names.length === 0) {
    const input = checkResolvedInput(resolveTemplates(template, context, budget()));
    return { input, shown: input, masker: createSecretMasker([]), values: [] };
  }
  const values = await readSecrets(orgId, names);
  const masker = createSecretMasker(values.values());
  const input = checkResolvedInput(resolveTemplates(template, { ...context, secrets: Object.fromEntries(values) }, budget()));
  const masks = Object.fromEntries(names.map((n) => [n, SECRET_MASK]));
  // Masked again: an upstream output or the run input may carry a value too.
  const shown = masker.value(resolveTemplates(template, { ...context, secrets: masks }));
  return { input, shown, masker, values: [...values.values()] };
}
