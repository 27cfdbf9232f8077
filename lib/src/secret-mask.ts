/**
 * Masking of organization secrets (issue 8). A secret's value travels to a worker only inside the
 * Execute request; everything stored or shown afterwards (the task input as displayed, log lines,
 * progress messages, outputs, errors, run events, span attributes) passes through a masker built
 * from the values that attempt was given, which replaces each of them with SECRET_MASK.
 *
 * Besides the value as it is, its JSON-escaped form (a value interpolated into a JSON body) and its
 * URL-encoded forms (a value in a query string or a form body) are masked too. A value that an
 * executor transforms further (hashes, base64, splits) cannot be recognized: do not log those.
 */

/** What a masked secret looks like. */
export const SECRET_MASK = '****';

export interface SecretMasker {
  /** True when there is anything to mask. */
  readonly active: boolean;
  /** The text with every known secret replaced by SECRET_MASK. */
  text(value: string): string;
  /** A deep copy of a JSON-like value with every string (keys included) masked; other values as they are. */
  value<T>(value: T): T;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a value takes in text: as is, JSON-escaped, URL-encoded (both space styles). */
function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(JSON.stringify(value).slice(1, -1));
  const encoded = encodeURIComponent(value);
  forms.add(encoded);
  forms.add(encoded.replace(/%20/g, '+'));
  return [...forms];
}

const MAX_DEPTH = 64;

/** A masker for these secret values (empty values are ignored). */
export function createSecretMasker(values: Iterable<string>): SecretMasker {
  const forms = [...new Set([...values].filter((v) => v.length > 0).flatMap(formsOf))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return { active: false, text: (value) => value, value: (value) => value };
  // Longest first, so a secret that contains another is masked whole.
  const pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
  const text = (value: string): string => (value.length === 0 ? value : value.replace(pattern, SECRET_MASK));
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return text(value);
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (value instanceof Date) return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [text(k), walk(v, depth + 1)]));
  };
  return { active: true, text, value: <T>(value: T) => walk(value, 0) as T };
}
