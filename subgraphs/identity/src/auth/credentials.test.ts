import { AppError } from '@orchestra/lib';
import { normalizeEmail } from './email';
import { parseRowToken, formatRowToken, randomAlphanumeric, secretMatches, hashSecret, newSecret } from './opaque-tokens';
import { checkPasswordStrength, createPasswordHasher } from './passwords';

const weakness = (password: string, account = { email: 'grace.hopper@example.com', name: 'Grace Hopper' }): unknown => {
  try {
    checkPasswordStrength(password, { minLength: 10 }, account);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    return { code: e.code, field: e.field, reason: e.reason, weakness: e.details?.['weakness'] };
  }
};

describe('password policy', () => {
  it.each([
    ['short1!', 'TOO_SHORT'],
    ['1234567890', 'TOO_COMMON'],
    ['qwertyuiop', 'TOO_COMMON'],
    ['Password2024!', 'TOO_COMMON'],
    ['P@ssw0rd!!!', 'TOO_COMMON'],
    ['zzzzzzzzzzzz', 'TOO_SIMPLE'],
    ['abababababab', 'TOO_SIMPLE'],
    ['defghijklmnop', 'TOO_SIMPLE'],
    ['grace.hopper-2024', 'CONTAINS_EMAIL'],
    ['xx-hopper-rocks-42', 'CONTAINS_NAME'],
  ])('refuses %j as %s', (password, expected) => {
    expect(weakness(password)).toEqual({ code: 'BAD_USER_INPUT', field: 'password', reason: 'WEAK_PASSWORD', weakness: expected });
  });

  it.each(['Correct-Horse-Battery-Staple', 'mauve tortoise under 3 lamps', 'Zq8!vR2#kLm9'])('accepts %j', (password) => {
    expect(weakness(password)).toBeUndefined();
  });

  it('bounds the length so hashing cannot be abused', () => {
    expect(weakness('x'.repeat(300))).toMatchObject({ reason: 'PASSWORD_TOO_LONG' });
  });
});

describe('emails', () => {
  it('are trimmed and lower-cased', () => {
    expect(normalizeEmail('  Ada.Lovelace+ops@Example.COM ')).toBe('ada.lovelace+ops@example.com');
  });

  it.each(['', 'plain', 'a@b', 'a@@example.com', 'a b@example.com', `${'x'.repeat(250)}@example.com`])('refuses %j as INVALID_EMAIL naming the field', (raw) => {
    expect(() => normalizeEmail(raw, 'input.email')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'input.email' }));
  });
});

describe('argon2id hashing', () => {
  const weak = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const strong = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });

  it('verifies the right password only, and asks for a rehash when the cost went up', async () => {
    const hash = await weak.hash('Correct-Horse-Battery');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await weak.verify(hash, 'Correct-Horse-Battery')).toEqual({ ok: true, needsRehash: false });
    expect(await weak.verify(hash, 'correct-horse-battery')).toEqual({ ok: false, needsRehash: false });
    expect(await strong.verify(hash, 'Correct-Horse-Battery')).toEqual({ ok: true, needsRehash: true });
    expect(await weak.verify('not a hash', 'x')).toEqual({ ok: false, needsRehash: false });
    await expect(weak.verifyNobody('anything')).resolves.toBeUndefined();
  });
});

describe('opaque tokens', () => {
  it('round-trip and match only their own secret', () => {
    const secret = newSecret();
    const token = formatRowToken('ort', '0190d3f0-0000-7000-8000-000000000001', secret);
    expect(parseRowToken('ort', token)).toEqual({ rowId: '0190d3f0-0000-7000-8000-000000000001', secret });
    expect(parseRowToken('oin', token)).toBeUndefined();
    expect(secretMatches(secret, hashSecret(secret))).toBe(true);
    expect(secretMatches(`${secret}x`, hashSecret(secret))).toBe(false);
  });

  it('draw ids from letters and digits only', () => {
    const ids = Array.from({ length: 200 }, () => randomAlphanumeric(12));
    expect(ids.every((v) => /^[A-Za-z0-9]{12}$/.test(v))).toBe(true);
    expect(new Set(ids).size).toBe(200);
  });
});
