import { badInput, isUuid, newRequestId, recordAudit, servicePrincipal, withSystemTransaction, type Pool } from '@orchestra/lib';
import { DEFAULT_POOL, POOL_NAME } from '../domain/workflow-definition';
import { SERVICE } from '../engine/engine';
import { findOrgQuota, grantPool, listPoolGrants, orgUsage, revokePool, upsertOrgQuota, type OrgUsage } from '../store/quotas';
import { effectiveQuotas, type EffectiveQuotas, type QuotaDefaults } from './limits';

/**
 * What platform operators change for an organization (issue 10): its quotas and the pools it may
 * use. They are not members of the organization, so this runs with database access (the
 * `flow-limits` command, flow-control/limits-cli.ts), and every change is recorded in the
 * organization's audit trail as done by the operator.
 */

export const QUOTA_FIELDS = ['runningTasksPerPool', 'runsStartedPerMinute', 'queuedTasks', 'waitingTasks', 'weight'] as const;
export type QuotaField = (typeof QUOTA_FIELDS)[number];
const QUOTA_MAX: Record<QuotaField, number> = { runningTasksPerPool: 1_000_000, runsStartedPerMinute: 10_000_000, queuedTasks: 100_000_000, waitingTasks: 100_000_000, weight: 100 };

export interface OrgLimitsReport {
  orgId: string;
  /** As set by operators (null: the platform default). */
  set: Record<QuotaField, number | null>;
  effective: EffectiveQuotas;
  pools: string[];
  usage: OrgUsage;
}

function checkOrg(orgId: string): string {
  if (!isUuid(orgId)) throw badInput('orgId', `an organization id is a UUID (got "${orgId}")`, 'INVALID_ID');
  return orgId;
}

/** A quota change as given: a number in range, or null (back to the platform default). */
export function checkQuotaChange(change: Partial<Record<string, number | null>>): Partial<Record<QuotaField, number | null>> {
  const out: Partial<Record<QuotaField, number | null>> = {};
  for (const [key, value] of Object.entries(change)) {
    if (!(QUOTA_FIELDS as readonly string[]).includes(key)) throw badInput(key, `unknown quota "${key}" (known: ${QUOTA_FIELDS.join(', ')})`, 'UNKNOWN_QUOTA');
    const field = key as QuotaField;
    if (value === null || value === undefined) {
      out[field] = null;
      continue;
    }
    const min = field === 'weight' ? 1 : 0;
    if (!Number.isInteger(value) || value < min || value > QUOTA_MAX[field]) throw badInput(field, `${field} must be an integer between ${min} and ${QUOTA_MAX[field]} (got ${value})`, 'OUT_OF_RANGE');
    out[field] = value;
  }
  return out;
}

export async function describeOrgLimits(pool: Pool, config: QuotaDefaults, orgId: string): Promise<OrgLimitsReport> {
  checkOrg(orgId);
  return withSystemTransaction(pool, async (tx) => {
    const row = await findOrgQuota(tx, orgId);
    return {
      orgId,
      set: { runningTasksPerPool: row?.runningTasksPerPool ?? null, runsStartedPerMinute: row?.runsStartedPerMinute ?? null, queuedTasks: row?.queuedTasks ?? null, waitingTasks: row?.waitingTasks ?? null, weight: row?.weight ?? null },
      effective: effectiveQuotas(row, config),
      pools: [DEFAULT_POOL, ...(await listPoolGrants(tx, orgId)).map((g) => g.pool)],
      usage: await orgUsage(tx, orgId),
    };
  });
}

export async function setOrgQuotas(pool: Pool, config: QuotaDefaults, orgId: string, change: Partial<Record<string, number | null>>, operator: string): Promise<OrgLimitsReport> {
  checkOrg(orgId);
  const checked = checkQuotaChange(change);
  if (Object.keys(checked).length === 0) throw badInput('quotas', `give at least one of ${QUOTA_FIELDS.join(', ')}`, 'NOTHING_TO_CHANGE');
  await withSystemTransaction(pool, async (tx) => {
    const before = await findOrgQuota(tx, orgId);
    const after = await upsertOrgQuota(tx, orgId, checked, operator);
    const pick = (r: typeof before) => Object.fromEntries(QUOTA_FIELDS.map((f) => [f, r?.[f] ?? null]));
    await recordAudit(tx, SERVICE, servicePrincipal(SERVICE, newRequestId(), orgId), {
      action: 'org.quotas.update',
      targetType: 'Organization',
      targetId: orgId,
      orgId,
      diff: { before: pick(before), after: pick(after), by: `operator ${operator} (flow-limits)` },
    });
  });
  return describeOrgLimits(pool, config, orgId);
}

/** Grants (or revokes) a pool; resolves to whether anything changed. */
export async function changePoolGrant(pool: Pool, orgId: string, poolName: string, grant: boolean, operator: string): Promise<boolean> {
  checkOrg(orgId);
  if (!POOL_NAME.test(poolName)) throw badInput('pool', `pool "${poolName}" must be lowercase letters, digits, _ and - (at most 63)`, 'INVALID_POOL');
  if (poolName === DEFAULT_POOL) throw badInput('pool', `every organization may use the "${DEFAULT_POOL}" pool`, 'DEFAULT_POOL');
  return withSystemTransaction(pool, async (tx) => {
    const changed = grant ? await grantPool(tx, orgId, poolName, operator) : await revokePool(tx, orgId, poolName);
    if (changed) {
      await recordAudit(tx, SERVICE, servicePrincipal(SERVICE, newRequestId(), orgId), {
        action: grant ? 'org.pool.grant' : 'org.pool.revoke',
        targetType: 'Organization',
        targetId: orgId,
        orgId,
        diff: { pool: poolName, by: `operator ${operator} (flow-limits)` },
      });
    }
    return changed;
  });
}
