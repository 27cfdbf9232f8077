import { appChanges } from './app-changes';

const app = { name: 'Support Summarizer', slug: 'support-summarizer', description: '', tags: ['nlp', 'support'], healthCheckUrl: 'https://example.com/health', owner: { id: 'u-1', email: 'ada@example.com', name: 'Ada' } };
const form = { name: 'Support Summarizer', slug: 'support-summarizer', description: '', tags: 'nlp, support', healthCheckUrl: 'https://example.com/health', ownerId: 'u-1' };

describe('app changes', () => {
  it('sends nothing when nothing changed', () => {
    expect(appChanges(app, form)).toEqual({});
    expect(appChanges(app, { ...form, name: ' Support Summarizer ', tags: 'nlp,support,' })).toEqual({});
  });

  it('sends only what changed, clearing an emptied URL or owner', () => {
    expect(appChanges(app, { ...form, name: 'Summarizer', tags: 'nlp', healthCheckUrl: '', ownerId: '' })).toEqual({ name: 'Summarizer', tags: ['nlp'], healthCheckUrl: null, ownerId: null });
    expect(appChanges(app, { ...form, description: 'Nightly', ownerId: 'u-2' })).toEqual({ description: 'Nightly', ownerId: 'u-2' });
  });
});
