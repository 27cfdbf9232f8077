import type { CronSchedule } from './cron';

export const SCHEDULE_OVERLAPS = ['SKIP', 'QUEUE', 'CANCEL_PREVIOUS'] as const;
/** What a tick does while a run the schedule started earlier has not ended. */
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAPS)[number];
export const SCHEDULE_CATCH_UPS = ['NONE', 'LAST', 'ALL'] as const;
/** What happens to ticks missed while no orchestration process ran (or all were stuck). */
export type ScheduleCatchUp = (typeof SCHEDULE_CATCH_UPS)[number];

/** Ticks one pass handles for one schedule, at most (a frequent schedule catches up over several passes). */
export const MAX_TICKS_PER_PASS = 100;

export interface FirePlan {
  /** Ticks to fire now, oldest first. */
  fire: Date[];
  /** Due ticks dropped: missed ones the catch-up policy does not run. */
  dropped: number;
  /** The next tick after the handled ones (the schedule's new next_fire_at). */
  nextFireAt: Date;
}

/**
 * The ticks a due schedule fires. Ticks in [nextFireAt, now] are due; those at most `graceMs` old
 * are on time and fire (a busy ticker is late by a little, never by a tick's worth of policy);
 * older ones were missed: NONE drops them, LAST fires the latest of them, ALL the latest `limit`.
 */
export function planFires(schedule: CronSchedule, policy: { nextFireAt: Date; catchUp: ScheduleCatchUp; catchUpLimit: number }, now: Date, graceMs: number): FirePlan {
  const { ticks, total } = schedule.between(policy.nextFireAt, now, MAX_TICKS_PER_PASS + policy.catchUpLimit);
  const graceEdge = now.getTime() - graceMs;
  const onTime = ticks.filter((t) => t.getTime() >= graceEdge).slice(-MAX_TICKS_PER_PASS);
  const missed = ticks.filter((t) => t.getTime() < graceEdge);
  const keep = policy.catchUp === 'NONE' ? 0 : policy.catchUp === 'LAST' ? 1 : policy.catchUpLimit;
  const caughtUp = keep === 0 ? [] : missed.slice(-keep);
  const fire = [...caughtUp, ...onTime];
  const next = schedule.next(now, 1)[0];
  return {
    fire,
    dropped: total - fire.length,
    // A pattern that never fires again (a year that has passed) parks the schedule far away.
    nextFireAt: next ?? new Date('9999-12-31T00:00:00Z'),
  };
}
