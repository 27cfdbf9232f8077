import { diffOf, redact } from './audit';

describe('audit redaction', () => {
  it('removes secrets at any depth and keeps the rest', () => {
    expect(
      redact({ email: 'a@b.c', password: 'hunter2', nested: [{ apiKey: 'k', token: 't', name: 'n' }], secretHash: 'h', keyPrefix: 'ok_' }),
    ).toEqual({ email: 'a@b.c', password: '[REDACTED]', nested: [{ apiKey: '[REDACTED]', token: '[REDACTED]', name: 'n' }], secretHash: '[REDACTED]', keyPrefix: 'ok_' });
  });

  it('diffs only changed fields', () => {
    expect(diffOf({ role: 'viewer', email: 'a' }, { role: 'admin', email: 'a' })).toEqual({ before: { role: 'viewer' }, after: { role: 'admin' } });
  });
});
