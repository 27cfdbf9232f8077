import { maskSecrets } from './observation';

describe('maskSecrets (what the model may read of a page)', () => {
  it('masks a secret as typed, with its whitespace collapsed as the page script reads it, and cut to a field value’s 200 characters', () => {
    const long = 'k'.repeat(150) + 'Z'.repeat(150);
    const phrase = 'correct  horse\nbattery   staple';
    const page = [`value "${long.slice(0, 200)}"`, `text: correct horse battery staple`, `whole: ${long}`, `short: s3cr3t-value`].join('\n');
    const masked = maskSecrets(page, { API_TOKEN: long, PASSPHRASE: phrase, PIN: 's3cr3t-value' });
    expect(masked).toBe(['value "[secret API_TOKEN]"', 'text: [secret PASSPHRASE]', 'whole: [secret API_TOKEN]', 'short: [secret PIN]'].join('\n'));
    expect(masked).not.toContain('kkkkkkkk');
  });

  it('leaves text without secrets as it is', () => {
    expect(maskSecrets('nothing to hide here', { A: 'elsewhere', B: '' })).toBe('nothing to hide here');
  });
});
