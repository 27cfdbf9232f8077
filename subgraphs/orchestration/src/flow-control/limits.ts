import type { Queryable } from '@orchestra/lib';
import type { OrchestrationConfig } from '../config';
import { DEFAULT_POOL } from '../domain/workflow-definition';
import { findOrgQuota, listPoolGrants, type OrgQuotaRow } from '../store/quotas';

/** An organization's quotas as they apply (operator's value, else the platform default); null: no limit. */
export interface EffectiveQuotas {
  runningTasksPerPool: number | null;
  runsStartedPerMinute: number | null;
  queuedTasks: number | null;
  /** Tasks of wait steps waiting at once (they are not queued work). */
  waitingTasks: number | null;
  /** Its share of a pool's slots while several organizations wait. */
  weight: number;
}

export type QuotaDefaults = Pick<OrchestrationConfig, 'ORG_RUNNING_TASKS_PER_POOL' | 'ORG_RUNS_STARTED_PER_MINUTE' | 'ORG_QUEUED_TASKS' | 'ORG_WAITING_TASKS'>;

const orDefault = (set: number | null | undefined, fallback: number): number | null => (set !== null && set !== undefined ? set : fallback > 0 ? fallback : null);

export function effectiveQuotas(row: OrgQuotaRow | undefined, defaults: QuotaDefaults): EffectiveQuotas {
  return {
    runningTasksPerPool: orDefault(row?.runningTasksPerPool, defaults.ORG_RUNNING_TASKS_PER_POOL),
    runsStartedPerMinute: orDefault(row?.runsStartedPerMinute, defaults.ORG_RUNS_STARTED_PER_MINUTE),
    queuedTasks: orDefault(row?.queuedTasks, defaults.ORG_QUEUED_TASKS),
    waitingTasks: orDefault(row?.waitingTasks, defaults.ORG_WAITING_TASKS),
    weight: row?.weight ?? 1,
  };
}

export async function quotasOf(db: Queryable, orgId: string, defaults: QuotaDefaults): Promise<EffectiveQuotas> {
  return effectiveQuotas(await findOrgQuota(db, orgId), defaults);
}

/** Pools an organization's steps may use: the shared default pool and those granted to it. */
export async function poolsOf(db: Queryable, orgId: string): Promise<string[]> {
  return [DEFAULT_POOL, ...(await listPoolGrants(db, orgId)).map((g) => g.pool).filter((p) => p !== DEFAULT_POOL)];
}
