import { normalizeParams, queryKeys } from './query-keys';

const startsWith = (key: readonly unknown[], prefix: readonly unknown[]) => prefix.every((part, i) => JSON.stringify(key[i]) === JSON.stringify(part));

describe('query keys', () => {
  it('ignores empty filters and the order of statuses, so equal filters share a cache entry', () => {
    expect(queryKeys.runs.list({ status: ['RUNNING', 'QUEUED'], workflowId: undefined, after: '' })).toEqual(queryKeys.runs.list({ status: ['QUEUED', 'RUNNING'] }));
    expect(queryKeys.runs.list({})).toEqual(queryKeys.runs.list({ status: [] }));
    expect(queryKeys.runs.list({ status: ['FAILED'] })).not.toEqual(queryKeys.runs.list({}));
    expect(normalizeParams({ b: 1, a: null, c: 'x' })).toEqual({ b: 1, c: 'x' });
  });

  it('nests every key under its domain, so invalidating the domain reaches them', () => {
    expect(startsWith(queryKeys.runs.list({ first: 10 }), queryKeys.runs.lists)).toBe(true);
    expect(startsWith(queryKeys.runs.lists, queryKeys.runs.all)).toBe(true);
    expect(startsWith(queryKeys.runs.detail('r1'), queryKeys.runs.all)).toBe(true);
    expect(startsWith(queryKeys.runs.detail('r1'), queryKeys.runs.lists)).toBe(false);
    expect(startsWith(queryKeys.runs.taskLogs('t1'), queryKeys.runs.allTaskLogs)).toBe(true);
    expect(startsWith(queryKeys.workflows.detail('w1'), queryKeys.workflows.all)).toBe(true);
    expect(startsWith(queryKeys.members.invitations({}), queryKeys.members.all)).toBe(true);
    expect(startsWith(queryKeys.apiKeys.list({ includeRevoked: true }), queryKeys.apiKeys.all)).toBe(true);
    expect(startsWith(queryKeys.audit.list({ action: 'member.*' }), queryKeys.audit.all)).toBe(true);
  });

  it('gives each verification request its own key', () => {
    expect(queryKeys.audit.verification({ check: 1 })).not.toEqual(queryKeys.audit.verification({ check: 2 }));
  });

  it('keeps domains apart', () => {
    const all = [queryKeys.runs.all, queryKeys.workflows.all, queryKeys.deadLetters.all, queryKeys.workers.all, queryKeys.apps.all, queryKeys.members.all, queryKeys.apiKeys.all, queryKeys.audit.all, queryKeys.me];
    expect(new Set(all.map((k) => k[0])).size).toBe(all.length);
  });
});
