import { parseRunsSearch, RUN_PAGES_MAX, runFilterOf, withFilters } from './runs-search';

describe('the runs list in the URL', () => {
  it('keeps known filters and pages, drops what it does not know or cannot take', () => {
    expect(
      parseRunsSearch({ status: ['FAILED', 'NOPE', 'FAILED'], workflowId: 'w1', appId: '', startedBy: 'u1', startedByLabel: 'Ada', q: ' key-1 ', pages: ['c1', 2, 'c2'], other: 'x' }),
    ).toEqual({ status: ['FAILED'], workflowId: 'w1', startedBy: 'u1', startedByLabel: 'Ada', q: 'key-1', pages: ['c1', 'c2'] });
    expect(parseRunsSearch({ status: 'RUNNING' })).toEqual({ status: ['RUNNING'] });
    expect(parseRunsSearch({ q: 'k'.repeat(201) })).toEqual({});
    expect(parseRunsSearch({ startedByLabel: 'orphan' })).toEqual({});
    expect(parseRunsSearch({ pages: Array.from({ length: 60 }, (_, i) => `c${i}`) }).pages).toHaveLength(RUN_PAGES_MAX);
  });

  it('starts again at page one when a filter changes', () => {
    expect(withFilters({ status: ['FAILED'], pages: ['c1'] }, { workflowId: 'w2' })).toEqual({ status: ['FAILED'], workflowId: 'w2' });
    expect(withFilters({ workflowId: 'w1', pages: ['c1'] }, { workflowId: undefined })).toEqual({});
  });

  it('turns into the API filter', () => {
    expect(runFilterOf({ status: ['FAILED'], startedBy: 'u1', q: 'key-1', appId: 'a1' })).toEqual({ status: ['FAILED'], startedBy: 'u1', search: 'key-1', appId: 'a1' });
    expect(runFilterOf({ from: '2026-01-02T03:04' }).createdAfter).toBe(new Date('2026-01-02T03:04').toISOString());
  });
});
