import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque secrets handed to clients (refresh tokens, invitation tokens, API keys): `<prefix>_<id>_<secret>`.
 * The id finds the row; only a SHA-256 of the secret is stored. The secrets are 256 random bits, so a
 * fast hash is enough: there is nothing to guess that a slow hash would protect.
 */

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 32 random bytes, base64url (43 characters). */
export const newSecret = (): string => randomBytes(32).toString('base64url');

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random letters and digits, without modulo bias. */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: larger bytes would favour the first characters.
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

const uuidToHex = (uuid: string): string => uuid.replace(/-/g, '');
const hexToUuid = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** A token naming a row by its uuid: `<prefix>_<32 hex>_<secret>`. */
export const formatRowToken = (prefix: string, rowId: string, secret: string): string => `${prefix}_${uuidToHex(rowId)}_${secret}`;

/** The row id and secret of a token made by formatRowToken, or undefined when it is not one. */
export function parseRowToken(prefix: string, token: string): { rowId: string; secret: string } | undefined {
  const match = new RegExp(`^${prefix}_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$`).exec(token.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return { rowId: hexToUuid(match[1]), secret: match[2] };
}
