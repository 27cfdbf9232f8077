/** Formatting of times, durations and sizes the way every page shows them. */

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const restSeconds = Math.round(seconds % 60);
  if (minutes < 60) return restSeconds === 0 ? `${minutes} min` : `${minutes} min ${restSeconds} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = now - Date.parse(iso);
  const future = diff < 0;
  const abs = Math.abs(diff);
  const phrase = (n: number, unit: string) => (future ? `in ${n} ${unit}` : `${n} ${unit} ago`);
  if (abs < 10_000) return future ? 'in a moment' : 'just now';
  if (abs < 60_000) return phrase(Math.round(abs / 1000), 's');
  if (abs < 3_600_000) return phrase(Math.round(abs / 60_000), 'min');
  if (abs < 86_400_000) return phrase(Math.round(abs / 3_600_000), 'h');
  return phrase(Math.round(abs / 86_400_000), 'd');
}

// Made once: toLocaleString with options builds a new formatter on every call, which live pages call thousands of times.
const DATE_TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const DATE_TIME_ZONE = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
const COUNT = new Intl.NumberFormat('en-US');

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return DATE_TIME.format(new Date(iso));
}

const CLOCK_TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The clock time alone ("10:15:02 PM"), e.g. a log line's. */
export function formatClockTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return CLOCK_TIME.format(new Date(iso));
}

/** The exact time with its time zone ("Dec 6, 2026, 10:15:02 PM UTC"), for hovers. */
export function formatDateTimeZone(iso: string | null | undefined): string {
  if (!iso) return '—';
  return DATE_TIME_ZONE.format(new Date(iso));
}

/** "1,820". */
export const formatCount = (n: number): string => COUNT.format(n);

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export const formatPercent = (ratio: number | null | undefined, digits = 1): string => (ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(digits)}%`);

export const formatJson = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value, null, 2));

/** "1 member", "3 members". */
export const plural = (count: number, noun: string, pluralNoun = `${noun}s`): string => `${count} ${count === 1 ? noun : pluralNoun}`;

/** A slug suggested from a name, the way the catalog accepts them: lowercase letters, digits and single hyphens, 63 at most. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}
