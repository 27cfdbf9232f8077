import { ApiError } from './api/errors';

/**
 * The API's message when it blamed this input field (`email`, or `input.email`), to show under the
 * field itself (without the `input.` prefix of the API's field paths); undefined otherwise.
 */
export function fieldErrorFor(error: unknown, name: string): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'BAD_USER_INPUT') return undefined;
  const hit = error.errors.find((e) => e.field !== undefined && (e.field === name || e.field.endsWith(`.${name}`)));
  // Under the field itself, the API's path to it (`input.slug "x" is not valid`) means nothing to the reader.
  return hit?.message.replace(/\binput\./g, '');
}

/** Whether the API blamed one of these fields (then the message shows under the field, not again in a box). */
export const blamesField = (error: unknown, names: readonly string[]): boolean => names.some((name) => fieldErrorFor(error, name) !== undefined);

/** One place where a config breaks the app's config schema: a JSON pointer (`/routing/region`) and what is wrong. */
export interface ConfigViolation {
  path: string;
  message: string;
}

const isViolation = (value: unknown): value is ConfigViolation =>
  typeof value === 'object' && value !== null && typeof (value as ConfigViolation).path === 'string' && typeof (value as ConfigViolation).message === 'string';

/**
 * The violations of a config the catalog refused (reason CONFIG_INVALID), one per line to show under
 * the field: from the error's `violations` extension, or else read back from its message
 * ("… config schema: /extra is not allowed; /model must be …").
 */
export function configViolationsOf(error: unknown): ConfigViolation[] | undefined {
  if (!(error instanceof ApiError) || error.reason !== 'CONFIG_INVALID') return undefined;
  const listed = error.extensions['violations'];
  if (Array.isArray(listed) && listed.every(isViolation) && listed.length > 0) return listed;
  const colon = error.message.indexOf(': ');
  if (colon === -1) return [{ path: '', message: error.message }];
  return error.message
    .slice(colon + 2)
    .split('; ')
    .map((part) => {
      const match = /^(\/\S*)\s+(.*)$/.exec(part);
      return match ? { path: match[1]!, message: match[2]! } : { path: '', message: part };
    });
}
