import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { generateSecretsKeys, openSecret, rewrapSecret, sealSecret, SecretDecryptionError, secretKeyringEnv, type SecretKeyring } from './secret-keyring';

const keyring = (raw: string): SecretKeyring => {
  const parsed = z.object({ K: secretKeyringEnv }).parse({ K: raw }).K;
  if (!parsed) throw new Error('no keyring');
  return parsed;
};

describe('secret keyring (envelope encryption)', () => {
  const binding = { orgId: randomUUID(), secretId: randomUUID() };

  it('seals and opens a value; the sealed form holds neither the value nor the data key in clear', () => {
    const ring = keyring(generateSecretsKeys('k1'));
    const sealed = sealSecret(ring, binding, 'correct horse battery staple');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.ciphertext.toString('utf8')).not.toContain('correct horse');
    expect(openSecret(ring, binding, sealed)).toBe('correct horse battery staple');
    // Two seals of one value differ (fresh data key and IVs).
    expect(sealSecret(ring, binding, 'correct horse battery staple').ciphertext.equals(sealed.ciphertext)).toBe(false);
  });

  it('refuses a sealed value moved to another secret or org, or tampered with', () => {
    const ring = keyring(generateSecretsKeys('k1'));
    const sealed = sealSecret(ring, binding, 'v');
    expect(() => openSecret(ring, { ...binding, orgId: randomUUID() }, sealed)).toThrow(SecretDecryptionError);
    expect(() => openSecret(ring, { ...binding, secretId: randomUUID() }, sealed)).toThrow(SecretDecryptionError);
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => openSecret(ring, binding, { ...sealed, ciphertext: tampered })).toThrow(SecretDecryptionError);
  });

  it('rotates the key-encryption key without losing values: old key second, re-wrap, then the old key can go', () => {
    const k1 = generateSecretsKeys('k1');
    const k2 = generateSecretsKeys('k2');
    const sealed = sealSecret(keyring(k1), binding, 'still here');
    const both = keyring(`${k2},${k1}`);
    expect(both.active.id).toBe('k2');
    expect(openSecret(both, binding, sealed)).toBe('still here');
    const rewrapped = rewrapSecret(both, binding, sealed);
    expect(rewrapped.keyId).toBe('k2');
    expect(rewrapped.ciphertext.equals(sealed.ciphertext)).toBe(true);
    expect(openSecret(keyring(k2), binding, rewrapped)).toBe('still here');
    // Without the key that wrapped it, the message names the missing key.
    expect(() => openSecret(keyring(k2), binding, sealed)).toThrow(/no key "k1"/);
  });

  it('validates SECRETS_KEYS with a message that names what it expects and never echoes a key', () => {
    const schema = z.object({ SECRETS_KEYS: secretKeyringEnv });
    expect(schema.parse({}).SECRETS_KEYS).toBeUndefined();
    const bad = schema.safeParse({ SECRETS_KEYS: 'k1:c2hvcnQ=' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/32-byte keys/);
    const twice = schema.safeParse({ SECRETS_KEYS: `${generateSecretsKeys('a')},${generateSecretsKeys('a')}` });
    expect(twice.error?.issues[0]?.message).toMatch(/a is given twice/);
  });
});
