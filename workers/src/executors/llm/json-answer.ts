import type { ErrorObject, ValidateFunction } from 'ajv';
import { NonRetryableError } from '@orchestra/lib/worker';

/**
 * Reads a model's answer as JSON and checks it against the step's schema (ajv, JSON Schema
 * draft-07 as OpenAI's structured outputs take it). A problem is described by the JSON pointer of
 * the value at fault, so the re-ask and the final INVALID_MODEL_OUTPUT can name it.
 */

export type JsonCheck = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * Checks answers against one schema (compiled once); `undefined` checks that the answer is JSON at
 * all. ajv is loaded with the first schema, not with the worker (issue 11, lean processes).
 */
export async function createJsonAnswerCheck(schema: Record<string, unknown> | undefined): Promise<(answer: string) => JsonCheck> {
  let validate: ValidateFunction | undefined;
  if (schema !== undefined) {
    const { default: Ajv } = await import('ajv');
    const ajv = new Ajv({ allErrors: false, strict: false, validateSchema: true });
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new NonRetryableError('BAD_INPUT', `input.responseFormat.schema: not a valid JSON schema: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return (answer) => {
    let value: unknown;
    try {
      value = JSON.parse(stripFences(answer));
    } catch (error) {
      return { ok: false, problem: `the answer is not JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (!validate || validate(value)) return { ok: true, value };
    return { ok: false, problem: describeErrors(validate.errors ?? []) };
  };
}

/** Models often wrap JSON in a ```json fence even when asked not to. */
const stripFences = (text: string): string => {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i.exec(trimmed);
  return fenced?.[1] ?? trimmed;
};

const describeErrors = (errors: readonly ErrorObject[]): string =>
  errors
    .slice(0, 3)
    .map((e) => {
      const path = e.keyword === 'required' ? `${e.instancePath}/${String((e.params as { missingProperty?: string }).missingProperty ?? '')}` : e.instancePath;
      const message = e.keyword === 'required' ? 'is required' : (e.message ?? 'is invalid');
      return `at ${path === '' ? '/' : path}: ${message}`;
    })
    .join('; ');
