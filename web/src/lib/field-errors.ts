import { ApiError } from './api/errors';

/**
 * The API's message when it blamed this input field (`email`, or `input.email`), to show under the
 * field itself; undefined otherwise.
 */
export function fieldErrorFor(error: unknown, name: string): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'BAD_USER_INPUT') return undefined;
  const hit = error.errors.find((e) => e.field !== undefined && (e.field === name || e.field.endsWith(`.${name}`)));
  return hit?.message;
}

/** Whether the API blamed one of these fields (then the message shows under the field, not again in a box). */
export const blamesField = (error: unknown, names: readonly string[]): boolean => names.some((name) => fieldErrorFor(error, name) !== undefined);
