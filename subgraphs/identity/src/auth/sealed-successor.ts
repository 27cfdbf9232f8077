import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The successor of a traded refresh token, sealed so that only whoever presents the traded token can read
 * it back (the reuse grace in sessions.ts answers it again). The key is derived (HKDF-SHA-256) from the
 * traded token's secret, which the database never holds: it keeps a SHA-256 of it, and HKDF with its own
 * salt and label is a different function, so neither a copy of the database nor the stored hash opens it.
 * The traded token's row id is the additional data: a sealed value moved to another row does not open.
 */

const INFO = 'orchestra refresh-token successor v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const keyFor = (secret: string, rowId: string): Buffer => Buffer.from(hkdfSync('sha256', secret, rowId, INFO, 32));

/** `base64url(iv | tag | ciphertext)` of `successor`, under the key of the traded token (`secret`, `rowId`). */
export function sealSuccessor(secret: string, rowId: string, successor: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, rowId), iv);
  cipher.setAAD(Buffer.from(rowId));
  const body = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The successor sealed by sealSuccessor, or undefined when this secret and row do not open it. */
export function openSuccessor(secret: string, rowId: string, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, rowId), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(rowId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
