import { AppError } from '@orchestra/lib';
import { parseCron } from './cron';
import { MAX_MISSED_RECORDED, missedTicks, planFires } from './fire-plan';

const FIELDS = { cron: 'input.cron', timezone: 'input.timezone' };
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

const refusal = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('cron expressions in a time zone', () => {
  it('refuses an invalid cron naming the field', () => {
    const error = refusal(() => parseCron('61 * * * *', 'UTC', FIELDS));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.cron');
    expect(error.message).toContain('minute');
    expect(refusal(() => parseCron('not a cron', 'UTC', FIELDS)).field).toBe('input.cron');
    expect(refusal(() => parseCron('', 'UTC', FIELDS)).field).toBe('input.cron');
  });

  it('refuses an unknown time zone naming the field', () => {
    const error = refusal(() => parseCron('0 * * * *', 'Mars/Olympus_Mons', FIELDS));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('input.timezone');
    expect(error.message).toContain('Mars/Olympus_Mons');
  });

  it('keeps a fixed local time across the spring-forward gap and runs it once in the repeated autumn hour (Europe/Berlin)', () => {
    const daily = parseCron('30 2 * * *', 'Europe/Berlin', FIELDS);
    // 2026-03-29 02:30 does not exist in Berlin (02:00 CET → 03:00 CEST): that day's run is at 03:00 CEST = 01:00Z.
    expect(iso(daily.next(new Date('2026-03-28T00:00:00Z'), 3))).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    // 2026-10-25 02:30 happens twice (CEST, then CET): it runs once.
    expect(iso(daily.next(new Date('2026-10-24T12:00:00Z'), 2))).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('runs an hourly schedule in both repeated autumn hours and skips none in spring (Europe/Berlin)', () => {
    const hourly = parseCron('0 * * * *', 'Europe/Berlin', FIELDS);
    // Local 02:00 CEST, 02:00 CET, 03:00 CET: three instants an hour apart.
    expect(iso(hourly.next(new Date('2026-10-24T23:30:00Z'), 3))).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
    // Local 01:00 CET, then 03:00 CEST (02:00 does not exist): still one hour apart in UTC.
    expect(iso(hourly.next(new Date('2026-03-28T23:30:00Z'), 2))).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
  });

  it('follows the zone, not the server (America/New_York, 09:00 on weekdays)', () => {
    const weekdays = parseCron('0 9 * * 1-5', 'America/New_York', FIELDS);
    // DST starts 2026-03-08 in New York: Friday 09:00 EST = 14:00Z, Monday 09:00 EDT = 13:00Z.
    expect(iso(weekdays.next(new Date('2026-03-06T00:00:00Z'), 2))).toEqual(['2026-03-06T14:00:00.000Z', '2026-03-09T13:00:00.000Z']);
  });

  it('accepts seconds (at most once a second) and nicknames', () => {
    expect(iso(parseCron('* * * * * *', 'UTC', FIELDS).next(new Date('2026-01-01T00:00:00.500Z'), 2))).toEqual(['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']);
    expect(iso(parseCron('@daily', 'UTC', FIELDS).next(new Date('2026-01-01T10:00:00Z'), 1))).toEqual(['2026-01-02T00:00:00.000Z']);
  });

  it('lists the ticks between two instants, the latest ones when there are many', () => {
    const everySecond = parseCron('* * * * * *', 'UTC', FIELDS);
    const from = new Date('2026-01-01T00:00:00Z');
    expect(everySecond.between(from, new Date('2026-01-01T00:00:03Z'), 10)).toEqual({ ticks: [0, 1, 2, 3].map((s) => new Date(from.getTime() + s * 1000)), total: 4 });
    const day = everySecond.between(from, new Date('2026-01-02T00:00:00Z'), 2);
    expect(iso(day.ticks)).toEqual(['2026-01-01T23:59:59.000Z', '2026-01-02T00:00:00.000Z']);
    expect(day.total).toBeGreaterThan(2);
  });
});

describe('which ticks a due schedule fires', () => {
  // A schedule at minute 30 of every hour, last handled at 05:30; the service comes back at 10:45.
  const hourly = parseCron('30 * * * *', 'UTC', FIELDS);
  const nextFireAt = new Date('2026-01-01T05:30:00Z');
  const now = new Date('2026-01-01T10:45:00Z');

  it('NONE drops every missed tick', () => {
    const plan = planFires(hourly, { nextFireAt, catchUp: 'NONE', catchUpLimit: 1 }, now, 5_000);
    expect(plan.fire).toEqual([]);
    expect(plan.dropped).toBe(6);
    expect(iso(plan.missed)).toEqual(['05:30', '06:30', '07:30', '08:30', '09:30', '10:30'].map((h) => `2026-01-01T${h}:00.000Z`));
    expect(plan.nextFireAt.toISOString()).toBe('2026-01-01T11:30:00.000Z');
  });

  it('LAST runs the latest missed tick once', () => {
    const plan = planFires(hourly, { nextFireAt, catchUp: 'LAST', catchUpLimit: 1 }, now, 5_000);
    expect(iso(plan.fire)).toEqual(['2026-01-01T10:30:00.000Z']);
    expect(plan.dropped).toBe(5);
    expect(iso(plan.missed)).toEqual(['05:30', '06:30', '07:30', '08:30', '09:30'].map((h) => `2026-01-01T${h}:00.000Z`));
  });

  it('ALL runs the latest catchUpLimit missed ticks, oldest first', () => {
    const plan = planFires(hourly, { nextFireAt, catchUp: 'ALL', catchUpLimit: 3 }, now, 5_000);
    expect(iso(plan.fire)).toEqual(['2026-01-01T08:30:00.000Z', '2026-01-01T09:30:00.000Z', '2026-01-01T10:30:00.000Z']);
    expect(plan.dropped).toBe(3);
    expect(iso(plan.missed)).toEqual(['2026-01-01T05:30:00.000Z', '2026-01-01T06:30:00.000Z', '2026-01-01T07:30:00.000Z']);
  });

  it('lists the latest missed ticks one by one, the oldest listed counting the earlier ones', () => {
    const everySecond = parseCron('* * * * * *', 'UTC', FIELDS);
    const policy = { nextFireAt: new Date('2026-01-01T10:00:00Z'), catchUp: 'NONE' as const, catchUpLimit: 1 };
    const plan = planFires(everySecond, policy, new Date('2026-01-01T10:01:00Z'), 5_000);
    // 10:00:00 … 10:00:54 are missed (55 ticks); 10:00:55 … 10:01:00 are within the grace and fire.
    expect(plan.fire).toHaveLength(6);
    expect(plan.dropped).toBe(55);
    expect(plan.missed).toHaveLength(MAX_MISSED_RECORDED);
    expect(plan.missed.at(-1)!.toISOString()).toBe('2026-01-01T10:00:54.000Z');
    const records = missedTicks(plan, policy, 5_000);
    expect(records[0]!.reason).toContain(`and ${55 - MAX_MISSED_RECORDED} earlier missed ticks from 2026-01-01T10:00:00.000Z on`);
    expect(records[1]!.reason).toBe('no orchestration process handled it within 5000 ms of its time (down or overloaded); catchUp NONE runs no missed tick');
  });

  it('fires a tick that is late by less than the grace whatever the policy', () => {
    const plan = planFires(hourly, { nextFireAt: new Date('2026-01-01T10:30:00Z'), catchUp: 'NONE', catchUpLimit: 1 }, new Date('2026-01-01T10:30:02Z'), 5_000);
    expect(iso(plan.fire)).toEqual(['2026-01-01T10:30:00.000Z']);
    expect(plan.dropped).toBe(0);
  });
});
