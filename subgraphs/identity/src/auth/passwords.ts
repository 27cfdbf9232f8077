import argon2 from 'argon2';
import { AppError } from '@orchestra/lib';
import { COMMON_PASSWORDS } from './common-passwords';

/** Long enough for any passphrase; bounded so that hashing cannot be turned into a denial of service. */
export const MAX_PASSWORD_LENGTH = 256;

export type PasswordWeakness = 'TOO_SHORT' | 'TOO_COMMON' | 'TOO_SIMPLE' | 'CONTAINS_EMAIL' | 'CONTAINS_NAME';

export interface PasswordPolicy {
  minLength: number;
}

const weak = (field: string, weakness: PasswordWeakness, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('BAD_USER_INPUT', message, { field, reason: 'WEAK_PASSWORD', details: { weakness, ...extra } });

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

/** "P@ssw0rd2024!" → "password": the word people decorate with digits and symbols. */
const stemOf = (lower: string): string =>
  lower
    .replace(/^[^a-z@$]+|[^a-z]+$/g, '')
    .split('')
    .map((c) => LEET[c] ?? c)
    .join('');

const isSequence = (s: string): boolean => {
  if (s.length < 3) return false;
  const step = s.charCodeAt(1) - s.charCodeAt(0);
  if (Math.abs(step) !== 1) return false;
  for (let i = 2; i < s.length; i += 1) if (s.charCodeAt(i) - s.charCodeAt(i - 1) !== step) return false;
  return true;
};

/**
 * Throws BAD_USER_INPUT (reason WEAK_PASSWORD, `details.weakness` saying why) for a password that is
 * too short, on the common-password list (also decorated: "Password2024!"), made of very few
 * characters or one straight run ("abcdefghijk"), or built from the account's email or name.
 */
export function checkPasswordStrength(password: string, policy: PasswordPolicy, account: { email: string; name?: string | undefined }, field = 'password'): void {
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AppError('BAD_USER_INPUT', `password is longer than ${MAX_PASSWORD_LENGTH} characters`, { field, reason: 'PASSWORD_TOO_LONG' });
  }
  if ([...password].length < policy.minLength) {
    throw weak(field, 'TOO_SHORT', `password is too short: use at least ${policy.minLength} characters`, { minLength: policy.minLength });
  }
  const lower = password.toLowerCase();
  const stem = stemOf(lower);
  if (COMMON_PASSWORDS.has(lower) || COMMON_PASSWORDS.has(lower.replace(/\s+/g, '')) || (stem.length >= 4 && COMMON_PASSWORDS.has(stem))) {
    throw weak(field, 'TOO_COMMON', 'password is too common: it is among the first ones attackers try');
  }
  if (new Set(lower).size < 4 || isSequence(lower)) {
    throw weak(field, 'TOO_SIMPLE', 'password is too simple: it repeats a few characters or is one straight run');
  }
  const email = account.email.toLowerCase();
  const local = email.split('@')[0] ?? '';
  if (lower.includes(email) || (local.length >= 3 && lower.includes(local))) {
    throw weak(field, 'CONTAINS_EMAIL', 'password contains your email address: choose one others cannot guess from it');
  }
  const nameParts = (account.name ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((part) => part.length >= 4);
  if (nameParts.some((part) => lower.includes(part))) {
    throw weak(field, 'CONTAINS_NAME', 'password contains your name: choose one others cannot guess from it');
  }
}

export interface PasswordHashOptions {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether it matches, and whether the hash was made with older parameters and should be redone. */
  verify(hash: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
  /**
   * Spends the time of one verification without an account: unknown emails must not answer faster
   * than wrong passwords, or response times would tell which addresses have accounts.
   */
  verifyNobody(password: string): Promise<void>;
}

/** argon2id with the configured cost. */
export function createPasswordHasher(options: PasswordHashOptions): PasswordHasher {
  const params: argon2.HashOptions = { type: argon2.argon2id, ...options };
  let dummy: Promise<string> | undefined;
  const verify = async (hash: string, password: string) => {
    if (password.length > MAX_PASSWORD_LENGTH) return { ok: false, needsRehash: false };
    try {
      const ok = await argon2.verify(hash, password);
      return { ok, needsRehash: ok && argon2.needsRehash(hash, params) };
    } catch {
      // A stored hash that does not parse cannot match anything.
      return { ok: false, needsRehash: false };
    }
  };
  return {
    hash: (password) => argon2.hash(password, params),
    verify,
    async verifyNobody(password) {
      dummy ??= argon2.hash('no account has this password', params);
      await verify(await dummy, password);
    },
  };
}
