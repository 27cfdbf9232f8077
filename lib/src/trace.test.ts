import { ensureTraceparent, traceIdOf } from './trace';

describe('trace context', () => {
  it('keeps a well-formed traceparent and reads its trace id', () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(ensureTraceparent(sent)).toBe(sent);
    expect(traceIdOf(sent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('starts a new trace for a missing, malformed or all-zero one', () => {
    for (const sent of [undefined, 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01']) {
      const made = ensureTraceparent(sent);
      expect(made).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(made).not.toBe(sent);
    }
    expect(ensureTraceparent(undefined)).not.toBe(ensureTraceparent(undefined));
  });
});
