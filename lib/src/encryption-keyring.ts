import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * A keyring of AES-256-GCM keys from the environment, for values a service encrypts at rest with a
 * key the database never holds (identity's TOTP secrets). The variable lists `id:base64-of-32-bytes`
 * pairs, comma-separated: the first encrypts, the others only decrypt. Each sealed value records the
 * id of its key, so rotating is: put a new key first, keep the old one after it until the service has
 * re-sealed what the old one sealed, then drop it. SECRETS_KEYS (lib/secret-keyring.ts) is a keyring
 * of this kind too, and seals with the same primitive (sealBytes / openBytes).
 */

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface EncryptionKeyring {
  /** The key that seals new values. */
  readonly active: EncryptionKey;
  /** Every key that can open, by id. */
  readonly keys: ReadonlyMap<string, EncryptionKey>;
}

/** Parses `id:base64,id:base64` (the first active); a message naming what is wrong, never a key. */
export function parseEncryptionKeyring(raw: string): EncryptionKeyring | string {
  const keys = new Map<string, EncryptionKey>();
  let active: EncryptionKey | undefined;
  for (const [index, entry] of raw.split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const key = Buffer.from(colon < 0 ? '' : entry.slice(colon + 1), 'base64');
    if (!KEY_ID.test(id) || key.length !== 32) return `expects id:base64 pairs of 32-byte keys, comma-separated, the active one first (entry ${index + 1} is not one)`;
    if (keys.has(id)) return `expects each key id once (${id} is given twice)`;
    const entryKey = { id, key };
    keys.set(id, entryKey);
    active ??= entryKey;
  }
  if (!active) return 'expects at least one id:base64 key';
  return { active, keys };
}

/** The zod type of such a variable: a keyring, or undefined when unset or empty. */
export const encryptionKeyringEnv = z
  .string()
  .optional()
  .transform((raw, ctx): EncryptionKeyring | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const parsed = parseEncryptionKeyring(raw);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  });

/** A fresh one-key value for such a variable (npm start, tests, the chart's generated Secret). */
export const generateEncryptionKeyring = (id = `k${Date.now().toString(36)}`): string => `${id}:${randomBytes(32).toString('base64')}`;

/** A value that does not open: a wrong or missing key, or altered bytes. The message names no value. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
}

export interface SealedValue {
  keyId: string;
  /** iv (12 bytes) | tag (16 bytes) | ciphertext */
  sealed: Buffer;
}

/** AES-256-GCM with `aad` bound: iv (12 bytes) | tag (16 bytes) | ciphertext. */
export function sealBytes(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens what sealBytes sealed; throws (DecryptionError when too short, the cipher's error when it does not authenticate). */
export function openBytes(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('sealed value is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

const valueAad = (context: string, keyId: string): Buffer => Buffer.from(`${context}/${keyId}`, 'utf8');

/**
 * Encrypts with the active key. `context` is bound as additional authenticated data (with the key id):
 * a sealed value copied onto another row does not open there.
 */
export function sealValue(keyring: EncryptionKeyring, plaintext: string, context: string): SealedValue {
  const { id, key } = keyring.active;
  return { keyId: id, sealed: sealBytes(key, Buffer.from(plaintext, 'utf8'), valueAad(context, id)) };
}

export function openValue(keyring: EncryptionKeyring, value: SealedValue, context: string): string {
  const entry = keyring.keys.get(value.keyId);
  if (!entry) throw new DecryptionError(`the keyring has no key "${value.keyId}" (a key that sealed stored values was removed before they were re-sealed)`);
  try {
    return openBytes(entry.key, value.sealed, valueAad(context, value.keyId)).toString('utf8');
  } catch (error) {
    if (error instanceof DecryptionError) throw error;
    throw new DecryptionError(`a value sealed with key "${value.keyId}" does not open (altered, or bound to another row)`, { cause: error });
  }
}
