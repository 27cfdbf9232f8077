import { randomBytes } from 'node:crypto';
import { DecryptionError, encryptionKeyringEnv, generateEncryptionKeyring, openBytes, sealBytes, type EncryptionKey, type EncryptionKeyring } from './encryption-keyring';

/**
 * Envelope encryption of organization secrets (issue 8, docs/decisions.md). Each secret value is
 * encrypted with a data key of its own (AES-256-GCM); the data key is encrypted ("wrapped") with a
 * key-encryption key from the environment (SECRETS_KEYS, also AES-256-GCM). Both layers are bound
 * to the secret's org and id as additional authenticated data, so a ciphertext copied onto another
 * row (or another org) does not decrypt.
 *
 * SECRETS_KEYS lists `id:base64-of-32-bytes` pairs, comma-separated; the first wraps new data keys,
 * the others only unwrap. Rotating the key: put a new key first and keep the old one after it; the
 * service re-wraps every data key with the new key at start (only the small data keys, the values
 * are not touched), after which the old key can be dropped.
 */

/** A key of SECRETS_KEYS (a key-encryption key). */
export type KeyEncryptionKey = EncryptionKey;
/** SECRETS_KEYS as parsed: the same kind of keyring as lib/encryption-keyring.ts parses. */
export type SecretKeyring = EncryptionKeyring;

/** The zod type of SECRETS_KEYS: a keyring, or undefined when unset (secrets are then unavailable). */
export const secretKeyringEnv = encryptionKeyringEnv;

/** A fresh SECRETS_KEYS value with one key (npm start, tests, the Helm chart's generated Secret). */
export const generateSecretsKeys = generateEncryptionKeyring;

/** A secret as stored: which key wrapped its data key, the wrapped data key and the encrypted value. */
export interface SealedSecret {
  keyId: string;
  wrappedKey: Buffer;
  ciphertext: Buffer;
}

/** What a sealed secret is bound to (its additional authenticated data). */
export interface SecretBinding {
  orgId: string;
  secretId: string;
}

/** Decryption failed: a wrong or missing key, or a tampered row. The message names no value. */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
}

const aadOf = ({ orgId, secretId }: SecretBinding, layer: 'value' | 'key', keyId = ''): Buffer =>
  Buffer.from(`orchestra/secret/v1/${layer}/${orgId}/${secretId}/${keyId}`, 'utf8');

/** The AES-256-GCM primitive, as a SecretDecryptionError when it does not open. */
function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  try {
    return openBytes(key, sealed, aad);
  } catch (error) {
    if (error instanceof DecryptionError) throw new SecretDecryptionError(error.message);
    throw error;
  }
}

function kekFor(keyring: SecretKeyring, keyId: string): KeyEncryptionKey {
  const kek = keyring.keys.get(keyId);
  if (!kek) throw new SecretDecryptionError(`SECRETS_KEYS has no key "${keyId}" (a key that wrapped stored secrets was removed before they were re-wrapped)`);
  return kek;
}

function unwrap(keyring: SecretKeyring, sealed: SealedSecret, binding: SecretBinding): Buffer {
  try {
    return open(kekFor(keyring, sealed.keyId).key, sealed.wrappedKey, aadOf(binding, 'key', sealed.keyId));
  } catch (error) {
    if (error instanceof SecretDecryptionError) throw error;
    throw new SecretDecryptionError(`the data key of secret ${binding.secretId} does not unwrap with key "${sealed.keyId}"`, { cause: error });
  }
}

/** Encrypts a value under a new data key wrapped with the active key. */
export function sealSecret(keyring: SecretKeyring, binding: SecretBinding, value: string): SealedSecret {
  const dataKey = randomBytes(32);
  try {
    return {
      keyId: keyring.active.id,
      wrappedKey: sealBytes(keyring.active.key, dataKey, aadOf(binding, 'key', keyring.active.id)),
      ciphertext: sealBytes(dataKey, Buffer.from(value, 'utf8'), aadOf(binding, 'value')),
    };
  } finally {
    dataKey.fill(0);
  }
}

export function openSecret(keyring: SecretKeyring, binding: SecretBinding, sealed: SealedSecret): string {
  const dataKey = unwrap(keyring, sealed, binding);
  try {
    return open(dataKey, sealed.ciphertext, aadOf(binding, 'value')).toString('utf8');
  } catch (error) {
    throw new SecretDecryptionError(`secret ${binding.secretId} does not decrypt (tampered or bound to another row)`, { cause: error });
  } finally {
    dataKey.fill(0);
  }
}

/** The same secret with its data key wrapped by the active key (the value's ciphertext is unchanged). */
export function rewrapSecret(keyring: SecretKeyring, binding: SecretBinding, sealed: SealedSecret): SealedSecret {
  const dataKey = unwrap(keyring, sealed, binding);
  try {
    return { keyId: keyring.active.id, wrappedKey: sealBytes(keyring.active.key, dataKey, aadOf(binding, 'key', keyring.active.id)), ciphertext: sealed.ciphertext };
  } finally {
    dataKey.fill(0);
  }
}
