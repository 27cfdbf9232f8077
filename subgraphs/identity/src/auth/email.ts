import { badInput } from '@orchestra/lib';

// The WHATWG "valid e-mail address" grammar (what browsers accept in <input type=email>), with a
// dot required in the domain: a pragmatic check, not RFC 5322 in full.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const MAX_EMAIL_LENGTH = 254;

/** Trims and lower-cases an address, or throws BAD_USER_INPUT (reason INVALID_EMAIL) naming `field`. */
export function normalizeEmail(raw: string, field = 'email'): string {
  const email = raw.trim().toLowerCase();
  if (email === '') throw badInput(field, 'email is required', 'INVALID_EMAIL');
  if (email.length > MAX_EMAIL_LENGTH) throw badInput(field, `email is longer than ${MAX_EMAIL_LENGTH} characters`, 'INVALID_EMAIL');
  if (!EMAIL.test(email)) throw badInput(field, `"${raw.trim()}" is not a valid email address`, 'INVALID_EMAIL');
  return email;
}
