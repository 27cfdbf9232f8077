import { AppError, recordNotification, type Queryable } from '@orchestra/lib';
import { lockAdmissionKeys } from '../store/admission';
import { claimQuotaNotice, orgUsage, type OrgQuotaRow } from '../store/quotas';
import { effectiveQuotas, type QuotaDefaults } from './limits';

/**
 * The quotas a start of runs must fit (issue 10): runs started per minute, tasks waiting for a worker
 * in all (queuedTasks), and tasks of wait steps waiting at once (waitingTasks), per organization, as
 * operators set them (flow-limits) or the platform's defaults. A wait step's task (approval, event,
 * sleepUntil) is not queued work: it holds no slot and no queue place, so it counts toward
 * waitingTasks, not queuedTasks (docs/decisions.md). Checked when runs start; a run already going is
 * never cut off (a wait step it reaches later counts from then on, like a later step's queued task). Past
 * one, the start is refused with RATE_LIMITED, reason QUOTA_EXCEEDED, naming the quota — never a
 * silent drop. Starts of one organization are serialized on its quota lock (only when it has such a
 * quota) so concurrent start transactions, in any process, cannot both take the last place.
 */
export interface StartBudget {
  /** Takes one run with `queuedTasks` tasks queued and `waitingTasks` wait steps waiting at once; throws QUOTA_EXCEEDED (nothing taken) when it does not fit. */
  take(queuedTasks: number, waitingTasks: number): void;
}

export const quotaExceeded = (quota: string, limit: number, used: number, message: string): AppError =>
  new AppError('RATE_LIMITED', message, { reason: 'QUOTA_EXCEEDED', details: { quota, limit, used } });

/**
 * The budget of a start transaction of `orgId`; undefined when no quota applies (nothing to count):
 * waitingTasks (bounded by default) applies only to starts whose first steps include a wait step
 * (`startsWaits`), so other starts take no quota lock for it.
 */
export async function startBudget(
  tx: Queryable,
  orgId: string,
  defaults: QuotaDefaults,
  { startsWaits, quota }: { startsWaits: boolean; /** The organization's org_quotas row, read with the starts (lookupRunStarts). */ quota: OrgQuotaRow | undefined },
): Promise<StartBudget | undefined> {
  const quotas = effectiveQuotas(quota, defaults);
  const { runsStartedPerMinute: runsLimit, queuedTasks: queuedLimit } = quotas;
  const waitingLimit = startsWaits ? quotas.waitingTasks : null;
  if (runsLimit === null && queuedLimit === null && waitingLimit === null) return undefined;
  await lockAdmissionKeys(tx, [`quota:${orgId}`]);
  const usage = await orgUsage(tx, orgId);
  let runs = usage.runsStartedLastMinute;
  let queued = usage.queuedTasks;
  let waiting = usage.waitingTasks;
  return {
    take(queuedTasks, waitingTasks) {
      if (runsLimit !== null && runs + 1 > runsLimit) {
        throw quotaExceeded('runsStartedPerMinute', runsLimit, runs, `quota runsStartedPerMinute exceeded: the organization started ${runs} runs in the last minute, its quota is ${runsLimit} (platform operators set quotas)`);
      }
      if (queuedLimit !== null && queued + queuedTasks > queuedLimit) {
        throw quotaExceeded('queuedTasks', queuedLimit, queued, `quota queuedTasks exceeded: the organization has ${queued} tasks waiting to start, this run would queue ${queuedTasks} more, its quota is ${queuedLimit} (platform operators set quotas)`);
      }
      if (waitingLimit !== null && waitingTasks > 0 && waiting + waitingTasks > waitingLimit) {
        throw quotaExceeded(
          'waitingTasks',
          waitingLimit,
          waiting,
          `quota waitingTasks exceeded: the organization has ${waiting} wait steps waiting (approvals, events, sleeps), this run would start ${waitingTasks} more, its quota is ${waitingLimit} (platform operators set quotas)`,
        );
      }
      runs += 1;
      queued += queuedTasks;
      waiting += waitingTasks;
    },
  };
}

/** The refusal of a start by a quota (quotaExceeded), or undefined for any other error. */
export function quotaRefusalOf(error: unknown): { quota: string; limit: number; used: number; message: string } | undefined {
  if (!(error instanceof AppError) || error.reason !== 'QUOTA_EXCEEDED') return undefined;
  const { quota, limit, used } = error.details ?? {};
  if (typeof quota !== 'string' || typeof limit !== 'number' || typeof used !== 'number') return undefined;
  return { quota, limit, used, message: error.message };
}

/** A quota's refusals are announced to the organization's admins at most once per this window. */
export const QUOTA_NOTICE_WINDOW_MS = 60 * 60_000;

/**
 * Tells the organization's admins (quota.exceeded, through the notification outbox) that a quota
 * refused starts: once per quota per QUOTA_NOTICE_WINDOW_MS, however many calls it refused (a burst
 * of refused startRun calls is one notice). Call it with a transaction of `orgId` that commits;
 * `errors` may hold any errors, only quota refusals count. Resolves to the quotas announced.
 */
export async function noteQuotaRefusals(tx: Queryable, service: string, orgId: string, errors: readonly unknown[]): Promise<string[]> {
  const refusals = new Map<string, NonNullable<ReturnType<typeof quotaRefusalOf>>>();
  for (const error of errors) {
    const refusal = quotaRefusalOf(error);
    if (refusal && !refusals.has(refusal.quota)) refusals.set(refusal.quota, refusal);
  }
  const announced: string[] = [];
  for (const refusal of refusals.values()) {
    if (!(await claimQuotaNotice(tx, orgId, refusal.quota, QUOTA_NOTICE_WINDOW_MS))) continue;
    await recordNotification(tx, service, {
      type: 'quota.exceeded',
      orgId,
      data: { quota: refusal.quota, limit: refusal.limit, used: refusal.used, message: refusal.message.slice(0, 1000), quietMinutes: QUOTA_NOTICE_WINDOW_MS / 60_000 },
    });
    announced.push(refusal.quota);
  }
  return announced;
}
