import { diffOf, redact } from './audit';
import { targetIdOf } from './audit-mutations';

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

describe('the target of a failed mutation', () => {
  it('is found in id, <type>Id, any ...Id, or inside input', () => {
    expect(targetIdOf({ id: 'a1', name: 'x' }, 'App')).toBe('a1');
    expect(targetIdOf({ appId: 'a2', version: 3 }, 'App')).toBe('a2');
    expect(targetIdOf({ workflowId: 'w1', steps: [] }, 'WorkflowVersion')).toBe('w1');
    expect(targetIdOf({ input: { runId: 'r1' } }, 'Run')).toBe('r1');
    expect(targetIdOf({ input: { name: 'n' } }, 'Run')).toBeUndefined();
    expect(targetIdOf({ id: '' }, 'Run')).toBeUndefined();
  });
});
