import { formatBytes, formatDuration, formatPercent, formatRelative, plural, slugify } from './format';

describe('formatting', () => {
  it('shows durations in the unit a person reads', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(156)).toBe('156 ms');
    expect(formatDuration(4_100)).toBe('4.1 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(300_000)).toBe('5 min');
    expect(formatDuration(330_000)).toBe('5 min 30 s');
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
  });

  it('says how long ago, or how soon', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(formatRelative('2026-11-22T09:59:58Z', now)).toBe('just now');
    expect(formatRelative('2026-11-22T09:59:30Z', now)).toBe('30 s ago');
    expect(formatRelative('2026-11-22T09:45:00Z', now)).toBe('15 min ago');
    expect(formatRelative('2026-11-22T10:00:15Z', now)).toBe('in 15 s');
    expect(formatRelative('2026-11-19T10:00:00Z', now)).toBe('3 d ago');
    expect(formatRelative(null, now)).toBe('—');
  });

  it('sizes, percentages and counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(24 * 1024 ** 3)).toBe('24 GB');
    expect(formatPercent(0.98765, 2)).toBe('98.77%');
    expect(formatPercent(null)).toBe('—');
    expect(plural(1, 'member')).toBe('1 member');
    expect(plural(2, 'dead letter')).toBe('2 dead letters');
  });

  it('suggests a slug from a name', () => {
    expect(slugify('Support Summarizer')).toBe('support-summarizer');
    expect(slugify('  Crème brûlée — v2!  ')).toBe('creme-brulee-v2');
    expect(slugify('x'.repeat(80))).toHaveLength(63);
    expect(slugify('???')).toBe('');
  });
});
