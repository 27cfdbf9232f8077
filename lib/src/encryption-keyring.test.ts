import { z } from 'zod';
import { loadConfig } from './config';
import { DecryptionError, encryptionKeyringEnv, generateEncryptionKeyring, openValue, parseEncryptionKeyring, sealValue, type EncryptionKeyring } from './encryption-keyring';

const keyring = (raw: string): EncryptionKeyring => {
  const parsed = parseEncryptionKeyring(raw);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('encryption keyring', () => {
  const k1 = generateEncryptionKeyring('k1');
  const k2 = generateEncryptionKeyring('k2');

  it('seals with the first key, opens with any key of the ring, and binds the context', () => {
    const old = keyring(k1);
    const sealed = sealValue(old, 'JBSWY3DPEHPK3PXP', 'totp/u1');
    expect(sealed.keyId).toBe('k1');
    expect(sealed.sealed.toString('latin1')).not.toContain('JBSWY3DPEHPK3PXP');
    const rotated = keyring(`${k2},${k1}`);
    expect(openValue(rotated, sealed, 'totp/u1')).toBe('JBSWY3DPEHPK3PXP');
    expect(sealValue(rotated, 'x', 'c').keyId).toBe('k2');
    expect(() => openValue(rotated, sealed, 'totp/u2')).toThrow(DecryptionError);
    expect(() => openValue(keyring(k2), sealed, 'totp/u1')).toThrow(/no key "k1"/);
    const altered = Buffer.from(sealed.sealed);
    altered[altered.length - 1]! ^= 1;
    expect(() => openValue(old, { keyId: 'k1', sealed: altered }, 'totp/u1')).toThrow(DecryptionError);
  });

  it('validates the variable with a message naming it, never echoing a key', () => {
    const schema = z.object({ SOME_KEYS: encryptionKeyringEnv });
    expect(loadConfig(schema, {}).SOME_KEYS).toBeUndefined();
    expect(() => loadConfig(schema, { SOME_KEYS: 'k1:c2hvcnQ=' })).toThrow('config: SOME_KEYS expects id:base64 pairs of 32-byte keys, comma-separated, the active one first (entry 1 is not one) (got a value that does not fit)');
    expect(() => loadConfig(schema, { SOME_KEYS: `${k1},${k1}` })).toThrow(/each key id once \(k1 is given twice\)/);
    expect(loadConfig(schema, { SOME_KEYS: `${k2}, ${k1}` }).SOME_KEYS?.active.id).toBe('k2');
  });
});
