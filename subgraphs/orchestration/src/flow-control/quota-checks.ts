import { AppError, type Queryable } from '@orchestra/lib';
import { lockAdmissionKeys } from '../store/admission';
import { orgUsage } from '../store/quotas';
import { quotasOf, type QuotaDefaults } from './limits';

/**
 * The quotas a start of runs must fit (issue 10): runs started per minute and tasks waiting to start
 * in all, per organization, as operators set them (flow-limits) or the platform's defaults. Past
 * one, the start is refused with RATE_LIMITED, reason QUOTA_EXCEEDED, naming the quota — never a
 * silent drop. Starts of one organization are serialized on its quota lock (only when it has such a
 * quota) so concurrent start transactions, in any process, cannot both take the last place.
 */
export interface StartBudget {
  /** Takes one run with `queuedTasks` tasks queued at once; throws QUOTA_EXCEEDED (nothing taken) when it does not fit. */
  take(queuedTasks: number): void;
}

export const quotaExceeded = (quota: string, limit: number, used: number, message: string): AppError =>
  new AppError('RATE_LIMITED', message, { reason: 'QUOTA_EXCEEDED', details: { quota, limit, used } });

/** The budget of a start transaction of `orgId`; undefined when it has neither quota (nothing to count). */
export async function startBudget(tx: Queryable, orgId: string, defaults: QuotaDefaults): Promise<StartBudget | undefined> {
  const quotas = await quotasOf(tx, orgId, defaults);
  const { runsStartedPerMinute: runsLimit, queuedTasks: queuedLimit } = quotas;
  if (runsLimit === null && queuedLimit === null) return undefined;
  await lockAdmissionKeys(tx, [`quota:${orgId}`]);
  const usage = await orgUsage(tx, orgId);
  let runs = usage.runsStartedLastMinute;
  let queued = usage.queuedTasks;
  return {
    take(queuedTasks) {
      if (runsLimit !== null && runs + 1 > runsLimit) {
        throw quotaExceeded('runsStartedPerMinute', runsLimit, runs, `quota runsStartedPerMinute exceeded: the organization started ${runs} runs in the last minute, its quota is ${runsLimit} (platform operators set quotas)`);
      }
      if (queuedLimit !== null && queued + queuedTasks > queuedLimit) {
        throw quotaExceeded('queuedTasks', queuedLimit, queued, `quota queuedTasks exceeded: the organization has ${queued} tasks waiting to start, this run would queue ${queuedTasks} more, its quota is ${queuedLimit} (platform operators set quotas)`);
      }
      runs += 1;
      queued += queuedTasks;
    },
  };
}
