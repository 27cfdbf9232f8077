import { metricsRange, runsSearchFor } from './metrics-range';

describe('metrics ranges', () => {
  const now = Date.parse('2026-12-07T10:15:30Z');

  it('ends a preset at the next minute with its bucket', () => {
    expect(metricsRange('24h', now)).toEqual({ from: '2026-12-06T10:16:00.000Z', to: '2026-12-07T10:16:00.000Z', bucket: 'HOUR' });
    expect(metricsRange('1h', now)).toMatchObject({ bucket: 'FIVE_MINUTES' });
    expect(metricsRange('30d', now)).toMatchObject({ bucket: 'DAY' });
  });

  it('picks five minutes up to 6 hours, else the narrowest bucket within the API’s bucket limit for a custom range, and says what is wrong with a bad one', () => {
    expect(metricsRange('custom', now, { from: '2026-12-01T00:00', to: '2026-12-01T06:00' })).toMatchObject({ bucket: 'FIVE_MINUTES' });
    expect(metricsRange('custom', now, { from: '2026-12-01T00:00', to: '2026-12-01T06:01' })).toMatchObject({ bucket: 'HOUR' });
    expect(metricsRange('custom', now, { from: '2026-12-01T00:00', to: '2026-12-02T00:00' })).toMatchObject({ bucket: 'HOUR' });
    expect(metricsRange('custom', now, { from: '2026-11-01T00:00', to: '2026-12-01T00:00' })).toMatchObject({ bucket: 'HOUR' });
    expect(metricsRange('custom', now, { from: '2026-09-10T00:00', to: '2026-12-01T00:00' })).toMatchObject({ bucket: 'DAY' });
    expect(metricsRange('custom', now, { from: '2026-12-02T00:00', to: '2026-12-01T00:00' })).toEqual({ error: 'The end must be after the start.' });
    expect(metricsRange('custom', now, { from: '2026-01-01T00:00', to: '2026-12-01T00:00' })).toEqual({ error: 'Choose at most 92 days.' });
    expect(metricsRange('custom', now, { to: '2026-12-01T00:00' })).toEqual({ error: 'Choose both ends of the range.' });
  });

  it('links a range to the runs list with local times that include its last minute', () => {
    const search = runsSearchFor({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-01T01:00:00.000Z' }, 'FAILED', 'w1');
    expect(search.status).toEqual(['FAILED']);
    expect(search.workflowId).toBe('w1');
    expect(Date.parse(search.to) - Date.parse(search.from)).toBe(3_600_000);
  });
});
