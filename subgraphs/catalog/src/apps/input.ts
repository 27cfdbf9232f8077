import { isIP } from 'node:net';
import { AppError, badInput, isPrivateAddress, isUuid } from '@orchestra/lib';

// Slugs appear in URLs and CLI arguments: lowercase letters, digits and single inner hyphens.
const SLUG = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$/;
const TAG = /^[a-z0-9][a-z0-9._:-]{0,39}$/;
export const MAX_TAGS = 20;
export const MAX_NAME_LENGTH = 100;
export const MAX_DESCRIPTION_LENGTH = 2_000;
export const MAX_URL_LENGTH = 2_048;
export const MAX_CONFIG_BYTES = 256 * 1024;
export const MAX_PAGE_SIZE = 100;

export function parseSlug(value: string, field = 'slug'): string {
  const slug = value.trim();
  if (!SLUG.test(slug)) {
    throw badInput(
      field,
      `${field} ${JSON.stringify(value)} is not valid: use 2-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (e.g. "support-bot")`,
      'INVALID_SLUG',
    );
  }
  return slug;
}

export function parseName(value: string, field = 'name'): string {
  const name = value.trim();
  if (name.length === 0) throw badInput(field, `${field} must not be empty`, 'EMPTY');
  if (name.length > MAX_NAME_LENGTH) throw badInput(field, `${field} must be at most ${MAX_NAME_LENGTH} characters`, 'TOO_LONG');
  return name;
}

export function parseDescription(value: string, field = 'description'): string {
  const description = value.trim();
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw badInput(field, `${field} must be at most ${MAX_DESCRIPTION_LENGTH} characters`, 'TOO_LONG');
  }
  return description;
}

/** Lowercases, de-duplicates and checks tags; the order given is kept. */
export function parseTags(values: readonly string[], field = 'tags'): string[] {
  const tags: string[] = [];
  values.forEach((raw, index) => {
    const tag = raw.trim().toLowerCase();
    if (!TAG.test(tag)) {
      throw badInput(
        `${field}[${index}]`,
        `${field}[${index}] ${JSON.stringify(raw)} is not a valid tag: use 1-40 letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
        'INVALID_TAG',
      );
    }
    if (!tags.includes(tag)) tags.push(tag);
  });
  if (tags.length > MAX_TAGS) throw badInput(field, `an app may have at most ${MAX_TAGS} tags (got ${tags.length})`, 'TOO_MANY_TAGS');
  return tags;
}

/**
 * A health-check URL: absolute http(s), no credentials in it (they would end up in logs and
 * history). Whether its host is a private address is decided at probe time by the network guard,
 * because DNS can change between now and then.
 */
/**
 * An absolute http(s) URL without credentials. Unless private networks are allowed, a URL whose
 * host is a private, loopback or link-local address written out (or `localhost`) is refused here,
 * since the prober would refuse it on every probe; a name that resolves to one is caught by the
 * prober (the app shows DOWN with the reason).
 */
export function parseHealthCheckUrl(value: string, field = 'healthCheckUrl', { allowPrivate = true }: { allowPrivate?: boolean } = {}): string {
  const raw = value.trim();
  if (raw.length > MAX_URL_LENGTH) throw badInput(field, `${field} must be at most ${MAX_URL_LENGTH} characters`, 'TOO_LONG');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput(field, `${field} ${JSON.stringify(value)} is not an absolute URL (e.g. https://bot.example.com/healthz)`, 'INVALID_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput(field, `${field} must use http or https (got ${url.protocol.replace(/:$/, '')})`, 'INVALID_URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw badInput(field, `${field} must not contain credentials`, 'INVALID_URL');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host)))) {
    throw badInput(
      field,
      `${field} points at a private address (${host}), which this catalog does not probe: use an address reachable from the public network, or have the operator set CATALOG_ALLOW_PRIVATE_NETWORK=true`,
      'PRIVATE_ADDRESS',
    );
  }
  return url.toString();
}

export function parseId(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(field, `${field} ${JSON.stringify(value)} is not a valid id`, 'INVALID_ID');
  return value.toLowerCase();
}

/** The config document as stored: any JSON value, of bounded size. */
export function parseConfigDocument(value: unknown, field = 'config'): unknown {
  if (value === undefined) throw badInput(field, `${field} is required`, 'REQUIRED');
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_CONFIG_BYTES) {
    throw badInput(field, `${field} is larger than ${MAX_CONFIG_BYTES / 1024} KiB`, 'CONFIG_TOO_LARGE');
  }
  return value;
}

export function parsePageSize(first: number | null | undefined, field = 'first', fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(field, `${field} must be between 1 and ${MAX_PAGE_SIZE}`, 'OUT_OF_RANGE');
  }
  return size;
}

/** Cursors are opaque to clients: base64url of the JSON of the sort key of the last row. */
export const encodeCursor = (key: readonly unknown[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

export function decodeCursor<T extends unknown[]>(cursor: string, shape: (key: unknown[]) => key is T, field = 'after'): T {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && shape(key)) return key;
  } catch {
    // falls through to the error below
  }
  throw new AppError('BAD_USER_INPUT', `${field} is not a cursor this list returned`, { field, reason: 'INVALID_CURSOR' });
}
