import { Cron } from 'croner';
import { badInput } from '@orchestra/lib';

/**
 * Cron expressions of schedules, read by croner in an IANA time zone (DST-correct: a fixed time in
 * a spring-forward gap runs at the first valid time after it and once when an autumn hour repeats;
 * an every-N pattern skips the gap and runs in both repeated hours). 5 fields (minutes), 6 (seconds
 * first) or a nickname (@hourly, @daily, ...).
 */

/** Two ticks of a schedule are at least this far apart. */
export const MIN_INTERVAL_MS = 1_000;
const MAX_CRON_LENGTH = 200;
/** Ticks looked at to find the smallest interval (a pattern's tightest spacing shows within these). */
const INTERVAL_SAMPLE = 64;

export interface CronSchedule {
  readonly cron: string;
  readonly timezone: string;
  /** The next `n` ticks strictly after `after`. */
  next(after: Date, n: number): Date[];
  /** Ticks in [from, to], the latest `max` of them, oldest first, and how many there were in all (counted up to `max + 1000`). */
  between(from: Date, to: Date, max: number): { ticks: Date[]; total: number };
}

/** Throws BAD_USER_INPUT naming `field` when `timezone` is not an IANA zone this runtime knows. */
export function checkTimezone(timezone: string, field: string): string {
  const zone = timezone.trim();
  if (zone.length === 0 || zone.length > 64) throw badInput(field, 'a time zone is an IANA name such as "Europe/Berlin" or "UTC"', 'INVALID_TIMEZONE');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw badInput(field, `unknown time zone "${zone}" (an IANA name such as "Europe/Berlin" or "UTC")`, 'INVALID_TIMEZONE');
  }
  return zone;
}

/** Parses a cron expression in a zone; throws BAD_USER_INPUT naming the field at fault. */
export function parseCron(cron: string, timezone: string, fields: { cron: string; timezone: string }): CronSchedule {
  const zone = checkTimezone(timezone, fields.timezone);
  const pattern = cron.trim().replace(/\s+/g, ' ');
  if (pattern.length === 0 || pattern.length > MAX_CRON_LENGTH) throw badInput(fields.cron, `a cron expression has 1 to ${MAX_CRON_LENGTH} characters`, 'INVALID_CRON');
  let job: Cron;
  try {
    job = new Cron(pattern, { paused: true, timezone: zone, mode: pattern.startsWith('@') ? 'auto' : '5-or-6-parts' });
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw badInput(fields.cron, `invalid cron expression "${pattern}": ${why}`, 'INVALID_CRON');
  }
  const sample = job.nextRuns(INTERVAL_SAMPLE);
  if (sample.length === 0) throw badInput(fields.cron, `cron expression "${pattern}" never fires`, 'INVALID_CRON');
  for (let i = 1; i < sample.length; i += 1) {
    if ((sample[i] as Date).getTime() - (sample[i - 1] as Date).getTime() < MIN_INTERVAL_MS) {
      throw badInput(fields.cron, `cron expression "${pattern}" fires more often than once a second`, 'CRON_TOO_FREQUENT');
    }
  }
  return {
    cron: pattern,
    timezone: zone,
    next: (after, n) => job.nextRuns(n, after),
    between(from, to, max) {
      // Walk forward from just before `from`; a long downtime of a frequent schedule is counted up to a bound.
      const bound = max + 1_000;
      const ticks: Date[] = [];
      let total = 0;
      let cursor: Date | null = job.nextRun(new Date(from.getTime() - 1));
      while (cursor !== null && cursor.getTime() <= to.getTime() && total < bound) {
        ticks.push(cursor);
        if (ticks.length > max) ticks.shift();
        total += 1;
        cursor = job.nextRun(cursor);
      }
      if (cursor !== null && cursor.getTime() <= to.getTime()) {
        // More than `bound` ticks: the latest `max` are those before `to`.
        const latest = job.previousRuns(max, new Date(to.getTime() + 1)).reverse();
        return { ticks: latest.filter((t) => t.getTime() >= from.getTime()), total: bound };
      }
      return { ticks, total };
    },
  };
}
