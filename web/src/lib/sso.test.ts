import { rememberSsoSignIn, ssoStartInput, takeSsoSignIn, SSO_STORAGE_KEY } from './sso';

const memory = () => {
  const items = new Map<string, string>();
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k), items };
};

describe('the pending SSO sign-in', () => {
  it('is taken once', () => {
    const storage = memory();
    rememberSsoSignIn(storage, { binding: 'b1', redirect: '/runs' });
    expect(takeSsoSignIn(storage)).toEqual({ binding: 'b1', redirect: '/runs' });
    expect(takeSsoSignIn(storage)).toBeUndefined();
  });

  it('is nothing when storage holds garbage', () => {
    const storage = memory();
    storage.setItem(SSO_STORAGE_KEY, '{not json');
    expect(takeSsoSignIn(storage)).toBeUndefined();
    expect(storage.items.size).toBe(0);
  });
});

describe('the sign-in box', () => {
  it('takes an address or a sign-in name', () => {
    expect(ssoStartInput(' ann@acme.test ')).toEqual({ email: 'ann@acme.test' });
    expect(ssoStartInput(' acme ')).toEqual({ slug: 'acme' });
  });
});
