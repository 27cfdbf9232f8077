import { badInput, isUuid } from '@orchestra/lib';

/** A trimmed, non-empty name of at most `max` characters, or BAD_USER_INPUT naming `field`. */
export function requireName(field: string, value: string | null | undefined, max: number): string {
  const name = (value ?? '').trim();
  if (name === '') throw badInput(field, `${field} is required`, 'REQUIRED');
  if ([...name].length > max) throw badInput(field, `${field} is longer than ${max} characters`, 'TOO_LONG');
  // Control characters break logs and audit exports and are never part of a name.
  if (/\p{Cc}/u.test(name)) throw badInput(field, `${field} must not contain control characters`, 'INVALID_CHARACTERS');
  return name;
}

/** A UUID argument, or BAD_USER_INPUT naming `field`. */
export function requireId(field: string, value: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} is not a valid id`, 'INVALID_ID');
  return value.toLowerCase();
}
