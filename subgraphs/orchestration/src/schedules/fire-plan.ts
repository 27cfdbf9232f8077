import type { CronSchedule } from './cron';

export const SCHEDULE_OVERLAPS = ['SKIP', 'QUEUE', 'CANCEL_PREVIOUS'] as const;
/** What a tick does while a run the schedule started earlier has not ended. */
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAPS)[number];
export const SCHEDULE_CATCH_UPS = ['NONE', 'LAST', 'ALL'] as const;
/** What happens to ticks missed while no orchestration process ran (or all were stuck). */
export type ScheduleCatchUp = (typeof SCHEDULE_CATCH_UPS)[number];

/** Ticks one pass handles for one schedule, at most (a frequent schedule catches up over several passes). */
export const MAX_TICKS_PER_PASS = 100;
/** Dropped ticks recorded one by one (MISSED) per pass, at most: the latest; the oldest of them counts the rest. */
export const MAX_MISSED_RECORDED = 20;

export interface FirePlan {
  /** Ticks to fire now, oldest first. */
  fire: Date[];
  /** Due ticks dropped: missed ones the catch-up policy does not run. */
  dropped: number;
  /** The latest dropped ticks (at most MAX_MISSED_RECORDED), oldest first: each is recorded as MISSED. */
  missed: Date[];
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
  const firing = new Set(fire.map((t) => t.getTime()));
  const next = schedule.next(now, 1)[0];
  return {
    fire,
    dropped: total - fire.length,
    missed: ticks.filter((t) => !firing.has(t.getTime())).slice(-MAX_MISSED_RECORDED),
    // A pattern that never fires again (a year that has passed) parks the schedule far away.
    nextFireAt: next ?? new Date('9999-12-31T00:00:00Z'),
  };
}

/** Why a dropped tick did not run, as recorded with it (MISSED). */
export function missedReason(policy: { catchUp: ScheduleCatchUp; catchUpLimit: number }, graceMs: number): string {
  const rule = policy.catchUp === 'NONE' ? 'catchUp NONE runs no missed tick' : policy.catchUp === 'LAST' ? 'catchUp LAST runs only the latest missed tick' : `catchUp ALL runs only the latest ${policy.catchUpLimit} missed ticks`;
  return `no orchestration process handled it within ${graceMs} ms of its time (down or overloaded); ${rule}`;
}

/**
 * The MISSED records of a plan: one per tick in `plan.missed`; when more ticks were dropped than
 * are listed, the oldest listed one also says how many earlier ones there were and since when.
 */
export function missedTicks(plan: Pick<FirePlan, 'missed' | 'dropped'>, policy: { nextFireAt: Date; catchUp: ScheduleCatchUp; catchUpLimit: number }, graceMs: number): Array<{ tickAt: Date; reason: string }> {
  const reason = missedReason(policy, graceMs);
  const earlier = plan.dropped - plan.missed.length;
  return plan.missed.map((tickAt, i) => ({
    tickAt,
    reason: i === 0 && earlier > 0 ? `${reason} (and ${earlier} earlier missed ticks from ${policy.nextFireAt.toISOString()} on, not listed one by one)` : reason,
  }));
}
