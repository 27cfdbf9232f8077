import { createSecretMasker, SECRET_MASK } from './secret-mask';

describe('createSecretMasker', () => {
  it('masks every occurrence of every value, longest first', () => {
    const masker = createSecretMasker(['hunter2', 'hunter2-admin']);
    expect(masker.active).toBe(true);
    expect(masker.text('login hunter2-admin then hunter2 and hunter2')).toBe(`login ${SECRET_MASK} then ${SECRET_MASK} and ${SECRET_MASK}`);
  });

  it('masks the JSON-escaped and URL-encoded forms of a value', () => {
    const value = 'p@ss "word" &x';
    const masker = createSecretMasker([value]);
    expect(masker.text(JSON.stringify({ password: value }))).toBe(`{"password":"${SECRET_MASK}"}`);
    expect(masker.text(`https://x.test/?p=${encodeURIComponent(value)}`)).toBe(`https://x.test/?p=${SECRET_MASK}`);
    expect(masker.text(`p=${encodeURIComponent(value).replace(/%20/g, '+')}`)).toBe(`p=${SECRET_MASK}`);
  });

  it('treats regular-expression characters in values literally', () => {
    const masker = createSecretMasker(['a.b*c']);
    expect(masker.text('aXbbbc a.b*c')).toBe(`aXbbbc ${SECRET_MASK}`);
  });

  it('masks strings at any depth of a JSON value, keys included, and leaves other values alone', () => {
    const masker = createSecretMasker(['s3cr3t']);
    const input = { a: ['x s3cr3t y', 3, true, null], s3cr3t: { deep: 's3cr3t' }, when: new Date(0) };
    const masked = masker.value(input);
    expect(masked).toEqual({ a: [`x ${SECRET_MASK} y`, 3, true, null], [SECRET_MASK]: { deep: SECRET_MASK }, when: new Date(0) });
    // The original is not touched.
    expect(input.a[0]).toBe('x s3cr3t y');
  });

  it('does nothing without values', () => {
    const masker = createSecretMasker(['', '']);
    expect(masker.active).toBe(false);
    expect(masker.text('anything')).toBe('anything');
    const value = { a: 1 };
    expect(masker.value(value)).toBe(value);
  });
});
