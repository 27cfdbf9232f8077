import { createHash } from 'node:crypto';
import { ConfigError, openValue, sealValue, withSystemTransaction, type EncryptionKeyring, type Logger, type Pool, type SealedValue } from '@orchestra/lib';
import { countStrandedSecrets, lockSecretsToSeal, storeSealedSecret, type StoredTotpSecret } from '../store/two-factor';

/**
 * TOTP secrets at rest (issue 13): sealed with AES-256-GCM under a key of TWO_FACTOR_KEYS, bound to
 * the user (additional authenticated data), so the database alone never yields a secret and a sealed
 * secret copied onto another user's row does not open. Each row records the id of its key.
 *
 * Rotation: put a new key first in TWO_FACTOR_KEYS and keep the old one after it; at start the service
 * re-seals every row of the old key with the new one (and seals rows still in plaintext from before
 * migration 006), after which the old key can be removed.
 */

/** Outside production, a fixed key stands in when TWO_FACTOR_KEYS is unset (npm start, tests). Public: it protects nothing. */
const DEVELOPMENT_KEY = { id: 'dev', key: createHash('sha256').update('orchestra development two-factor key (not secret)').digest() };

const contextOf = (userId: string): string => `orchestra/totp/v1/${userId}`;

/** The keyring from the config: TWO_FACTOR_KEYS, or the development key outside production (with a warning). */
export function twoFactorKeyring(config: { TWO_FACTOR_KEYS?: EncryptionKeyring | undefined; NODE_ENV?: string | undefined }, log: Logger): EncryptionKeyring {
  if (config.TWO_FACTOR_KEYS) return config.TWO_FACTOR_KEYS;
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('config: TWO_FACTOR_KEYS expects id:base64 pairs of 32-byte keys (the key that encrypts TOTP secrets) when NODE_ENV=production (it is not set)');
  }
  log.warn('TWO_FACTOR_KEYS is not set: TOTP secrets are encrypted with the public development key (set it outside development)');
  return { active: DEVELOPMENT_KEY, keys: new Map([[DEVELOPMENT_KEY.id, DEVELOPMENT_KEY]]) };
}

export const sealTotpSecret = (keyring: EncryptionKeyring, userId: string, secret: string): SealedValue => sealValue(keyring, secret, contextOf(userId));

/** The base32 secret of a stored row (DecryptionError when no key of the ring opens it). */
export const openTotpSecret = (keyring: EncryptionKeyring, userId: string, stored: StoredTotpSecret): string =>
  stored.kind === 'plaintext' ? stored.secret : openValue(keyring, stored, contextOf(userId));

export interface SealingReport {
  /** Plaintext secrets (from before migration 006) now sealed. */
  sealed: number;
  /** Secrets of an older key re-sealed with the active one. */
  resealed: number;
  /** Secrets no key of the ring opens: they stay as they are, and their users cannot sign in with a code until the key is put back. */
  stranded: number;
}

/**
 * Seals plaintext secrets and re-seals those of older keys, in batches (each row locked, other replicas
 * skip it). Each new value is opened again before it is written, so a fault never loses a secret.
 */
export async function sealTotpSecretsAtRest({ pool, keyring, log, batchSize = 200 }: { pool: Pool; keyring: EncryptionKeyring; log: Logger; batchSize?: number }): Promise<SealingReport> {
  const olderKeyIds = [...keyring.keys.keys()].filter((id) => id !== keyring.active.id);
  const report: SealingReport = { sealed: 0, resealed: 0, stranded: 0 };
  for (;;) {
    const done = await withSystemTransaction(pool, async (tx) => {
      const rows = await lockSecretsToSeal(tx, olderKeyIds, batchSize);
      for (const row of rows) {
        const secret = openTotpSecret(keyring, row.userId, row.secret);
        const next = sealTotpSecret(keyring, row.userId, secret);
        if (openTotpSecret(keyring, row.userId, { kind: 'sealed', ...next }) !== secret) throw new Error(`sealing the TOTP secret of user ${row.userId} did not round-trip`);
        await storeSealedSecret(tx, row.userId, next);
        if (row.secret.kind === 'plaintext') report.sealed += 1;
        else report.resealed += 1;
      }
      return rows.length < batchSize;
    });
    if (done) break;
  }
  report.stranded = await countStrandedSecrets(pool, [...keyring.keys.keys()]);
  if (report.sealed + report.resealed > 0) log.info('TOTP secrets sealed with the active TWO_FACTOR_KEYS key', { keyId: keyring.active.id, ...report });
  if (report.stranded > 0) log.error('TOTP secrets are sealed by keys TWO_FACTOR_KEYS no longer has: those users cannot sign in with a code until the key is put back', { stranded: report.stranded });
  return report;
}
