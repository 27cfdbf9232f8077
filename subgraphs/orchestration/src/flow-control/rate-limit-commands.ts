import { AppError, badInput, isUniqueViolation, isUuid, newId, notFound, recordAudit, type Principal } from '@orchestra/lib';
import { FLOW_LIMITS, RATE_LIMIT_NAME, RATE_LIMIT_PERIODS, type RateLimitPeriod } from '../domain/flow-control';
import { SERVICE, type Engine } from '../engine/engine';
import { countRateLimits, deleteRateLimit as deleteRateLimitRow, findRateLimit, insertRateLimit, largestUnitsOf, updateRateLimit as updateRateLimitRow, workflowsUsingRateLimit, type RateLimitRow } from '../store/rate-limits';

/**
 * An organization's named rate limits (issue 10): admins create, change and delete them; steps name
 * them (`rateLimits: [{ name, units }]`) and a task waits rather than start past one. Every change is
 * audited in its transaction.
 */

/** Rate limits an organization may have. */
export const MAX_RATE_LIMITS_PER_ORG = 100;

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

function checkName(raw: string, field: string): string {
  const name = raw.trim();
  if (!RATE_LIMIT_NAME.test(name)) throw badInput(field, `a rate limit name starts with a letter or digit and has at most 63 letters, digits and _ . : - (got "${raw.slice(0, 80)}")`, 'INVALID_RATE_LIMIT');
  return name;
}

function checkLimit(limit: number, field: string): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > FLOW_LIMITS.rateLimitLimit) {
    throw badInput(field, `limit must be an integer between 1 and ${FLOW_LIMITS.rateLimitLimit} (got ${limit})`, 'OUT_OF_RANGE');
  }
  return limit;
}

function checkPeriod(per: string, field: string): RateLimitPeriod {
  if (!Object.hasOwn(RATE_LIMIT_PERIODS, per)) throw badInput(field, `per is one of ${Object.keys(RATE_LIMIT_PERIODS).join(', ')} (got ${per})`, 'INVALID_PERIOD');
  return per as RateLimitPeriod;
}

export async function createRateLimit(engine: Engine, principal: Principal, input: { name: string; limit: number; per: string }): Promise<RateLimitRow> {
  const name = checkName(input.name, 'input.name');
  const limit = checkLimit(input.limit, 'input.limit');
  const period = checkPeriod(input.per, 'input.per');
  return engine.inTenant(principal, async (tx) => {
    if ((await countRateLimits(tx)) >= MAX_RATE_LIMITS_PER_ORG) {
      throw new AppError('CONFLICT', `an organization has at most ${MAX_RATE_LIMITS_PER_ORG} rate limits: delete one first`, { reason: 'TOO_MANY_RATE_LIMITS', field: 'input.name' });
    }
    let created: RateLimitRow;
    try {
      created = await insertRateLimit(tx, { id: newId(), orgId: principal.orgId as string, name, limit, period, createdBy: actorOf(principal) });
    } catch (error) {
      if (isUniqueViolation(error, 'rate_limits_name_unique')) throw new AppError('CONFLICT', `a rate limit named "${name}" already exists`, { reason: 'RATE_LIMIT_EXISTS', field: 'input.name' });
      throw error;
    }
    await recordAudit(tx, SERVICE, principal, { action: 'rate_limit.create', targetType: 'RateLimit', targetId: created.id, diff: { after: { name, limit, per: period } } });
    engine.log.info('rate limit created', { orgId: created.orgId, rateLimitId: created.id, name, limit, per: period, requestId: principal.requestId });
    return created;
  });
}

/**
 * Changes a limit's units or window. Refused when a workflow's latest version has a step that
 * consumes more units at once than the new limit allows (its tasks could never start).
 */
export async function updateRateLimit(engine: Engine, principal: Principal, id: string, input: { limit?: number | null; per?: string | null }): Promise<RateLimitRow> {
  if (!isUuid(id)) throw notFound('rate limit', id);
  const limit = input.limit === null || input.limit === undefined ? undefined : checkLimit(input.limit, 'input.limit');
  const period = input.per === null || input.per === undefined ? undefined : checkPeriod(input.per, 'input.per');
  return engine.inTenant(principal, async (tx) => {
    const before = await findRateLimit(tx, id);
    if (!before) throw notFound('rate limit', id);
    if (limit !== undefined) {
      const largest = await largestUnitsOf(tx, before.name);
      if (largest && largest.units > limit) {
        throw badInput('input.limit', `step "${largest.stepId}" of workflow "${largest.workflow}" consumes ${largest.units} units of "${before.name}" at once: the limit cannot go below that`, 'LIMIT_BELOW_UNITS');
      }
    }
    const after = (await updateRateLimitRow(tx, id, { ...(limit === undefined ? {} : { limit }), ...(period === undefined ? {} : { period }) })) as RateLimitRow;
    await recordAudit(tx, SERVICE, principal, {
      action: 'rate_limit.update',
      targetType: 'RateLimit',
      targetId: id,
      diff: { before: { limit: before.limit, per: before.period }, after: { limit: after.limit, per: after.period } },
    });
    engine.log.info('rate limit changed', { orgId: after.orgId, rateLimitId: id, name: after.name, limit: after.limit, per: after.period, requestId: principal.requestId });
    return after;
  });
}

/** Deletes a limit no workflow's latest version uses (steps of older runs that name it then fail with RATE_LIMIT_NOT_FOUND). */
export async function deleteRateLimit(engine: Engine, principal: Principal, id: string): Promise<RateLimitRow> {
  if (!isUuid(id)) throw notFound('rate limit', id);
  return engine.inTenant(principal, async (tx) => {
    const limit = await findRateLimit(tx, id);
    if (!limit) throw notFound('rate limit', id);
    const users = await workflowsUsingRateLimit(tx, limit.name);
    if (users.length > 0) {
      throw new AppError('CONFLICT', `rate limit "${limit.name}" is used by workflow${users.length === 1 ? '' : 's'} ${users.map((w) => `"${w}"`).join(', ')}: publish versions without it first`, {
        reason: 'RATE_LIMIT_IN_USE',
        details: { workflows: users },
      });
    }
    await deleteRateLimitRow(tx, id);
    await recordAudit(tx, SERVICE, principal, { action: 'rate_limit.delete', targetType: 'RateLimit', targetId: id, diff: { before: { name: limit.name, limit: limit.limit, per: limit.period } } });
    engine.log.info('rate limit deleted', { orgId: limit.orgId, rateLimitId: id, name: limit.name, requestId: principal.requestId });
    return limit;
  });
}
